// Running agents end to end: real HTTP, the real SDKs against the simulator, the router's retries and failover, the meter hook.
import { expect } from 'chai';
import OpenAI from 'openai';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, CANARY_PROVIDER_KEY, type TestPlatform, type TestUser } from '../support/test-platform';

const POOL_KEY_OPENAI = 'sk-platform-pool-openai-0001';
const POOL_KEY_ANTHROPIC = 'sk-ant-platform-pool-0001';

async function meterEvents(platform: TestPlatform, agentId: string) {
  await platform.platform.meter.drain();
  return platform.platform.models.MeterEvent.find({ agentId }).sort({ timestamp: 1 }).lean();
}

function parseSse(text: string): any[] {
  return text
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => block.slice(6))
    .filter((data) => data !== '[DONE]')
    .map((data) => JSON.parse(data));
}

describe('agent runs (router, simulator, /v1)', function () {
  this.timeout(60_000);
  let sandboxed: TestPlatform;
  let pooled: TestPlatform;
  let owner: TestUser;
  let pooledOwner: TestUser;

  before(async () => {
    sandboxed = await startTestPlatform();
    // Pro runs on pooled platform keys (openai, then anthropic) pointed at the simulator; no sandbox for those.
    pooled = await startTestPlatform({ env: { OPENAI_POOL_KEYS: POOL_KEY_OPENAI, ANTHROPIC_POOL_KEYS: POOL_KEY_ANTHROPIC } });
    owner = await registerUser(sandboxed.url);
    pooledOwner = await registerUser(pooled.url);
  });

  after(async () => {
    await sandboxed?.stop();
    await pooled?.stop();
  });

  afterEach(() => {
    sandboxed.simulator.faults.clear();
    pooled.simulator.faults.clear();
  });

  it('answers a managed agent in sandbox mode and meters the call with sandbox: true', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'managed', plan: 'pro' });
    expect(agent.sandbox).to.equal(true);
    const response = await api(sandboxed.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'What are your opening hours?' }] },
    });
    expect(response.status).to.equal(200);
    expect(response.body.message.role).to.equal('assistant');
    expect(response.body.message.content).to.be.a('string').and.not.empty;
    expect(response.body.usage.inputTokens).to.be.greaterThan(0);
    expect(response.body.usage.outputTokens).to.be.greaterThan(0);
    expect(response.body.provider).to.equal('openai');
    const events = await meterEvents(sandboxed, agent.id);
    expect(events).to.have.length(1);
    expect(events[0]!.requestId).to.equal(response.body.requestId);
    expect(events[0]!.sandbox).to.equal(true);
    expect(events[0]!.mode).to.equal('managed');
    expect(events[0]!.tier).to.equal('standard');
    expect(events[0]!.tokensInput).to.equal(response.body.usage.inputTokens);
    expect(events[0]!.usageSource).to.equal('provider');
    // The template prompt is the system message the provider received.
    const sent = sandboxed.simulator.lastRequest('openai')!.body as { messages: Array<{ role: string; content: string }> };
    expect(sent.messages[0]!.role).to.equal('system');
    expect(sent.messages[0]!.content).to.contain('Acme & Sons');
  });

  it('streams a chat as SSE deltas then one end event with usage', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'managed', plan: 'ultra' });
    const response = await api(sandboxed.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'Tell me a short story about a lighthouse.' }], stream: true },
    });
    expect(response.status).to.equal(200);
    expect(response.headers.get('content-type')).to.contain('text/event-stream');
    const events = parseSse(response.text);
    const deltas = events.filter((event) => event.type === 'delta');
    const end = events.filter((event) => event.type === 'end');
    expect(deltas.length).to.be.greaterThan(1);
    expect(end).to.have.length(1);
    expect(end[0].usage.outputTokens).to.be.greaterThan(0);
    const metered = await meterEvents(sandboxed, agent.id);
    expect(metered).to.have.length(1);
    expect(metered[0]!.requestType).to.equal('stream');
    expect(metered[0]!.provider).to.equal('anthropic');
    expect(metered[0]!.tokensOutput).to.equal(end[0].usage.outputTokens);
  });

  it('serves the official openai SDK on /v1 (JSON and stream with include_usage)', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'managed', plan: 'starter' });
    const key = await createAgentApiKey(sandboxed.url, owner, agent.id);
    const client = new OpenAI({ apiKey: key, baseURL: `${sandboxed.url}/v1`, maxRetries: 0 });
    const models = await client.models.list();
    expect(models.data.map((model) => model.id)).to.deep.equal([agent.id]);

    const completion = await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(completion.object).to.equal('chat.completion');
    expect(completion.choices[0]!.message.content).to.be.a('string').and.not.empty;
    expect(completion.usage!.total_tokens).to.equal(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);

    const stream = await client.chat.completions.create({
      model: agent.id,
      messages: [{ role: 'user', content: 'Stream me something' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).to.not.equal('');
    expect(usage!.completion_tokens).to.be.greaterThan(0);
    const events = await meterEvents(sandboxed, agent.id);
    expect(events).to.have.length(2);
    expect(events.map((event) => event.provider)).to.deep.equal(['minimax', 'minimax']);

    const badKey = new OpenAI({ apiKey: 'ak_not-a-real-key', baseURL: `${sandboxed.url}/v1`, maxRetries: 0 });
    const failure = await badKey.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'hi' }] }).catch((error) => error);
    expect(failure).to.be.instanceOf(OpenAI.AuthenticationError);
  });

  it('BYOK: a key the provider rejects → 424 PROVIDER_KEY_INVALID, key marked invalid, one key_invalid alert, no platform key used', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-invalid-key-000' });
    const before = pooled.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI });
    const response = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.status).to.equal(424);
    expect(response.body.error.code).to.equal('PROVIDER_KEY_INVALID');
    expect(pooled.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI })).to.equal(before);
    const reloaded = await api(pooled.url, 'GET', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}`, { token: pooledOwner.token });
    expect(reloaded.body.llm.key.status).to.equal('invalid');
    const alerts = await api(pooled.url, 'GET', `/api/workspaces/${pooledOwner.workspace.id}/alerts`, { token: pooledOwner.token });
    expect(alerts.body.filter((alert: { type: string; agentId: string }) => alert.type === 'key_invalid' && alert.agentId === agent.id)).to.have.length(1);
    // A second call is refused before any provider request, and raises no second alert.
    const again = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(again.status).to.equal(424);
    expect(await meterEvents(pooled, agent.id)).to.have.length(0);
  });

  it('BYOK: 429 with retry-after then success — the router waits as told and meters once', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY });
    pooled.simulator.faults.script('openai', [{ status: 429, retryAfterSeconds: 1 }], { apiKey: CANARY_PROVIDER_KEY });
    const startedAt = Date.now();
    const response = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.status).to.equal(200);
    expect(Date.now() - startedAt).to.be.at.least(950);
    const events = await meterEvents(pooled, agent.id);
    expect(events).to.have.length(1);
    expect(events[0]!.mode).to.equal('byok');
    expect(events[0]!.priceTotalMicros).to.equal(0);
    expect(events[0]!.costTotalMicros).to.be.greaterThan(0);
    expect(events[0]!.credential).to.match(/^byok:/);
  });

  it('BYOK: rate limited beyond retries → 429 PROVIDER_RATE_LIMITED with Retry-After, never a platform key', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-byok-ratelimited' });
    pooled.simulator.faults.script('openai', Array.from({ length: 6 }, () => ({ status: 429, retryAfterSeconds: 60 })), { apiKey: 'sk-test-byok-ratelimited' });
    const before = pooled.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI });
    const response = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.status).to.equal(429);
    expect(response.body.error.code).to.equal('PROVIDER_RATE_LIMITED');
    expect(response.headers.get('retry-after')).to.equal('60');
    expect(pooled.simulator.requestCount('openai', { apiKey: POOL_KEY_OPENAI })).to.equal(before);
  });

  it('BYOK: 500 then success, and 5xx beyond retries → 503 PROVIDER_UNAVAILABLE', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test-byok-5xx' });
    pooled.simulator.faults.script('anthropic', [{ status: 500 }], { apiKey: 'sk-ant-test-byok-5xx' });
    const ok = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(ok.status).to.equal(200);
    pooled.simulator.faults.script('anthropic', Array.from({ length: 6 }, () => ({ status: 529 })), { apiKey: 'sk-ant-test-byok-5xx' });
    const down = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(down.status).to.equal(503);
    expect(down.body.error.code).to.equal('PROVIDER_UNAVAILABLE');
  });

  it('managed: the primary backend failing is answered by the next one, with the attempts visible in the meter', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'managed', plan: 'pro' });
    expect(agent.sandbox).to.equal(false);
    pooled.simulator.faults.script('openai', [{ status: 503 }]);
    const response = await api(pooled.url, 'POST', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/chat`, {
      token: pooledOwner.token,
      body: { messages: [{ role: 'user', content: 'hi' }], stream: true },
    });
    expect(response.status).to.equal(200);
    const end = parseSse(response.text).find((event) => event.type === 'end');
    expect(end.provider).to.equal('anthropic');
    const events = await meterEvents(pooled, agent.id);
    expect(events).to.have.length(1);
    expect(events[0]!.provider).to.equal('anthropic');
    expect(events[0]!.attempt).to.equal(2);
    expect(events[0]!.credential).to.match(/^pool:anthropic:/);
    expect(events[0]!.sandbox).to.equal(false);
  });

  it('a stream cut mid-way is metered from a tokenizer estimate, flagged estimated/partial', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'managed', plan: 'pro' });
    sandboxed.simulator.faults.script('openai', [{ kind: 'cut', afterChunks: 3 }]);
    const response = await api(sandboxed.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'Write a long answer please about many things' }], stream: true },
    });
    expect(response.status).to.equal(200);
    const events = parseSse(response.text);
    expect(events.some((event) => event.type === 'delta')).to.equal(true);
    expect(events.at(-1).type).to.equal('error');
    const metered = await meterEvents(sandboxed, agent.id);
    expect(metered).to.have.length(1);
    expect(metered[0]!.usageSource).to.equal('estimated');
    expect(metered[0]!.status).to.equal('partial');
    expect(metered[0]!.tokensInput).to.be.greaterThan(0);
  });

  it('a client that hangs up aborts the upstream provider call', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-hang-up' });
    sandboxed.simulator.faults.script('openai', [{ kind: 'timeout', delayMs: 10_000 }], { apiKey: 'sk-test-hang-up' });
    const controller = new AbortController();
    const pending = fetch(`${sandboxed.url}/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'take your time' }], stream: true }),
      signal: controller.signal,
    }).catch((error: Error) => error);
    const waitUntil = async (check: () => boolean) => {
      for (let attempt = 0; attempt < 100 && !check(); attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      return check();
    };
    expect(await waitUntil(() => sandboxed.simulator.waitingRequests() === 1)).to.equal(true);
    controller.abort();
    expect(await pending).to.be.instanceOf(Error);
    // The provider sees the connection closed long before its 10 s delay would have ended.
    expect(await waitUntil(() => sandboxed.simulator.waitingRequests() === 0)).to.equal(true);
  });

  it('refuses an oversized prompt with 413 before any provider call', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-oversized-prompt' });
    const before = sandboxed.simulator.requestCount();
    const huge = 'lorem ipsum dolor sit amet '.repeat(13_000); // ~350k characters ≈ 78k tokens per message; two exceed 128k
    const response = await api(sandboxed.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: huge }, { role: 'assistant', content: 'ok' }, { role: 'user', content: huge }] },
    });
    expect(response.status).to.equal(413);
    expect(response.body.error.code).to.equal('PROMPT_TOO_LARGE');
    expect(sandboxed.simulator.requestCount()).to.equal(before);
  });

  it('a paused agent answers 429 PLAN_LIMIT_REACHED without calling the provider', async () => {
    const agent = await createAgent(sandboxed.url, owner, { mode: 'managed', plan: 'pro' });
    await api(sandboxed.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { status: 'paused' } });
    const key = await createAgentApiKey(sandboxed.url, owner, agent.id);
    const before = sandboxed.simulator.requestCount();
    const response = await api(sandboxed.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: 'any', messages: [{ role: 'user', content: 'hi' }] },
    });
    expect(response.status).to.equal(429);
    expect(response.body.error.code).to.equal('PLAN_LIMIT_REACHED');
    expect(response.body.error.type).to.equal('rate_limit_error');
    expect(sandboxed.simulator.requestCount()).to.equal(before);
  });

  it('connection test reports valid / invalid / out of credit in words and records the status', async () => {
    const agent = await createAgent(pooled.url, pooledOwner, { mode: 'byok', provider: 'groq', model: 'llama-3.1-8b-instant', apiKey: 'gsk_testgoodkey123456' });
    const path = `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/llm/test`;
    const good = await api(pooled.url, 'POST', path, { token: pooledOwner.token });
    expect(good.body).to.include({ ok: true, status: 'valid' });
    await api(pooled.url, 'PUT', `/api/workspaces/${pooledOwner.workspace.id}/agents/${agent.id}/llm`, {
      token: pooledOwner.token,
      body: { mode: 'byok', provider: 'groq', model: 'llama-3.1-8b-instant', apiKey: 'gsk_invalid_key_123456' },
    });
    const bad = await api(pooled.url, 'POST', path, { token: pooledOwner.token });
    expect(bad.body).to.include({ ok: false, status: 'invalid' });
    expect(bad.body.message).to.match(/rejected/);
    expect(bad.body.latencyMs).to.be.a('number');
  });
});
