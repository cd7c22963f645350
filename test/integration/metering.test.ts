// The meter's invariants under concurrency, against the simulator: exact events, rollups, overage split, idempotency, durability, limits.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { getTestMongoUri } from '../support/test-database';
import { startFaultProxy, type FaultProxy } from '../support/tcp-fault-proxy';
import { startProviderSimulator } from '../../server/llm/simulator';
import { monthOf } from '../../server/metering/pricing';
import defaultCatalog from '../../server/catalog/default-catalog.json';
import { reconcileUsage } from '../../server/metering/usage-reconcile.service';
import { MeterService } from '../../server/metering/meter.service';
import type { MeterEventInput } from '../../server/metering/meter.types';
import { meterEventFixture } from '../support/meter-events';

const SMALL_ALLOWANCES = { starter: 3_000, pro: 5_000 };

function writeSmallAllowanceCatalog(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-')), 'catalog.json');
  fs.writeFileSync(
    file,
    JSON.stringify({
      plans: [
        { ...defaultCatalog.plans[0], includedTokens: SMALL_ALLOWANCES.starter },
        { ...defaultCatalog.plans[1], includedTokens: SMALL_ALLOWANCES.pro },
      ],
    }),
  );
  return file;
}

async function callV1(url: string, key: string, content: string, maxTokens = 40) {
  return api(url, 'POST', '/v1/chat/completions', {
    headers: { authorization: `Bearer ${key}` },
    body: { model: 'agent', messages: [{ role: 'user', content }], max_tokens: maxTokens },
  });
}

async function checkInvariants(platform: TestPlatform, agentIds: string[], month: string) {
  const { models, catalog } = platform.platform;
  for (const agentId of agentIds) {
    const events = await models.MeterEvent.find({ agentId: new Types.ObjectId(agentId), month }).lean();
    const rollup = await models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month });
    const sum = (pick: (event: (typeof events)[number]) => number) => events.reduce((total, event) => total + pick(event), 0);
    expect(rollup, `rollup of ${agentId}`).to.not.equal(null);
    expect(rollup!.tokens).to.equal(sum((event) => event.tokensInput + event.tokensOutput));
    expect(rollup!.tokensInput).to.equal(sum((event) => event.tokensInput));
    expect(rollup!.tokensOutput).to.equal(sum((event) => event.tokensOutput));
    expect(rollup!.costTotalMicros).to.equal(sum((event) => event.costTotalMicros));
    expect(rollup!.priceTotalMicros ?? 0).to.equal(sum((event) => event.priceTotalMicros));
    expect(rollup!.requests).to.equal(events.length);
    expect(rollup!.reservedTokens ?? 0).to.equal(0);
    const agent = await models.Agent.findById(agentId).lean();
    if (agent!.llm.mode === 'managed') {
      const plan = catalog.getPlan(agent!.llm.plan!);
      const total = rollup!.tokens as number;
      const expectedOverage = Math.max(0, total - plan.includedTokens);
      expect(sum((event) => event.overageTokens)).to.equal(expectedOverage);
      expect(sum((event) => event.priceTotalMicros)).to.equal(expectedOverage * plan.overageUsdPerMillion);
      // At most one call straddles the allowance, and it is split exactly.
      const straddling = events.filter((event) => event.overageTokens > 0 && event.overageTokens < event.tokensInput + event.tokensOutput);
      expect(straddling.length).to.be.at.most(1);
    } else {
      expect(sum((event) => event.priceTotalMicros)).to.equal(0);
    }
    // Every event prices tokens with the catalog price snapshot it carries.
    for (const event of events) {
      expect(event.costInputMicros).to.equal(Math.round((event.tokensInput * Math.round(event.priceSnapshot.inputUsdPerMillion * 1e6)) / 1e6));
    }
  }
}

describe('token meter', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let owner: TestUser;
  const month = monthOf(new Date());

  /** A plain successful meter event for `agentId` in the owner's workspace (the n-th, for a unique request id). */
  const meterEvent = (agentId: string, n: number, overrides: Partial<MeterEventInput> = {}): MeterEventInput =>
    meterEventFixture({ requestId: `req_meter_${agentId}_${n}`, agentId, workspaceId: owner.workspace.id, ...overrides });
  const writtenFor = (agentId: string) => platform.platform.models.MeterEvent.countDocuments({ agentId: new Types.ObjectId(agentId) });
  const waitForWritten = async (agentId: string, count: number, withinMs: number) => {
    const started = Date.now();
    while ((await writtenFor(agentId)) < count) {
      if (Date.now() - started > withinMs) throw new Error(`${count} events not written within ${withinMs} ms (${await writtenFor(agentId)} are)`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  before(async () => {
    platform = await startTestPlatform({ env: { CATALOG_FILE: writeSmallAllowanceCatalog() } });
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());

  it('500 concurrent calls over several agents: one event per call, rollups = Σ events, Σ price = overage formula', async () => {
    const agents = [
      await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }),
      await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' }),
      await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' }),
      await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-meter-byok-key' }),
    ];
    const keys = await Promise.all(agents.map((agent) => createAgentApiKey(platform.url, owner, agent.id)));
    const responses = await Promise.all(Array.from({ length: 500 }, (_, index) => callV1(platform.url, keys[index % keys.length]!, `question number ${index} about opening hours`)));
    expect(responses.map((response) => response.status).filter((status) => status !== 200)).to.deep.equal([]);
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.countDocuments({ workspaceId: new Types.ObjectId(owner.workspace.id) });
    expect(events).to.equal(500);
    await checkInvariants(platform, agents.map((agent) => agent.id), month);

    // Usage API: the workspace totals are the sum of the rows; amount due = plan fees of managed agents + overage.
    const usage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage`, { token: owner.token });
    expect(usage.status).to.equal(200);
    const rows = usage.body.agents as Array<Record<string, number | string>>;
    expect(rows).to.have.length(4);
    const managedFees = 5 + 10 + 10;
    expect(usage.body.totals.planFeesUsd).to.equal(managedFees);
    const overage = rows.reduce((total, row) => total + Math.round((row.overageUsd as number) * 1e6), 0);
    expect(Math.round(usage.body.totals.overageUsd * 1e6)).to.equal(overage);
    expect(Math.round(usage.body.totals.amountDueUsd * 1e6)).to.equal(managedFees * 1e6 + overage);
    const starterRow = rows.find((row) => row.agentId === agents[0].id)!;
    expect(starterRow.includedTokens).to.equal(SMALL_ALLOWANCES.starter);
    expect(starterRow.overageTokens).to.equal(Math.max(0, (starterRow.tokens as number) - SMALL_ALLOWANCES.starter));
    const byokRow = rows.find((row) => row.agentId === agents[3].id)!;
    expect(byokRow.mode).to.equal('byok');
    expect(byokRow.costUsd).to.be.greaterThan(0);
    expect(byokRow.planFeeUsd).to.equal(0);
    expect(usage.body.totals.requests).to.equal(500);

    // Crossing the allowance raised the 80% and 100% alerts once each.
    const alerts = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alerts`, { token: owner.token });
    const starterAlerts = (alerts.body as Array<{ type: string; agentId: string }>).filter((alert) => alert.agentId === agents[0].id);
    expect(starterAlerts.map((alert) => alert.type).sort()).to.deep.equal(['allowance_100', 'allowance_80']);

    // The agent view has daily and per-model breakdowns from the rollup.
    const agentUsage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agents[0].id}/usage`, { token: owner.token });
    expect(agentUsage.body.daily).to.have.length(1);
    expect(agentUsage.body.daily[0].requests).to.equal(125);
    // A managed plan's models stay the platform's business (#18); an own-key agent sees its model.
    expect(agentUsage.body.byModel).to.deep.equal([]);
    const byokUsage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agents[3].id}/usage`, { token: owner.token });
    expect(byokUsage.body.byModel[0]).to.include({ provider: 'openai', model: 'gpt-4o-mini' });

    // CSV export: a header and one row per event.
    const csv = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage/export.csv?month=${month}`, { token: owner.token });
    expect(csv.headers.get('content-type')).to.contain('text/csv');
    expect(csv.text.trim().split('\n')).to.have.length(501);
  });

  it('writes the first event after a quiet interval at once, gathers the next ones into one batch, and drain() does not wait', async () => {
    const intervalMs = 5_000;
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { flushIntervalMs: intervalMs });
    const batches: number[] = [];
    meter.onRollupsChanged((changes) => batches.push(changes.length));
    const agentId = new Types.ObjectId().toString();
    const event = (n: number) => meterEvent(agentId, n);
    const written = () => writtenFor(agentId);
    const waitForCount = (count: number, withinMs: number) => waitForWritten(agentId, count, withinMs);
    const started = Date.now();
    meter.record(event(0));
    await waitForCount(1, intervalMs / 2);
    expect(Date.now() - started).to.be.below(intervalMs / 2);

    // Inside the interval: held, then written together.
    for (let n = 1; n <= 5; n += 1) meter.record(event(n));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await written()).to.equal(1);
    const drainStarted = Date.now();
    expect(await meter.drain()).to.equal(true);
    expect(Date.now() - drainStarted, 'drain() writes at once instead of waiting out the interval').to.be.below(intervalMs / 2);
    expect(await written()).to.equal(6);
    expect(batches).to.deep.equal([1, 1]);
    const rollup = await platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month });
    expect(rollup!.requests).to.equal(6);
    expect(rollup!.tokens).to.equal(6 * 15);
    await meter.stop();
  });

  it('after a large batch waits the busy interval before the next one, and goes back to the short interval after a small one', async () => {
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { flushIntervalMs: 50, busyFlushIntervalMs: 4_000, busyBatchEvents: 5 });
    let batches = 0;
    const agentId = new Types.ObjectId().toString();
    let next = 0;
    const record = () => meter.record(meterEvent(agentId, next++, { mode: 'byok', plan: null, credential: 'byok', sandbox: false }));
    meter.onRollupsChanged(() => (batches += 1));
    const written = () => writtenFor(agentId);
    const waitForCount = (count: number, withinMs: number) => waitForWritten(agentId, count, withinMs);
    // A quiet start: the first event is written at once; six more within the short interval go out together.
    record();
    await waitForCount(1, 1_500);
    for (let n = 0; n < 6; n += 1) record();
    await waitForCount(7, 1_500);
    // That batch was large (6 ≥ 5): the next event waits for the busy interval...
    record();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await written(), 'held for the busy interval').to.equal(7);
    // ...unless someone drains, which writes at once.
    const drainStarted = Date.now();
    expect(await meter.drain()).to.equal(true);
    expect(Date.now() - drainStarted).to.be.below(1_500);
    expect(await written()).to.equal(8);
    // That batch was small: the short interval applies again.
    await new Promise((resolve) => setTimeout(resolve, 100));
    record();
    await waitForCount(9, 1_500);
    expect(batches, 'one write per batch: 1, 6, 1 and 1 events').to.equal(4);
    await meter.stop();
  });

  it('the workspace usage list shows agent changes at once (created, renamed, re-planned, deleted)', async () => {
    const user = await registerUser(platform.url);
    const usagePath = `/api/workspaces/${user.workspace.id}/usage`;
    const rows = async () => (await api(platform.url, 'GET', usagePath, { token: user.token })).body.agents as Array<{ agentId: string; name: string; plan: string | null }>;
    expect(await rows()).to.deep.equal([]);
    const agent = await createAgent(platform.url, user, { mode: 'managed', plan: 'starter' });
    expect((await rows()).map((row) => [row.agentId, row.name, row.plan])).to.deep.equal([[agent.id, 'Test agent', 'starter']]);
    const agentPath = `/api/workspaces/${user.workspace.id}/agents/${agent.id}`;
    expect((await api(platform.url, 'PATCH', agentPath, { token: user.token, body: { name: 'Renamed' } })).status).to.equal(200);
    expect((await api(platform.url, 'PUT', `${agentPath}/llm`, { token: user.token, body: { mode: 'managed', plan: 'ultra' } })).status).to.equal(200);
    expect((await rows()).map((row) => [row.name, row.plan])).to.deep.equal([['Renamed', 'ultra']]);
    expect((await api(platform.url, 'DELETE', agentPath, { token: user.token })).status).to.equal(204);
    // Deleted, it stays listed for the month: its plan fee for the time it existed is still due (docs/BILLING.md).
    expect((await rows()).map((row) => [row.agentId, row.name, (row as unknown as { deleted: boolean }).deleted])).to.deep.equal([[agent.id, 'Renamed', true]]);
  });

  it('the same requestId metered twice counts once', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const event = meterEventFixture({
      requestId: `req_idempotency_${Date.now()}`,
      agentId: agent.id,
      workspaceId: owner.workspace.id,
      tokensInput: 100,
      tokensOutput: 50,
      latencyMs: 12,
      priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: 3, includedTokens: SMALL_ALLOWANCES.pro },
    });
    platform.platform.meter.record(event);
    await platform.platform.meter.drain();
    platform.platform.meter.record({ ...event });
    platform.platform.meter.record({ ...event });
    await platform.platform.meter.drain();
    expect(await platform.platform.models.MeterEvent.countDocuments({ requestId: event.requestId })).to.equal(1);
    const rollup = await platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agent.id), month });
    expect(rollup!.tokens).to.equal(150);
    expect(rollup!.requests).to.equal(1);
    expect(rollup!.costTotalMicros).to.equal(15 + 30);
  });

  it('a token cap leaving room for 5 calls admits at most 5 of 50 concurrent calls', async () => {
    const slowSimulator = await startProviderSimulator({ latencyMs: 300 });
    const capped = await startTestPlatform({ simulator: slowSimulator });
    try {
      const cappedOwner = await registerUser(capped.url);
      const agent = await createAgent(capped.url, cappedOwner, { mode: 'managed', plan: 'pro' });
      const key = await createAgentApiKey(capped.url, cappedOwner, agent.id);
      // One call to learn the estimate the server reserves: prompt tokens + max_tokens.
      const probe = await callV1(capped.url, key, 'same question', 20);
      expect(probe.status).to.equal(200);
      await capped.platform.meter.drain();
      const used = probe.body.usage.total_tokens as number;
      const estimate = (probe.body.usage.prompt_tokens as number) + 20;
      const cap = used + 5 * estimate;
      const patch = await api(capped.url, 'PATCH', `/api/workspaces/${cappedOwner.workspace.id}/agents/${agent.id}`, {
        token: cappedOwner.token,
        body: { limits: { monthlyTokenCap: cap } },
      });
      expect(patch.status).to.equal(200);
      const responses = await Promise.all(Array.from({ length: 50 }, () => callV1(capped.url, key, 'same question', 20)));
      const admitted = responses.filter((response) => response.status === 200).length;
      const refused = responses.filter((response) => response.status === 429 && response.body.error.code === 'PLAN_LIMIT_REACHED').length;
      expect(admitted).to.be.at.most(5).and.at.least(1);
      expect(admitted + refused).to.equal(50);
      await capped.platform.meter.drain();
      const rollup = await capped.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agent.id), month });
      expect(rollup!.tokens).to.be.at.most(cap);
      expect(rollup!.reservedTokens).to.equal(0);
    } finally {
      await capped.stop();
      await slowSimulator.close();
    }
  });

  it('BYOK budget: alerts at 80% and 100%, then blocks with 429 PLAN_LIMIT_REACHED; alerts can be marked read', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-budget-key' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    // gpt-4o: $2.50 / $10 per 1M tokens; a call here costs a few hundred micro-dollars. A budget of $0.002 lasts a few calls.
    const limited = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyBudgetUsd: 0.002 } } });
    expect(limited.body.limits.monthlyBudgetUsd).to.equal(0.002);
    let blocked;
    for (let call = 0; call < 40 && !blocked; call += 1) {
      const response = await callV1(platform.url, key, 'spend a little', 40);
      await platform.platform.meter.drain();
      if (response.status === 429) blocked = response;
      else expect(response.status).to.equal(200);
    }
    expect(blocked, 'the budget must block').to.not.equal(undefined);
    expect(blocked!.body.error.code).to.equal('PLAN_LIMIT_REACHED');
    const rollup = await platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agent.id), month });
    // The budget holds exactly (the last calls are clamped to the money left), and is used up to the last useful answer.
    expect(rollup!.costTotalMicros).to.be.at.most(2000).and.above(1000);
    // Alerts are raised just after the rollup write: wait until both are there.
    type AlertRow = { id: string; type: string; agentId: string; readAt: string | null };
    const alertsOfAgent = async () => ((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alerts`, { token: owner.token })).body as AlertRow[]).filter((alert) => alert.agentId === agent.id);
    let mine = await alertsOfAgent();
    for (const deadline = Date.now() + 10_000; mine.length < 2 && Date.now() < deadline; mine = await alertsOfAgent()) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(mine.map((alert) => alert.type).sort()).to.deep.equal(['budget_80', 'budget_reached']);
    const read = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/alerts/${mine[0]!.id}/read`, { token: owner.token });
    expect(read.body.readAt).to.be.a('string');
    const stranger = await registerUser(platform.url);
    const foreign = await api(platform.url, 'POST', `/api/workspaces/${stranger.workspace.id}/alerts/${mine[1]!.id}/read`, { token: stranger.token });
    expect(foreign.status).to.equal(404);
  });

  it('usage:reconcile reports rollup drift and repairs it from the events', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    for (let call = 0; call < 3; call += 1) expect((await callV1(platform.url, key, `reconcile ${call}`)).status).to.equal(200);
    await platform.platform.meter.drain();
    const agentId = new Types.ObjectId(agent.id);
    const clean = await reconcileUsage(platform.platform.models, { month, fix: false });
    expect(clean.drifts.filter((drift) => drift.agentId === agent.id)).to.deep.equal([]);
    await platform.platform.models.UsageMonthly.collection.updateOne({ agentId, month }, { $inc: { tokens: 999, costTotalMicros: 5 }, $set: { daily: {} } });
    const drifted = await reconcileUsage(platform.platform.models, { month, fix: false });
    const mine = drifted.drifts.filter((drift) => drift.agentId === agent.id).map((drift) => drift.field).sort();
    expect(mine).to.deep.equal(['costTotalMicros', 'tokens']);
    const fixed = await reconcileUsage(platform.platform.models, { month, fix: true });
    expect(fixed.repaired).to.be.at.least(1);
    expect((await reconcileUsage(platform.platform.models, { month, fix: false })).drifts).to.deep.equal([]);
    await checkInvariants(platform, [agent.id], month);
    const usage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/usage`, { token: owner.token });
    expect(usage.body.daily[0].requests).to.equal(3);
  });

  it('keeps every event while the database is unreachable for a few seconds mid-burst', async () => {
    const proxy: FaultProxy = await startFaultProxy(await getTestMongoUri());
    const flaky = await startTestPlatform({ env: { MONGODB_URI: proxy.uri } });
    try {
      const flakyOwner = await registerUser(flaky.url);
      const agent = await createAgent(flaky.url, flakyOwner, { mode: 'managed', plan: 'pro' });
      const key = await createAgentApiKey(flaky.url, flakyOwner, agent.id);
      const first = await Promise.all(Array.from({ length: 40 }, (_, index) => callV1(flaky.url, key, `before ${index}`)));
      await proxy.cut();
      // The agent lookup is cached, so calls keep flowing while their meter events wait in the queue.
      const during = await Promise.all(Array.from({ length: 40 }, (_, index) => callV1(flaky.url, key, `during ${index}`)));
      expect(during.filter((response) => response.status === 200)).to.have.length(40);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(flaky.platform.meter.pending).to.be.greaterThan(0);
      await proxy.restore();
      const after = await Promise.all(Array.from({ length: 20 }, (_, index) => callV1(flaky.url, key, `after ${index}`)));
      const succeeded = [...first, ...during, ...after].filter((response) => response.status === 200).length;
      expect(await flaky.platform.meter.drain(30_000)).to.equal(true);
      expect(await flaky.platform.models.MeterEvent.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(succeeded);
      await checkInvariants(flaky, [agent.id], month);
    } finally {
      await flaky.stop();
      await proxy.close();
    }
  });
});
