// The per-end-user monthly token cap under concurrency: many parallel calls of one end user never take its month
// past the cap (each call reserves its worst case atomically, as the agent's own cap does), every reservation is
// settled, and the end-user rollup equals the sum of that end user's meter events. Other end users are not held.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { monthOf } from '../../server/metering/pricing';

describe('per-end-user monthly token cap under concurrency', function () {
  this.timeout(120_000);
  let simulator: SimulatorHandle;
  let platform: TestPlatform;

  before(async () => {
    simulator = await startProviderSimulator({ latencyMs: 300 });
    platform = await startTestPlatform({ simulator, publicChatLimits: { visitorRequestsPerMinute: 10_000, addressRequestsPerMinute: 10_000 } });
  });
  after(async () => {
    await platform?.stop();
    await simulator?.close();
  });

  it('40 parallel calls of one visitor against a cap of about three calls: never past the cap, reservations settled', async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner);
    const agentPath = `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`;
    const cap = 4_000;
    const patch = await api(platform.url, 'PATCH', agentPath, { token: owner.token, body: { limits: { endUserMonthlyTokenCap: cap } } });
    expect(patch.status, patch.text).to.equal(200);
    expect(patch.body.limits.endUserMonthlyTokenCap).to.equal(cap);
    const slug = (await api(platform.url, 'POST', `${agentPath}/publishing/publish`, { token: owner.token })).body.slug;
    const visitorId = 'v_concurrentvisitor000001';
    const send = (id: string) => api(platform.url, 'POST', `/api/public/agents/${slug}/chat`, { body: { visitorId: id, message: 'spend a little of my allowance' } });

    const responses = await Promise.all(Array.from({ length: 40 }, () => send(visitorId)));
    const admitted = responses.filter((response) => response.status === 200).length;
    const refused = responses.filter((response) => response.status === 429 && response.body.error.code === 'END_USER_LIMIT_REACHED');
    expect(admitted + refused.length, 'every call admitted or refused for the cap').to.equal(40);
    expect(admitted).to.be.within(1, 10);
    expect(refused[0]!.body.error.message).to.match(/usage limit/);
    await platform.platform.meter.drain();

    const rollup = await platform.platform.models.EndUserUsage.collection.findOne({ agentId: new Types.ObjectId(agent.id), endUser: visitorId, month: monthOf(new Date()) });
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id), endUser: visitorId }).lean();
    expect(events).to.have.length(admitted);
    expect(rollup!.tokens).to.equal(events.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0));
    expect(rollup!.tokens).to.be.at.most(cap);
    expect(rollup!.requests).to.equal(admitted);
    expect(rollup!.reservedTokens).to.equal(0);

    // Another visitor has their own month.
    expect((await send('v_anothervisitor000000001')).status).to.equal(200);
    // Lifting the cap lets the first visitor in again.
    await api(platform.url, 'PATCH', agentPath, { token: owner.token, body: { limits: { endUserMonthlyTokenCap: null } } });
    expect((await send(visitorId)).status).to.equal(200);
  });

  it('`user` on /v1 is the end user: stored on the meter event, read per end user, held to the same cap', async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner);
    const agentPath = `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`;
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const call = (user: string) =>
      api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', user, metadata: { plan: 'gold' }, messages: [{ role: 'user', content: 'hello there' }], max_tokens: 50 } });
    // customer-42 uses more than one call's worst case (prompt bound + max_tokens), so a cap just above its month
    // refuses it while a new end user's first call still fits.
    for (let index = 0; index < 12; index += 1) expect((await call('customer-42')).status).to.equal(200);
    expect((await call('customer-7')).status).to.equal(200);
    await platform.platform.meter.drain();
    const usage = await api(platform.url, 'GET', `${agentPath}/usage/end-users`, { token: owner.token });
    expect(usage.body.endUsers).to.equal(2);
    expect(usage.body.top.map((row: { endUser: string }) => row.endUser)).to.deep.equal(['customer-42', 'customer-7']);
    expect(usage.body.top[0].requests).to.equal(12);
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    expect(events.every((event) => event.metadata?.plan === 'gold')).to.equal(true);

    const used = usage.body.top[0].tokens as number;
    await api(platform.url, 'PATCH', agentPath, { token: owner.token, body: { limits: { endUserMonthlyTokenCap: used + 10 } } });
    const refused = await call('customer-42');
    expect(refused.status).to.equal(429);
    expect(refused.body.error.code).to.equal('END_USER_LIMIT_REACHED');
    expect((await call('customer-new')).status).to.equal(200);
  });

  it('only owners set the cap; it must be a positive integer', async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner);
    const bad = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { endUserMonthlyTokenCap: -5 } } });
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('VALIDATION_FAILED');
  });
});
