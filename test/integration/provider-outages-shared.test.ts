// "Provider down" across instances and workers: failures seen by one platform instance make another instance's agent
// health say provider_down (through the shared provider_outages collection), a recovery clears it for all, and the
// call path never reads that collection and writes it once per down/up flip, however many calls fail or succeed.
import { expect } from 'chai';
import mongoose, { Types, type Connection } from 'mongoose';
import { api, createAgent, type TestPlatform, type TestUser } from '../support/test-platform';
import { eventually, twoInstancesOnOneDatabase } from '../support/two-instances';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import type { SimulatorHandle } from '../../server/llm/simulator';
import { ProviderOutages } from '../../agents/provider-outages';
import { createProviderOutageModels } from '../../agents/provider-outage.model';

describe('provider down, seen by every instance', function () {
  this.timeout(120_000);
  const instances = twoInstancesOnOneDatabase('outages', 'Olga Outage');
  let first: TestPlatform;
  let second: TestPlatform;
  let owner: TestUser;
  let simulator: SimulatorHandle;
  before(() => ({ first, second, owner, simulator } = instances));

  const agentPath = (agentId: string) => `/api/workspaces/${owner.workspace.id}/agents/${agentId}`;
  const healthOn = async (platform: TestPlatform, agentId: string) => (await api(platform.url, 'GET', agentPath(agentId), { token: owner.token })).body.health as { state: string; canRun: boolean };
  const listedOn = async (platform: TestPlatform, agentId: string) =>
    ((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents`, { token: owner.token })).body as Array<{ id: string; health: { state: string } }>).find((agent) => agent.id === agentId)!.health.state;
  const chatOn = (platform: TestPlatform, agentId: string) => api(platform.url, 'POST', `${agentPath(agentId)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Are you there?' }] } });

  it('failures seen by instance A make instance B say provider_down (GET and list); a recovery on A clears it for B', async () => {
    const key = 'sk-outage-shared-a1';
    const agent = await createAgent(first.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: key });
    expect((await healthOn(second, agent.id)).state).to.equal('active');
    simulator.faults.setRate('openai', { status: 500, probability: 1 }, { apiKey: key });
    try {
      expect((await chatOn(first, agent.id)).status).to.equal(503);
      expect((await chatOn(first, agent.id)).status).to.equal(503);
    } finally {
      simulator.faults.clear();
    }
    expect(await eventually(() => healthOn(second, agent.id), (health) => health.state === 'provider_down')).to.include({ state: 'provider_down', canRun: true });
    expect(await listedOn(second, agent.id)).to.equal('provider_down');
    expect((await healthOn(first, agent.id)).state).to.equal('provider_down');
    const record = await second.platform.models.ProviderOutage.collection.findOne({ _id: new Types.ObjectId(agent.id) });
    expect(record!.expiresAt.getTime() - record!.since.getTime()).to.be.within(9 * 60_000, 10 * 60_000 + 5_000);
    expect(record!.lastFailureAt.getTime()).to.be.at.least(record!.since.getTime());
    expect((await chatOn(first, agent.id)).status).to.equal(200);
    expect((await eventually(() => healthOn(second, agent.id), (health) => health.state === 'active')).state).to.equal('active');
    expect(await listedOn(second, agent.id)).to.equal('active');
    expect(await second.platform.models.ProviderOutage.collection.countDocuments({ _id: new Types.ObjectId(agent.id) })).to.equal(0);
  });

  it('a recovery on B, once B has seen the outage A recorded, clears it for A too', async () => {
    const key = 'sk-outage-shared-b2';
    const agent = await createAgent(first.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: key });
    simulator.faults.setRate('openai', { status: 500, probability: 1 }, { apiKey: key });
    try {
      expect((await chatOn(first, agent.id)).status).to.equal(503);
    } finally {
      simulator.faults.clear();
    }
    expect((await eventually(() => healthOn(second, agent.id), (health) => health.state === 'provider_down')).state).to.equal('provider_down');
    expect((await chatOn(second, agent.id)).status).to.equal(200);
    expect((await eventually(() => healthOn(first, agent.id), (health) => health.state === 'active')).state).to.equal('active');
    expect((await healthOn(second, agent.id)).state).to.equal('active');
  });

  it('the shared records have a TTL index (created by the migrations)', async () => {
    const indexes = await first.platform.models.ProviderOutage.collection.listIndexes().toArray();
    expect(indexes.find((index) => index.name === 'provider_outages_ttl')).to.deep.include({ key: { expiresAt: 1 }, expireAfterSeconds: 0 });
  });
});

describe('provider outage tracker: the call path only writes on flips and never reads', function () {
  this.timeout(60_000);
  let connection: Connection;
  let models: ReturnType<typeof createProviderOutageModels>;
  const commands: string[] = [];

  before(async () => {
    connection = await mongoose.createConnection(await getTestMongoUri(), { dbName: uniqueDatabaseName('outage_tracker'), monitorCommands: true }).asPromise();
    connection.getClient().on('commandStarted', (event) => {
      if ((event.command as Record<string, unknown>)[event.commandName] === 'provider_outages') commands.push(event.commandName);
    });
    models = createProviderOutageModels(connection);
    await models.ProviderOutage.createCollection();
  });
  after(async () => {
    await connection?.db?.dropDatabase();
    await connection?.close();
  });

  it('writes once per flip (down, lapsed record, up), reads only in downSince, and expires records after the window', async () => {
    const { ProviderOutage } = models;
    commands.length = 0;
    const windowMs = 60_000;
    const errors: unknown[] = [];
    const a = new ProviderOutages(windowMs, { board: ProviderOutage.collection, onError: (error) => errors.push(error) });
    const b = new ProviderOutages(windowMs, { board: ProviderOutage.collection, onError: (error) => errors.push(error) });
    const agentId = new Types.ObjectId().toHexString();
    const t0 = Date.now();
    for (let call = 0; call < 50; call++) a.recordFailure(agentId, t0 + call * 100);
    await a.settled();
    expect(commands).to.deep.equal(['update']);
    expect((await b.downSince([agentId], t0 + 6_000)).get(agentId)?.getTime()).to.equal(t0);
    expect(commands).to.deep.equal(['update', 'find']);
    // Failures that outlive the record written at the flip: one more write, keeping the first failure as `since`.
    a.recordFailure(agentId, t0 + windowMs - 1);
    a.recordFailure(agentId, t0 + windowMs + 10);
    a.recordFailure(agentId, t0 + windowMs + 20);
    await a.settled();
    expect(commands).to.deep.equal(['update', 'find', 'update']);
    expect((await b.downSince([agentId], t0 + windowMs + 30)).get(agentId)?.getTime()).to.equal(t0);
    // Past the record's expiry nothing counts (the TTL index removes it; the read does not wait for that).
    expect((await b.downSince([agentId], t0 + 2 * windowMs + 11)).has(agentId)).to.equal(false);
    commands.length = 0;
    for (let call = 0; call < 50; call++) a.recordSuccess(agentId);
    await a.settled();
    expect(commands).to.deep.equal(['delete']);
    expect((await b.downSince([agentId], t0 + windowMs + 40)).has(agentId)).to.equal(false);
    // Successes of agents that were never down touch nothing.
    commands.length = 0;
    for (let call = 0; call < 50; call++) a.recordSuccess(new Types.ObjectId().toHexString());
    await a.settled();
    expect(commands).to.deep.equal([]);
    expect(errors).to.deep.equal([]);
  });
});
