// The BYOK budget's reservation under concurrency: many parallel calls against a small budget never overshoot
// more than the reservation rule allows (a call is admitted while spent + reserved < budget, so the month ends
// below budget + the cost of one call), and every reservation is settled.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { monthOf } from '../../server/metering/pricing';

describe('BYOK budget under concurrency', function () {
  this.timeout(120_000);
  let simulator: SimulatorHandle;
  let platform: TestPlatform;

  before(async () => {
    // Slow answers keep the calls in flight together, so they all reach the reservation before any settles.
    simulator = await startProviderSimulator({ latencyMs: 400 });
    platform = await startTestPlatform({ simulator });
  });
  after(async () => {
    await platform?.stop();
    await simulator?.close();
  });

  it('60 parallel calls against a budget of about three calls: the month ends below budget + one call, reservations all settled', async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-concurrent-budget' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const call = () =>
      api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: 'spend a little' }], max_tokens: 40 } });
    const probe = await call();
    expect(probe.status).to.equal(200);
    await platform.platform.meter.drain();
    const rollupOf = () => platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agent.id), month: monthOf(new Date()) });
    const probeCost = (await rollupOf())!.costTotalMicros as number;
    expect(probeCost).to.be.greaterThan(0);
    const budgetMicros = probeCost * 4; // the probe plus about three more calls
    const patch = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyBudgetUsd: budgetMicros / 1e6 } } });
    expect(patch.status).to.equal(200);

    const responses = await Promise.all(Array.from({ length: 60 }, () => call()));
    const admitted = responses.filter((response) => response.status === 200).length;
    const refused = responses.filter((response) => response.status === 429 && response.body.error.code === 'PLAN_LIMIT_REACHED').length;
    expect(admitted + refused, 'every call admitted or refused for the budget').to.equal(60);
    expect(admitted).to.be.at.least(1);
    await platform.platform.meter.drain();

    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    const largestCall = Math.max(...events.map((event) => event.costTotalMicros));
    const rollup = (await rollupOf())!;
    expect(rollup.costTotalMicros, 'spent').to.equal(events.reduce((total, event) => total + event.costTotalMicros, 0));
    expect(rollup.costTotalMicros, `overshoot beyond one call (budget ${budgetMicros} µ$, one call ≤ ${largestCall} µ$)`).to.be.below(budgetMicros + largestCall);
    expect(rollup.reservedCostMicros).to.equal(0);
    expect(rollup.reservedTokens).to.equal(0);
  });
});
