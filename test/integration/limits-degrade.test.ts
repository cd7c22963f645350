// Limits that degrade instead of refusing early: near a token cap, an overage budget or a BYOK budget a call's output
// budget is clamped to the room left (and marked on its meter event); only a call left with less than the useful
// minimum is refused; the limit raises its alert; bad limit values are a 400 that changes nothing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { MIN_USEFUL_OUTPUT_TOKENS } from '../../server/metering/limits.service';
import { monthOf } from '../../server/metering/pricing';
import defaultCatalog from '../../server/catalog/default-catalog.json';

const PRO_INCLUDED = 5_000;

function writeSmallAllowanceCatalog(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-')), 'catalog.json');
  fs.writeFileSync(file, JSON.stringify({ plans: [{ ...defaultCatalog.plans[1], includedTokens: PRO_INCLUDED }] }));
  return file;
}

describe('limits that degrade gracefully', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let owner: TestUser;
  const month = monthOf(new Date());

  before(async () => {
    platform = await startTestPlatform({ env: { CATALOG_FILE: writeSmallAllowanceCatalog() } });
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());

  const call = (key: string, content: string, maxTokens?: number) =>
    api(platform.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: 'agent', messages: [{ role: 'user', content }], ...(maxTokens === undefined ? {} : { max_tokens: maxTokens }) },
    });
  const patchLimits = (agentId: string, limits: Record<string, unknown>) =>
    api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agentId}`, { token: owner.token, body: { limits } });
  const rollupOf = (agentId: string) => platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month });
  const alertTypesOf = async (agentId: string, wanted: string) => {
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 25))) {
      const alerts = (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alerts`, { token: owner.token })).body as Array<{ type: string; agentId: string }>;
      const types = alerts.filter((alert) => alert.agentId === agentId).map((alert) => alert.type);
      if (types.includes(wanted)) return types;
    }
    return [];
  };
  const sentMaxTokens = () => {
    const body = platform.simulator.lastRequest('openai')!.body as { max_tokens?: number; max_completion_tokens?: number };
    return body.max_completion_tokens ?? body.max_tokens;
  };

  it('a call near a token cap gets its output clamped to the room left, marked "clamped", and the cap raises its alert', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const probe = await call(key, 'near the cap');
    expect(probe.status).to.equal(200);
    await platform.platform.meter.drain();
    const used = probe.body.usage.total_tokens as number;
    const prompt = probe.body.usage.prompt_tokens as number;
    // Room for 100 output tokens after the same prompt: far less than the default 1,024 the call would reserve.
    expect((await patchLimits(agent.id, { monthlyTokenCap: used + prompt + 100 })).status).to.equal(200);

    const clamped = await call(key, 'near the cap');
    expect(clamped.status).to.equal(200);
    // The room left after the prompt as the server counts it (never below the provider's count, a few tokens above).
    expect(sentMaxTokens(), 'the provider was asked for the room left').to.be.at.most(100).and.at.least(90);
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).sort({ timestamp: 1 }).lean();
    expect(events.map((event) => event.degraded ?? null)).to.deep.equal([null, 'clamped']);
    const rollup = (await rollupOf(agent.id))!;
    expect(rollup.tokens).to.be.at.most(used + prompt + 100);
    expect(rollup.reservedTokens).to.equal(0);
    expect(await alertTypesOf(agent.id, 'cap_reached')).to.include('cap_reached');
  });

  it('a 3,000-token cap admits small back-to-back calls until less than the useful minimum is left, then refuses', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    expect((await patchLimits(agent.id, { monthlyTokenCap: 3_000 })).status).to.equal(200);
    let refused;
    let prompt = 0;
    // Back to back, without waiting for the meter: a finished call's unused reservation is given back when it ends.
    for (let attempt = 0; attempt < 200 && !refused; attempt += 1) {
      const response = await call(key, 'a small question');
      if (response.status === 200) prompt = response.body.usage.prompt_tokens;
      else refused = response;
    }
    await platform.platform.meter.drain();
    expect(refused, 'the cap must end in a refusal').to.not.equal(undefined);
    expect(refused!.status).to.equal(429);
    expect(refused!.body.error.code).to.equal('PLAN_LIMIT_REACHED');
    const rollup = (await rollupOf(agent.id))!;
    // Today's rule refused at 936 tokens; now the month is used up to the last useful answer, and never past the cap.
    expect(rollup.tokens).to.be.at.most(3_000);
    expect(rollup.tokens, 'refused only below the minimum').to.be.above(3_000 - prompt - MIN_USEFUL_OUTPUT_TOKENS);
    expect(rollup.reservedTokens).to.equal(0);
    // A call asking for less than the minimum still fits when its own output fits.
    const room = 3_000 - (rollup.tokens as number) - prompt;
    if (room >= 1) {
      const tiny = await call(key, 'a small question', Math.min(room, MIN_USEFUL_OUTPUT_TOKENS - 1));
      expect(tiny.status).to.equal(200);
      await platform.platform.meter.drain();
      expect(((await rollupOf(agent.id))!.tokens as number)).to.be.at.most(3_000);
    }
  });

  it('a managed overage budget in dollars: the overage billed never passes it, and reaching it alerts', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    // Pro here: 5,000 included tokens, then $3 per 1M = 3 µ$ per token. $0.0003 pays for 100 overage tokens.
    const patched = await patchLimits(agent.id, { monthlyOverageBudgetUsd: 0.0003 });
    expect(patched.status).to.equal(200);
    expect(patched.body.limits.monthlyOverageBudgetUsd).to.equal(0.0003);
    let refused;
    for (let attempt = 0; attempt < 400 && !refused; attempt += 1) {
      const response = await call(key, 'spend the allowance then the overage budget', 200);
      await platform.platform.meter.drain();
      if (response.status !== 200) refused = response;
    }
    expect(refused?.status).to.equal(429);
    expect(refused!.body.error.code).to.equal('PLAN_LIMIT_REACHED');
    const rollup = (await rollupOf(agent.id))!;
    expect(rollup.tokens).to.be.above(PRO_INCLUDED);
    expect(rollup.priceTotalMicros, 'overage billed').to.be.at.most(300).and.above(0);
    expect(await alertTypesOf(agent.id, 'overage_budget_reached')).to.include('overage_budget_reached');
  });

  it('a BYOK budget is held exactly: calls are clamped to what the money left pays for', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-degrade-budget' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    expect((await patchLimits(agent.id, { monthlyBudgetUsd: 0.003 })).status).to.equal(200);
    let refused;
    for (let attempt = 0; attempt < 100 && !refused; attempt += 1) {
      const response = await call(key, 'spend a little');
      await platform.platform.meter.drain();
      if (response.status !== 200) refused = response;
    }
    expect(refused?.body.error.code).to.equal('PLAN_LIMIT_REACHED');
    const rollup = (await rollupOf(agent.id))!;
    expect(rollup.costTotalMicros).to.be.at.most(3_000);
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    expect(events.some((event) => event.degraded === 'clamped'), 'the last calls were clamped').to.equal(true);
    expect(await alertTypesOf(agent.id, 'budget_reached')).to.include('budget_reached');
  });

  it('negative, NaN, absurdly small or wrongly typed caps and budgets are a 400 with a stable code; nothing changes', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    expect((await patchLimits(agent.id, { monthlyTokenCap: 10_000, monthlyOverageBudgetUsd: 5 })).status).to.equal(200);
    const before = (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token })).body;
    const bad: Array<Record<string, unknown>> = [
      { monthlyTokenCap: -1 },
      { monthlyTokenCap: 1e-9 },
      { monthlyTokenCap: 0 },
      { monthlyTokenCap: 12.5 },
      { monthlyTokenCap: '100' },
      { monthlyBudgetUsd: -1 },
      { monthlyBudgetUsd: 1e-9 },
      { monthlyOverageBudgetUsd: -0.5 },
      { monthlyOverageBudgetUsd: 1e-9 },
      { monthlyOverageBudgetUsd: 1e12 },
      { monthlyOverageBudgetUsd: 'ten' },
      // A good field beside a bad one: the good one is not applied either.
      { monthlyTokenCap: 20_000, monthlyOverageBudgetUsd: 1e-9 },
    ];
    for (const limits of bad) {
      const response = await patchLimits(agent.id, limits);
      expect(response.status, JSON.stringify(limits)).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    }
    const nan = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, rawBody: '{"limits":{"monthlyOverageBudgetUsd":NaN}}' });
    expect(nan.status).to.equal(400);
    expect(nan.body.error.code).to.equal('INVALID_JSON');
    const after = (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token })).body;
    expect(after.limits).to.deep.equal(before.limits);
    expect(after.limits).to.deep.equal({ monthlyTokenCap: 10_000, monthlyBudgetUsd: null, monthlyOverageBudgetUsd: 5 });
    // 0 is a meaningful overage budget (no overage at all) and null removes it.
    expect((await patchLimits(agent.id, { monthlyOverageBudgetUsd: 0 })).body.limits.monthlyOverageBudgetUsd).to.equal(0);
    expect((await patchLimits(agent.id, { monthlyOverageBudgetUsd: null })).body.limits.monthlyOverageBudgetUsd).to.equal(null);
  });
});
