// The response cache's writes and hit counts off the call path, and two instances on one database: misses store their
// answer after answering (batched upserts, one per entry on its way), hits are counted in memory and written in one
// bulk write (exact on the instance that counted them, seen by the other within the interval, written at shutdown),
// and nothing is answered from one instance's memory after another cleared the cache.
import { expect } from 'chai';
import mongoose, { Types, type Connection, type Model } from 'mongoose';
import OpenAI from 'openai';
import { createLogger } from '../../server/logger';
import { createResponseCacheModel, type ResponseCacheEntryDocument } from '../../agents/response-cache.model';
import { ResponseCacheHitCounter } from '../../agents/response-cache-hits';
import { ResponseCacheWrites } from '../../agents/response-cache-writes';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { api, createAgent, createAgentApiKey, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { twoInstancesOnOneDatabase } from '../support/two-instances';

const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000): Promise<T> => {
  let value = await read();
  for (const deadline = Date.now() + ms; !done(value) && Date.now() < deadline; value = await read()) await new Promise((resolve) => setTimeout(resolve, 50));
  return value;
};

const quietLogger = createLogger({ level: 'silent' });

describe('response cache writes and hit counts (the driver, off the call path)', function () {
  this.timeout(60_000);
  let connection: Connection;
  let model: Model<ResponseCacheEntryDocument>;
  const commands: Array<{ name: string; operations: number }> = [];

  before(async () => {
    connection = await mongoose.createConnection(await getTestMongoUri(), { dbName: uniqueDatabaseName('cache_writes'), monitorCommands: true }).asPromise();
    connection.getClient().on('commandStarted', (event) => {
      const command = event.command as Record<string, unknown>;
      // The writes (this test's own reads are finds).
      if (command[event.commandName] !== 'response_cache' || event.commandName === 'find' || event.commandName === 'aggregate') return;
      commands.push({ name: event.commandName, operations: Array.isArray(command.updates) ? command.updates.length : 0 });
    });
    model = createResponseCacheModel(connection);
    await model.createCollection();
    await model.syncIndexes();
  });
  after(async () => {
    await connection?.db?.dropDatabase();
    await connection?.close();
  });

  const entryUpdate = (workspaceId: Types.ObjectId, content: string) => ({
    $set: {
      workspaceId,
      scope: 'scope',
      answer: { content, finishReason: 'stop', provider: 'openai', model: 'gpt-4o-mini', usage: { inputTokens: 3, outputTokens: 5 }, sandbox: true },
      savedPriceMicros: 7,
      createdAt: new Date(),
      expiresAt: new Date(Date.now() + 3_600_000),
    },
    $setOnInsert: { hits: 0, lastHitAt: null },
  });

  it('entries stored within the batch interval go in one bulk upsert; the same entry queued again while on its way is written once', async () => {
    const writes = new ResponseCacheWrites(() => model.collection, quietLogger);
    const agentId = new Types.ObjectId();
    const workspaceId = new Types.ObjectId();
    commands.length = 0;
    expect(writes.queue({ agentId, key: 'a' }, entryUpdate(workspaceId, 'first answer'))).to.equal(true);
    expect(writes.queue({ agentId, key: 'b' }, entryUpdate(workspaceId, 'other answer'))).to.equal(true);
    // Concurrent misses of one question: the second answer is not written again.
    expect(writes.queue({ agentId, key: 'a' }, entryUpdate(workspaceId, 'second answer'))).to.equal(false);
    expect(writes.landing(agentId, 'a')).to.be.an.instanceOf(Promise);
    expect(writes.landing(agentId, 'c')).to.equal(undefined);
    await writes.landing(agentId, 'a');
    expect(commands).to.deep.equal([{ name: 'update', operations: 2 }]);
    const stored = await model.collection.find({ agentId }).sort({ key: 1 }).toArray();
    expect(stored.map((entry) => [entry.key, entry.answer.content, entry.hits, entry.lastHitAt])).to.deep.equal([
      ['a', 'first answer', 0, null],
      ['b', 'other answer', 0, null],
    ]);
    // Nothing on its way any more: the entry can be written again (a later miss replaces it, keeping its counters).
    expect(writes.landing(agentId, 'a')).to.equal(undefined);
    expect(writes.queue({ agentId, key: 'a' }, entryUpdate(workspaceId, 'newer answer'))).to.equal(true);
    await writes.settled(agentId);
    expect(commands).to.deep.equal([
      { name: 'update', operations: 2 },
      { name: 'update', operations: 1 },
    ]);
    expect((await model.collection.findOne({ agentId, key: 'a' }))!.answer.content).to.equal('newer answer');
    expect(await model.collection.countDocuments({ agentId })).to.equal(2);
  });

  it('entries stored while a bulk upsert runs go in the next one, none lost', async () => {
    const writes = new ResponseCacheWrites(() => model.collection, quietLogger);
    const agentId = new Types.ObjectId();
    const workspaceId = new Types.ObjectId();
    commands.length = 0;
    writes.queue({ agentId, key: 'k0' }, entryUpdate(workspaceId, 'answer 0'));
    // These arrive while the first write runs (once its command is sent).
    while (commands.length === 0) await new Promise((resolve) => setImmediate(resolve));
    for (let index = 1; index <= 5; index += 1) writes.queue({ agentId, key: `k${index}` }, entryUpdate(workspaceId, `answer ${index}`));
    await writes.settled();
    expect(commands.map((command) => command.operations)).to.deep.equal([1, 5]);
    expect(await model.collection.countDocuments({ agentId })).to.equal(6);
  });

  it('hits are counted in memory and written in one bulk write per interval (per entry: the count and the last hit)', async () => {
    const agentId = new Types.ObjectId();
    const workspaceId = new Types.ObjectId();
    const writes = new ResponseCacheWrites(() => model.collection, quietLogger);
    writes.queue({ agentId, key: 'x' }, entryUpdate(workspaceId, 'x'));
    writes.queue({ agentId, key: 'y' }, entryUpdate(workspaceId, 'y'));
    await writes.settled();
    const expiresBefore = (await model.collection.findOne({ agentId, key: 'x' }))!.expiresAt.getTime();
    const counter = new ResponseCacheHitCounter(() => model.collection, quietLogger, 60_000);
    commands.length = 0;
    const last = new Date(Date.now() + 5);
    for (let hit = 0; hit < 3; hit += 1) counter.count(agentId, 'x', new Date());
    counter.count(agentId, 'x', last);
    counter.count(agentId, 'y', new Date());
    expect(commands).to.deep.equal([]);
    await counter.flush();
    expect(commands).to.deep.equal([{ name: 'update', operations: 2 }]);
    const x = (await model.collection.findOne({ agentId, key: 'x' }))!;
    expect(x.hits).to.equal(4);
    expect(x.lastHitAt.getTime()).to.equal(last.getTime());
    // A hit does not move the entry's expiry: its TTL counts from when the answer was stored.
    expect(x.expiresAt.getTime()).to.equal(expiresBefore);
    expect((await model.collection.findOne({ agentId, key: 'y' }))!.hits).to.equal(1);
    // Counts of an agent whose entries were just removed are dropped, not written.
    counter.count(agentId, 'x', new Date());
    counter.forgetAgent(agentId);
    await counter.flush();
    expect(commands).to.have.length(1);
    expect((await model.collection.findOne({ agentId, key: 'x' }))!.hits).to.equal(4);
  });
});

describe('response cache on two instances of one database', function () {
  this.timeout(120_000);
  const firstCommands: string[] = [];
  const instances = twoInstancesOnOneDatabase('cache_shared', 'Cora Cache', {
    firstEnv: async () => {
      const uri = await getTestMongoUri();
      return { MONGODB_URI: `${uri}${uri.includes('?') ? '&' : '?'}monitorCommands=true` };
    },
    onFirstStarted: (platform) =>
      platform.platform.database.connection.getClient().on('commandStarted', (event) => {
        if ((event.command as Record<string, unknown>)[event.commandName] === 'response_cache') firstCommands.push(event.commandName);
      }),
  });
  let first: TestPlatform;
  let second: TestPlatform;
  let owner: TestUser;
  before(() => ({ first, second, owner } = instances));

  const cachePath = (agentId: string) => `/api/workspaces/${owner.workspace.id}/agents/${agentId}/cache`;
  const statsOn = async (platform: TestPlatform, agentId: string) => (await api(platform.url, 'GET', cachePath(agentId), { token: owner.token })).body as { entries: number; hits: number };

  async function cachedAgent() {
    const agent = await createAgent(first.url, owner);
    expect((await api(first.url, 'PUT', cachePath(agent.id), { token: owner.token, body: { mode: 'exact' } })).status).to.equal(200);
    const key = await createAgentApiKey(first.url, owner, agent.id);
    const client = (platform: TestPlatform) => new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    return { agent, on: { first: client(first), second: client(second) } };
  }

  const ask = async (client: OpenAI, content: string) => {
    const { data, response } = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content }] }).withResponse();
    return { content: data.choices[0]!.message.content, cache: response.headers.get('x-cache') };
  };

  it('a hit is one lookup and no write on the call path; counts are exact on the instance, seen by the other within the interval', async () => {
    const { agent, on } = await cachedAgent();
    const miss = await ask(on.first, 'When does the market open?');
    expect(miss.cache).to.equal('miss');
    firstCommands.length = 0;
    for (let hit = 0; hit < 4; hit += 1) expect(await ask(on.first, 'When does the market open?')).to.deep.equal({ content: miss.content, cache: 'hit' });
    // Four lookups; the hit counts are not written per hit (at most one bulk write when the interval ran out).
    expect(firstCommands.filter((name) => name === 'find')).to.have.length(4);
    expect(firstCommands.filter((name) => name === 'update').length).to.be.at.most(1);
    // The other instance's entry is the same one: a hit there too.
    expect(await ask(on.second, 'When does the market open?')).to.deep.equal({ content: miss.content, cache: 'hit' });
    expect(await statsOn(first, agent.id)).to.include({ entries: 1, hits: 4 });
    // The second instance counted one hit; the first sees it once the second wrote it (within its 1 s interval).
    expect(await eventually(() => statsOn(first, agent.id), (stats) => stats.hits === 5)).to.include({ entries: 1, hits: 5 });
  });

  it('concurrent misses of one question are answered alike and leave one entry; asking again is a hit', async () => {
    const { agent, on } = await cachedAgent();
    const answers = await Promise.all(Array.from({ length: 6 }, () => ask(on.first, 'Can I pay by invoice?')));
    expect(answers.every((answer) => answer.cache === 'miss')).to.equal(true);
    expect((await first.platform.models.ResponseCacheEntry.collection.find({ agentId: new Types.ObjectId(agent.id) }).toArray()).length).to.be.at.most(1);
    expect((await ask(on.first, 'Can I pay by invoice?')).cache).to.equal('hit');
    expect(await statsOn(first, agent.id)).to.include({ entries: 1, hits: 1 });
  });

  it('after the cache is cleared on the other instance, this one answers fresh (nothing from its memory)', async () => {
    const { agent, on } = await cachedAgent();
    const question = 'Do you deliver on Sundays?';
    expect((await ask(on.first, question)).cache).to.equal('miss');
    expect((await ask(on.first, question)).cache).to.equal('hit');
    const cleared = await api(second.url, 'DELETE', `${cachePath(agent.id)}/entries`, { token: owner.token });
    expect(cleared.status).to.equal(200);
    expect(cleared.body.removed).to.equal(1);
    expect((await ask(on.first, question)).cache).to.equal('miss');
    // Once the first instance's fresh answer landed (its stats let its writes land), the other instance hits it.
    expect(await statsOn(first, agent.id)).to.include({ entries: 1 });
    expect((await ask(on.second, question)).cache).to.equal('hit');
    expect(await statsOn(second, agent.id)).to.include({ entries: 1 });
  });

  it('hit counts not yet written are written when the instance stops', async () => {
    const { agent } = await cachedAgent();
    const third = await startTestPlatform({ simulator: instances.simulator, databaseName: instances.databaseName, env: { VAULT_KEYS: instances.vaultKeys } });
    let stopped = false;
    try {
      const client = new OpenAI({ apiKey: await createAgentApiKey(first.url, owner, agent.id), baseURL: `${third.url}/v1`, maxRetries: 0 });
      expect((await ask(client, 'Is there parking nearby?')).cache).to.equal('miss');
      expect((await ask(client, 'Is there parking nearby?')).cache).to.equal('hit');
      expect((await ask(client, 'Is there parking nearby?')).cache).to.equal('hit');
      await third.stop();
      stopped = true;
      const [entry] = await first.platform.models.ResponseCacheEntry.collection.find({ agentId: new Types.ObjectId(agent.id) }).toArray();
      expect(entry!.hits).to.equal(2);
      expect(entry!.lastHitAt).to.be.an.instanceOf(Date);
    } finally {
      if (!stopped) await third.stop();
    }
  });
});
