// Streams cut while they run — by the client, or by a shutdown at its drain deadline — are metered from what was
// streamed: one event, `status: partial`, `usageSource: estimated`.
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { startSlowStreamProvider, type SlowStreamProvider } from '../support/slow-stream-provider';

/** Opens a streamed call and resolves once `chunks` content chunks arrived; the rest of the stream is read on. */
async function openStream(url: string, path: string, headers: Record<string, string>, body: unknown, chunks: number) {
  const controller = new AbortController();
  const response = await fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal: controller.signal });
  expect(response.status).to.equal(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const contentChunks = () => (text.match(/"content":"word/g) ?? []).length;
  while (contentChunks() < chunks) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the stream ended after ${contentChunks()} chunks`);
    text += decoder.decode(value, { stream: true });
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += decoder.decode(value, { stream: true });
    }
  })();
  return { received: contentChunks(), abort: () => controller.abort(), rest };
}

describe('streams cut while running are metered', function () {
  this.timeout(120_000);
  let provider: SlowStreamProvider;
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    provider = await startSlowStreamProvider({ chunks: 400, intervalMs: 60 });
    platform = await startTestPlatform({ env: { OPENAI_BASE_URL: provider.url } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    await provider?.close();
  });

  const eventsOf = async (agentId: string) => {
    await platform.platform.meter.drain();
    return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
  };
  const waitForEvents = async (agentId: string, count: number) => {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const events = await eventsOf(agentId);
      if (events.length >= count || Date.now() > deadline) return events;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  it('a /v1 stream the client aborts after the first chunks has one partial, estimated meter event', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-slow-stream' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const stream = await openStream(platform.url, '/v1/chat/completions', { authorization: `Bearer ${key}` }, { model: 'agent', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }, 3);
    stream.abort();
    await stream.rest.catch(() => undefined);
    const events = await waitForEvents(agent.id, 1);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ status: 'partial', usageSource: 'estimated', requestType: 'stream' });
    expect(events[0]!.tokensOutput).to.be.at.least(stream.received);
    const rollup = await platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agent.id) });
    expect(rollup!.tokens).to.equal(events[0]!.tokensInput + events[0]!.tokensOutput);
  });

  it('a playground stream the client aborts after the first chunks has one partial meter event', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-slow-stream' });
    const stream = await openStream(
      platform.url,
      `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`,
      { authorization: `Bearer ${owner.token}` },
      { stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] },
      2,
    );
    stream.abort();
    await stream.rest.catch(() => undefined);
    const events = await waitForEvents(agent.id, 1);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ status: 'partial', usageSource: 'estimated' });
    expect(events[0]!.tokensOutput).to.be.greaterThan(0);
  });

  it('stop() cuts a stream still running at the drain deadline, meters what it streamed, and flushes before closing the database', async () => {
    const databaseName = uniqueDatabaseName('shutdown_cut');
    const shuttingDown = await startTestPlatform({ env: { OPENAI_BASE_URL: provider.url }, databaseName, drainTimeoutMs: 800 });
    let stopped = false;
    try {
      const user = await registerUser(shuttingDown.url);
      const agent = await createAgent(shuttingDown.url, user, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-slow-stream' });
      const key = await createAgentApiKey(shuttingDown.url, user, agent.id);
      const stream = await openStream(shuttingDown.url, '/v1/chat/completions', { authorization: `Bearer ${key}` }, { model: 'agent', stream: true, messages: [{ role: 'user', content: 'a story longer than the drain deadline' }] }, 5);
      await shuttingDown.stop();
      stopped = true;
      const text = await stream.rest.catch((error: Error) => `connection dropped: ${error.message}`);
      const client = await MongoClient.connect(await getTestMongoUri(), { directConnection: true });
      try {
        const events = await client.db(databaseName).collection('token_meter').find({ agentId: new Types.ObjectId(agent.id) }).toArray();
        expect(events, 'the cut stream has its meter event').to.have.length(1);
        expect(events[0]).to.include({ status: 'partial', usageSource: 'estimated', requestType: 'stream' });
        expect(events[0]!.tokensOutput).to.be.at.least(5);
        const rollup = await client.db(databaseName).collection('usage_monthly').findOne({ agentId: new Types.ObjectId(agent.id) });
        expect(rollup!.tokens).to.equal(events[0]!.tokensInput + events[0]!.tokensOutput);
      } finally {
        await client.close();
      }
      // The client got an ending, not a silent drop: the cut is reported in the stream.
      expect(text).to.match(/"error":\{/);
    } finally {
      if (!stopped) await shuttingDown.stop();
    }
  });
});
