// The response cache end to end: the openai SDK on /v1 (streamed and not) against a real platform and the simulator,
// exact and semantic hits and misses, scoping by agent and workspace, invalidation, skips, the metering of hits.
import { expect } from 'chai';
import OpenAI from 'openai';
import { answerInvolvesTools, involvesTools } from '../../agents/response-cache-key';
import { startFaultProxy } from '../support/tcp-fault-proxy';
import { getTestMongoUri } from '../support/test-database';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';

async function meterEvents(platform: TestPlatform, agentId: string) {
  await platform.platform.meter.drain();
  return platform.platform.models.MeterEvent.find({ agentId }).sort({ timestamp: 1 }).lean();
}

async function setCache(platform: TestPlatform, user: TestUser, agentId: string, body: Record<string, unknown>) {
  return api(platform.url, 'PUT', `/api/workspaces/${user.workspace.id}/agents/${agentId}/cache`, { token: user.token, body });
}

describe('response cache (exact and semantic, through /v1)', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  let other: TestUser;

  before(async () => {
    ({ platform, owner } = platformAndOwner);
    other = await registerUser(platform.url);
  });

  async function cachedAgent(user: TestUser, setting: Record<string, unknown> = { mode: 'exact' }) {
    const agent = await createAgent(platform.url, user);
    const response = await setCache(platform, user, agent.id, setting);
    expect(response.status, response.text).to.equal(200);
    const key = await createAgentApiKey(platform.url, user, agent.id);
    return { agent, client: new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 }) };
  }

  const ask = (client: OpenAI, content: string, extra: Record<string, unknown> = {}) =>
    client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content }], ...extra } as never).withResponse() as unknown as Promise<{ data: OpenAI.ChatCompletion; response: Response }>;

  it('is off by default: answers say "skipped, cache_off" and nothing is stored', async () => {
    const agent = await createAgent(platform.url, owner);
    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const first = await ask(client, 'What are your opening hours?');
    expect(first.response.headers.get('x-cache')).to.equal('skipped');
    expect(first.response.headers.get('x-cache-reason')).to.equal('cache_off');
    const settings = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/cache`, { token: owner.token });
    expect(settings.body.setting.mode).to.equal('off');
    expect(settings.body.entries).to.equal(0);
  });

  it('exact: the same request is a hit (not streamed), metered with zero tokens, the saved price, the allowance untouched', async () => {
    const { agent, client } = await cachedAgent(owner);
    const first = await ask(client, 'Do you ship to Canada?');
    expect(first.response.headers.get('x-cache')).to.equal('miss');
    const second = await ask(client, 'Do you ship to Canada?');
    expect(second.response.headers.get('x-cache')).to.equal('hit');
    expect(second.response.headers.get('x-cache-reason')).to.equal('exact');
    expect(second.data.choices[0]!.message.content).to.equal(first.data.choices[0]!.message.content);
    expect(second.data.usage).to.include({ prompt_tokens: 0, completion_tokens: 0 });

    const events = await meterEvents(platform, agent.id);
    expect(events).to.have.length(2);
    const [miss, hit] = events;
    expect(miss!.cacheHit).to.equal(undefined);
    expect(hit!.cacheHit).to.equal(true);
    expect(hit!.tokensInput + hit!.tokensOutput).to.equal(0);
    expect(hit!.priceTotalMicros).to.equal(0);
    expect(hit!.costTotalMicros).to.equal(0);
    expect(hit!.requestId).to.equal(second.response.headers.get('x-request-id'));
    // Pro's overage rate times the tokens the original answer used.
    const plan = platform.platform.catalog.getPlan('pro');
    expect(hit!.savedPriceMicros).to.equal((miss!.tokensInput + miss!.tokensOutput) * plan.overageUsdPerMillion);
    expect(hit!.savedPriceMicros).to.be.greaterThan(0);

    const usage = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/usage`, { token: owner.token });
    expect(usage.status).to.equal(200);
    const rollup = await platform.platform.models.UsageMonthly.findOne({ agentId: agent.id }).lean();
    // Only the miss's tokens were taken from the allowance; both calls count as requests.
    expect(rollup!.tokens).to.equal(miss!.tokensInput + miss!.tokensOutput);
    expect(rollup!.requests).to.equal(2);

    const split = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage/cache`, { token: owner.token });
    const row = split.body.agents.find((entry: { agentId: string }) => entry.agentId === agent.id);
    expect(row).to.include({ calls: 2, cacheHits: 1, savedPriceMicros: hit!.savedPriceMicros });

    // The savings view takes the cache as a source, beside routing: the agent's and the workspace's.
    const savings = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/savings`, { token: owner.token });
    expect(savings.status).to.equal(200);
    const savedMicros = hit!.savedPriceMicros!;
    expect(savings.body.cache).to.include({ hits: 1, calls: 2, savedMicros, savedUsd: savedMicros / 1e6 });
    expect(savings.body.summary).to.include('The answer cache gave 1 answer');
    const workspaceSavings = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/savings`, { token: owner.token });
    expect(workspaceSavings.body.cache.savedMicros).to.be.at.least(savedMicros);
  });

  it('exact: a streamed request is answered from the cache as SSE', async () => {
    const { agent, client } = await cachedAgent(owner);
    const collect = async () => {
      const { data: stream, response } = await (client.chat.completions
        .create({ model: 'agent', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Can I return a gift?' }] })
        .withResponse());
      let text = '';
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, response };
    };
    const first = await collect();
    expect(first.response.headers.get('x-cache')).to.equal('miss');
    const second = await collect();
    expect(second.response.headers.get('x-cache')).to.equal('hit');
    expect(second.response.headers.get('content-type')).to.match(/text\/event-stream/);
    expect(second.text).to.equal(first.text);
    expect(second.text.length).to.be.greaterThan(20);
    expect(second.usage).to.include({ prompt_tokens: 0, completion_tokens: 0 });
    // A streamed miss stored; the non-streamed form of the same request shares the entry.
    const plain = await ask(client, 'Can I return a gift?');
    expect(plain.response.headers.get('x-cache')).to.equal('hit');
    const events = await meterEvents(platform, agent.id);
    expect(events.map((event) => [event.requestType, event.cacheHit ?? false])).to.deep.equal([
      ['stream', false],
      ['stream', true],
      ['chat', true],
    ]);
  });

  it('every generation parameter is part of the key; Cache-Control: no-cache opts out', async () => {
    const { client } = await cachedAgent(owner);
    await ask(client, 'Where is my order?', { temperature: 0.2 });
    expect((await ask(client, 'Where is my order?', { temperature: 0.3 })).response.headers.get('x-cache')).to.equal('miss');
    expect((await ask(client, 'Where is my order?', { temperature: 0.2, max_tokens: 20 })).response.headers.get('x-cache')).to.equal('miss');
    expect((await ask(client, 'Where is my order?', { temperature: 0.2 })).response.headers.get('x-cache')).to.equal('hit');
    const optedOut = await (client.chat.completions
      .create({ model: 'agent', temperature: 0.2, messages: [{ role: 'user', content: 'Where is my order?' }] }, { headers: { 'Cache-Control': 'no-cache' } })
      .withResponse());
    expect(optedOut.response.headers.get('x-cache')).to.equal('skipped');
    expect(optedOut.response.headers.get('x-cache-reason')).to.equal('client_no_cache');
  });

  it('a temperature above the limit is not cached unless the owner allows it', async () => {
    const { agent, client } = await cachedAgent(owner, { mode: 'exact', maxTemperature: 0.5 });
    const hot = await ask(client, 'Write me a slogan', { temperature: 1.2 });
    expect(hot.response.headers.get('x-cache')).to.equal('skipped');
    expect(hot.response.headers.get('x-cache-reason')).to.equal('temperature_above_limit');
    expect((await ask(client, 'Write me a slogan', { temperature: 1.2 })).response.headers.get('x-cache')).to.equal('skipped');
    expect((await setCache(platform, owner, agent.id, { mode: 'exact', allowAnyTemperature: true })).status).to.equal(200);
    expect((await ask(client, 'Write me a slogan', { temperature: 1.2 })).response.headers.get('x-cache')).to.equal('miss');
    expect((await ask(client, 'Write me a slogan', { temperature: 1.2 })).response.headers.get('x-cache')).to.equal('hit');
  });

  it('never hits across agents or workspaces', async () => {
    const first = await cachedAgent(owner);
    const sameWorkspace = await cachedAgent(owner);
    const otherWorkspace = await cachedAgent(other);
    await ask(first.client, 'Do you have gift cards?');
    expect((await ask(first.client, 'Do you have gift cards?')).response.headers.get('x-cache')).to.equal('hit');
    expect((await ask(sameWorkspace.client, 'Do you have gift cards?')).response.headers.get('x-cache')).to.equal('miss');
    expect((await ask(otherWorkspace.client, 'Do you have gift cards?')).response.headers.get('x-cache')).to.equal('miss');
    // Another workspace cannot read or change this agent's cache.
    const foreign = await api(platform.url, 'GET', `/api/workspaces/${other.workspace.id}/agents/${first.agent.id}/cache`, { token: other.token });
    expect(foreign.status).to.equal(404);
    const foreignOwnWorkspace = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${first.agent.id}/cache`, { token: other.token });
    expect([403, 404]).to.include(foreignOwnWorkspace.status);
  });

  it('changing the LLM setting or the template variables invalidates the entries', async () => {
    const { agent, client } = await cachedAgent(owner);
    await ask(client, 'What payment methods do you take?');
    expect((await ask(client, 'What payment methods do you take?')).response.headers.get('x-cache')).to.equal('hit');
    const changed = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm`, { token: owner.token, body: { mode: 'managed', plan: 'starter' } });
    expect(changed.status).to.equal(200);
    expect((await ask(client, 'What payment methods do you take?')).response.headers.get('x-cache')).to.equal('miss');
    expect((await ask(client, 'What payment methods do you take?')).response.headers.get('x-cache')).to.equal('hit');
    const renamed = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { variables: { businessName: 'Other Shop' } } });
    expect(renamed.status, renamed.text).to.equal(200);
    expect((await ask(client, 'What payment methods do you take?')).response.headers.get('x-cache')).to.equal('miss');
    const cleared = await api(platform.url, 'DELETE', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/cache/entries`, { token: owner.token });
    expect(cleared.body.removed).to.be.greaterThan(0);
    expect((await ask(client, 'What payment methods do you take?')).response.headers.get('x-cache')).to.equal('miss');
  });

  it('requests with tools are skipped (the check reads the normalized request)', async () => {
    const { agent, client } = await cachedAgent(owner);
    expect(involvesTools({ messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'lookup' } }] })).to.equal(true);
    expect(involvesTools({ messages: [{ role: 'user', content: 'hi' }], toolChoice: 'auto' })).to.equal(true);
    expect(involvesTools({ messages: [{ role: 'assistant', content: '', toolCalls: [{ id: '1' }] }, { role: 'tool', content: '42' }] })).to.equal(true);
    expect(involvesTools({ messages: [{ role: 'user', content: 'hi' }], tools: [] })).to.equal(false);
    expect(answerInvolvesTools({ finishReason: 'tool_calls' })).to.equal(true);
    expect(answerInvolvesTools({ finishReason: 'stop', toolCalls: [{ id: 'call_1' }] })).to.equal(true);
    expect(answerInvolvesTools({ finishReason: 'stop' })).to.equal(false);
    expect(involvesTools({ messages: [{ role: 'user', content: 'hi' }], options: { tools: [{ name: 'lookup', parameters: { type: 'object' } }] } })).to.equal(true);
    expect(involvesTools({ messages: [{ role: 'user', content: 'hi' }], options: { topP: 0.5 } })).to.equal(false);
    const tools = [{ type: 'function' as const, function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }];
    const first = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'Look it up' }], tools }).withResponse();
    expect(first.response.headers.get('x-cache')).to.equal('skipped');
    expect(first.response.headers.get('x-cache-reason')).to.equal('tools');
    const again = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'Look it up' }], tools }).withResponse();
    expect(again.response.headers.get('x-cache')).to.equal('skipped');
    // The same question without tools is a normal miss: nothing was stored for the tool requests.
    expect((await ask(client, 'Look it up')).response.headers.get('x-cache')).to.equal('miss');
    const events = await meterEvents(platform, agent.id);
    expect(events.filter((event) => event.cacheHit === true)).to.have.length(0);
  });

  it('semantic: a paraphrase is a hit above the threshold, an unrelated question a miss; embeddings metered at cost', async () => {
    const { agent, client } = await cachedAgent(owner, { mode: 'semantic' });
    const settings = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/cache`, { token: owner.token });
    expect(settings.body).to.include({ semanticAvailable: true, vectorIndex: 'in-process' });
    expect(settings.body.setting.similarityThreshold).to.equal(0.95);
    const original = await ask(client, 'How do I reset my password?');
    expect(original.response.headers.get('x-cache')).to.equal('miss');
    const paraphrase = await ask(client, 'How can I reset my password, please?');
    expect(paraphrase.response.headers.get('x-cache')).to.equal('hit');
    expect(paraphrase.response.headers.get('x-cache-reason')).to.equal('semantic');
    expect(Number(paraphrase.response.headers.get('x-cache-similarity'))).to.be.at.least(0.95);
    expect(paraphrase.data.choices[0]!.message.content).to.equal(original.data.choices[0]!.message.content);
    const unrelated = await ask(client, 'What are your opening hours on Sunday?');
    expect(unrelated.response.headers.get('x-cache')).to.equal('miss');

    // Streamed paraphrase: also answered from the cache.
    const { data: stream, response } = await (client.chat.completions.create({ model: 'agent', stream: true, messages: [{ role: 'user', content: 'Resetting my password: how?' }] }).withResponse());
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(response.headers.get('x-cache')).to.equal('hit');
    expect(text).to.equal(original.data.choices[0]!.message.content);

    const events = await meterEvents(platform, agent.id);
    const embeddings = events.filter((event) => event.requestType === 'embedding');
    // One embedding per semantic lookup that missed the exact key (all four calls here).
    expect(embeddings).to.have.length(4);
    for (const event of embeddings) {
      expect(event).to.include({ provider: 'openai', model: 'text-embedding-3-small', countedAsRequest: false });
      expect(event.tokensInput).to.be.greaterThan(0);
      expect(event.costTotalMicros).to.equal(Math.round((event.tokensInput * 0.02 * 1_000_000) / 1_000_000));
    }
    expect(events.filter((event) => event.cacheHit === true)).to.have.length(2);
  });

  it('refuses a threshold outside (0, 1] and an unknown mode with stable codes, changing nothing', async () => {
    const agent = await createAgent(platform.url, owner);
    for (const threshold of [0, -0.1, 1.01, 2]) {
      const response = await setCache(platform, owner, agent.id, { mode: 'semantic', similarityThreshold: threshold });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    }
    expect((await setCache(platform, owner, agent.id, { mode: 'sometimes' })).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await setCache(platform, owner, agent.id, { mode: 'exact', ttlSeconds: 5 })).status).to.equal(400);
    const unchanged = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/cache`, { token: owner.token });
    expect(unchanged.body.setting.mode).to.equal('off');
    expect((await setCache(platform, owner, agent.id, { mode: 'semantic', similarityThreshold: 1 })).status).to.equal(200);
  });

  it('a BYOK agent whose provider has no embeddings API gets the exact cache only', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test-0000000000000000' });
    const refused = await setCache(platform, owner, agent.id, { mode: 'semantic' });
    expect(refused.status).to.equal(400);
    expect(refused.body.error.code).to.equal('SEMANTIC_CACHE_UNAVAILABLE');
    expect((await setCache(platform, owner, agent.id, { mode: 'exact' })).status).to.equal(200);
  });

  it('a database that stops answering makes lookups skip (cache_unavailable) instead of holding calls up', async () => {
    const proxy = await startFaultProxy(await getTestMongoUri());
    const flaky = await startTestPlatform({ env: { MONGODB_URI: proxy.uri } });
    try {
      const user = await registerUser(flaky.url);
      const agent = await createAgent(flaky.url, user);
      expect((await api(flaky.url, 'PUT', `/api/workspaces/${user.workspace.id}/agents/${agent.id}/cache`, { token: user.token, body: { mode: 'exact' } })).status).to.equal(200);
      const client = new OpenAI({ apiKey: await createAgentApiKey(flaky.url, user, agent.id), baseURL: `${flaky.url}/v1`, maxRetries: 0 });
      await ask(client, 'Is the bakery open today?');
      expect((await ask(client, 'Is the bakery open today?')).response.headers.get('x-cache')).to.equal('hit');
      await proxy.cut();
      const during = await ask(client, 'Is the bakery open today?');
      expect(during.response.status).to.equal(200);
      expect(during.response.headers.get('x-cache')).to.equal('skipped');
      expect(during.response.headers.get('x-cache-reason')).to.equal('cache_unavailable');
      await proxy.restore();
      expect(await flaky.platform.meter.drain(30_000)).to.equal(true);
    } finally {
      await flaky.stop();
      await proxy.close();
    }
  });
});
