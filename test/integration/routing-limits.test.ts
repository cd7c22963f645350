// Cost-aware routing near the money (#14): graceful degradation to the light model near a cap under 50 concurrent
// calls (the cap still holds exactly), and the consented BYOK → managed fallback (only with consent, billed at the
// plan's overage rate per token with no monthly fee, marked on the meter event and the bill, alerted).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { monthOf } from '../../server/metering/pricing';

const HARD = 'Compare the regulatory approaches to AI in the EU, the US and China: scope, enforcement, risk categories, and recommend a strategy for a startup with the trade-offs.';
const POOL_KEY_OPENAI = 'sk-platform-pool-openai-routing';
const POOL_KEY_ANTHROPIC = 'sk-ant-platform-pool-routing';

async function meterEvents(platform: TestPlatform, agentId: string) {
  await platform.platform.meter.drain();
  return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).sort({ timestamp: 1 }).lean();
}

const rollupOf = (platform: TestPlatform, agentId: string) =>
  platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month: monthOf(new Date()) });

async function alertsOf(platform: TestPlatform, user: TestUser, agentId: string) {
  const response = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/alerts`, { token: user.token });
  return (response.body as Array<{ type: string; agentId: string; message: string }>).filter((alert) => alert.agentId === agentId);
}

describe('routing near the limits: degradation and consented fallback', function () {
  this.timeout(120_000);

  describe('graceful degradation', () => {
    let simulator: SimulatorHandle;
    let platform: TestPlatform;
    let catalogDir: string;

    before(async () => {
      // Slow answers keep the 50 calls in flight together, so they all reach the reservation before any settles.
      simulator = await startProviderSimulator({ latencyMs: 300 });
      catalogDir = fs.mkdtempSync(path.join(os.tmpdir(), 'routing-catalog-'));
      const catalogFile = path.join(catalogDir, 'catalog.json');
      fs.writeFileSync(catalogFile, JSON.stringify({ plans: [{ id: 'pro', routing: 'quality' }] }));
      platform = await startTestPlatform({ simulator, env: { CATALOG_FILE: catalogFile } });
    });
    after(async () => {
      await platform?.stop();
      await simulator?.close();
      fs.rmSync(catalogDir, { recursive: true, force: true });
    });

    it('near its token cap a managed agent moves to its light model; under 50 concurrent calls the cap holds exactly, each step on the meter event, one alert', async () => {
      const owner = await registerUser(platform.url);
      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
      const key = await createAgentApiKey(platform.url, owner, agent.id);
      const call = (content: string) =>
        api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content }], max_tokens: 40 } });
      // A large first call (no limit yet, so no degradation): the month has enough tokens for a cap a few calls above them.
      const probe = await call(`${HARD}\n\n${'Background: the startup sells HR software to mid-sized companies in twelve countries. '.repeat(200)}`);
      expect(probe.status).to.equal(200);
      expect(probe.headers.get('x-agent-host-routing')).to.match(/^strong;/);
      await platform.platform.meter.drain();
      const used = (await rollupOf(platform, agent.id))!.tokens as number;
      const cap = Math.ceil(used / 0.8); // exactly at the degradation threshold
      const setCap = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyTokenCap: cap } } });
      expect(setCap.status).to.equal(200);
      const degrade = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/routing`, { token: owner.token, body: { degrade: true } });
      expect(degrade.body.routing).to.include({ degrade: true });

      const responses = await Promise.all(Array.from({ length: 50 }, () => call(HARD)));
      const admitted = responses.filter((response) => response.status === 200);
      const refused = responses.filter((response) => response.status === 429 && response.body.error.code === 'PLAN_LIMIT_REACHED');
      expect(admitted.length + refused.length, 'every call admitted or refused at the cap').to.equal(50);
      expect(admitted.length).to.be.at.least(1);
      expect(refused.length).to.be.at.least(1);
      for (const response of admitted) expect(response.headers.get('x-agent-host-routing')).to.match(/^light; score=[\d.]+; reason=near_limit$/);

      const events = (await meterEvents(platform, agent.id)).slice(1);
      expect(events).to.have.length(admitted.length);
      for (const event of events) {
        expect(event).to.include({ provider: 'groq', model: 'llama-3.1-8b-instant', degraded: 'light_model' });
        expect(event.routing).to.include({ tier: 'light', reason: 'near_limit' });
      }
      const rollup = (await rollupOf(platform, agent.id))!;
      expect(rollup.tokens, `the cap (${cap}) holds`).to.be.at.most(cap);
      expect(rollup.tokens).to.equal(used + events.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0));
      expect(rollup.reservedTokens).to.equal(0);
      expect(rollup.routing.degradedRequests).to.equal(admitted.length);
      const alerts = await alertsOf(platform, owner, agent.id);
      expect(alerts.filter((alert) => alert.type === 'routing_degraded')).to.have.length(1);
    });

    it('near its BYOK budget an agent moves to its light model (same key); without opting in it stays on the main model', async () => {
      const owner = await registerUser(platform.url);
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-degrade-budget-01' });
      const agentPath = `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`;
      expect((await api(platform.url, 'PUT', `${agentPath}/llm/light`, { token: owner.token, body: { provider: 'openai', model: 'gpt-4o-mini' } })).status).to.equal(200);
      const key = await createAgentApiKey(platform.url, owner, agent.id);
      const call = () => api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: HARD }], max_tokens: 40 } });
      for (let index = 0; index < 5; index += 1) expect((await call()).status).to.equal(200);
      await platform.platform.meter.drain();
      const spent = (await rollupOf(platform, agent.id))!.costTotalMicros as number;
      // 82 % of the budget spent by five calls: near the limit, with room left for one more main-model call.
      const budgetMicros = Math.ceil(spent / 0.82);
      expect((await api(platform.url, 'PATCH', agentPath, { token: owner.token, body: { limits: { monthlyBudgetUsd: budgetMicros / 1e6 } } })).status).to.equal(200);
      const notOptedIn = await call();
      expect(notOptedIn.status).to.equal(200);
      expect(notOptedIn.headers.get('x-agent-host-routing'), 'degradation is opt-in').to.equal(null);
      expect((await api(platform.url, 'PUT', `${agentPath}/routing`, { token: owner.token, body: { degrade: true } })).status).to.equal(200);
      const degraded = await call();
      expect(degraded.status).to.equal(200);
      expect(degraded.headers.get('x-agent-host-routing')).to.match(/^light; .*reason=near_limit$/);
      const events = await meterEvents(platform, agent.id);
      expect(events.map((event) => [event.model, event.degraded ?? null])).to.deep.equal([
        ...Array.from({ length: 6 }, () => ['gpt-4o', null]),
        ['gpt-4o-mini', 'light_model'],
      ]);
    });
  });

  describe('consented fallback BYOK → managed', () => {
    let platform: TestPlatform;
    let owner: TestUser;

    before(async () => {
      // Pro runs on pooled platform keys pointed at the simulator (no sandbox), so platform-key use is countable.
      platform = await startTestPlatform({ env: { OPENAI_POOL_KEYS: POOL_KEY_OPENAI, ANTHROPIC_POOL_KEYS: POOL_KEY_ANTHROPIC } });
      owner = await registerUser(platform.url);
    });
    after(async () => platform?.stop());
    afterEach(() => platform.simulator.faults.clear());

    const chat = (user: TestUser, agentId: string) =>
      api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/chat`, { token: user.token, body: { messages: [{ role: 'user', content: 'What are your opening hours?' }] } });

    async function consentingAgent(apiKey: string, plan = 'pro') {
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey });
      const consent = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/routing`, { token: owner.token, body: { fallbackPlan: plan } });
      expect(consent.status, consent.text).to.equal(200);
      expect(consent.body.routing.fallbackPlan).to.equal(plan);
      return agent;
    }

    it('a rejected key answers from the chosen plan on platform keys, billed per token at its overage rate (no fee), marked fallback, alerted; the next call skips the dead key', async () => {
      const badKey = 'sk-test-invalid-fallback-01';
      const agent = await consentingAgent(badKey);
      const poolBefore = platform.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI });
      const first = await chat(owner, agent.id);
      expect(first.status, first.text).to.equal(200);
      expect(first.headers.get('x-agent-host-fallback')).to.equal('pro');
      expect(first.body).to.include({ fallbackPlan: 'pro', provider: 'openai', model: 'gpt-4o-mini' });
      expect(platform.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI }) - poolBefore).to.equal(1);
      const badKeyCalls = platform.simulator.requestCount('openai', { apiKey: badKey });
      expect(badKeyCalls).to.equal(1);

      const reloaded = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token });
      expect(reloaded.body.llm.key.status).to.equal('invalid');
      const second = await chat(owner, agent.id);
      expect(second.status).to.equal(200);
      expect(second.headers.get('x-agent-host-fallback')).to.equal('pro');
      expect(platform.simulator.requestCount('openai', { apiKey: badKey }), 'a key known to be rejected is not tried again').to.equal(badKeyCalls);

      const events = await meterEvents(platform, agent.id);
      expect(events).to.have.length(2);
      for (const event of events) {
        expect(event).to.include({ fallback: true, mode: 'byok', plan: 'pro', tier: 'standard', provider: 'openai', model: 'gpt-4o-mini' });
        expect(event.credential).to.match(/^pool:/);
        const tokens = event.tokensInput + event.tokensOutput;
        expect(event.overageTokens).to.equal(tokens);
        expect(event.priceTotalMicros, "Pro's overage rate: $3 per 1M tokens = 3 µ$ a token").to.equal(tokens * 3);
        expect(event.priceSnapshot).to.include({ overageUsdPerMillion: 3, includedTokens: 0 });
      }
      const priced = events.reduce((total, event) => total + event.priceTotalMicros, 0);
      const usage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage`, { token: owner.token });
      const row = usage.body.agents.find((candidate: any) => candidate.agentId === agent.id);
      expect(row).to.include({ mode: 'byok', planFeeUsd: 0, overageUsd: priced / 1e6 });
      expect(row.routing).to.include({ fallbackRequests: 2, fallbackTokens: events.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0) });
      const alerts = await alertsOf(platform, owner, agent.id);
      expect(alerts.map((alert) => alert.type).sort()).to.deep.equal(['byok_fallback', 'key_invalid']);
      expect(alerts.find((alert) => alert.type === 'byok_fallback')!.message).to.include('answered from the Pro plan because its own API key was rejected');
    });

    it('an exhausted quota and a persistent rate limit fall back too; another failure (a bad request) does not', async () => {
      const noQuota = await consentingAgent('sk-test-noquota-fallback', 'starter');
      const quota = await chat(owner, noQuota.id);
      expect(quota.status).to.equal(200);
      expect(quota.headers.get('x-agent-host-fallback')).to.equal('starter');
      const [quotaEvent] = await meterEvents(platform, noQuota.id);
      expect(quotaEvent).to.include({ fallback: true, plan: 'starter' });
      expect(quotaEvent!.priceTotalMicros).to.equal((quotaEvent!.tokensInput + quotaEvent!.tokensOutput) * 2);

      const limitedKey = 'sk-test-ratelimited-fallback';
      const limited = await consentingAgent(limitedKey);
      platform.simulator.faults.script('openai', Array.from({ length: 6 }, () => ({ status: 429, retryAfterSeconds: 60 })), { apiKey: limitedKey });
      const rateLimited = await chat(owner, limited.id);
      expect(rateLimited.status).to.equal(200);
      expect(rateLimited.headers.get('x-agent-host-fallback')).to.equal('pro');

      const badRequestKey = 'sk-test-badrequest-fallback';
      const badRequest = await consentingAgent(badRequestKey);
      platform.simulator.faults.script('openai', [{ status: 400 }], { apiKey: badRequestKey });
      const refused = await chat(owner, badRequest.id);
      expect(refused.status).to.equal(400);
      expect(refused.body.error.code).to.equal('PROVIDER_BAD_REQUEST');
      expect(await meterEvents(platform, badRequest.id)).to.have.length(0);
    });

    it('without consent a BYOK agent never touches a platform key (off by default)', async () => {
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-invalid-noconsent' });
      expect(agent.routing.fallbackPlan).to.equal(null);
      const before = platform.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI }) + platform.simulator.requestCount('anthropic', { apiKey: POOL_KEY_ANTHROPIC });
      const response = await chat(owner, agent.id);
      expect(response.status).to.equal(424);
      expect(response.body.error.code).to.equal('PROVIDER_KEY_INVALID');
      expect(platform.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI }) + platform.simulator.requestCount('anthropic', { apiKey: POOL_KEY_ANTHROPIC })).to.equal(before);
      expect(await meterEvents(platform, agent.id)).to.have.length(0);
    });
  });
});
