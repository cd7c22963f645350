// Cost-aware routing (#14) end to end over real HTTP: a BYOK agent with a light model on another provider and its own
// key (the official SDKs against the simulator), forced models, stickiness by conversation id, managed plan routing
// with the operator's switch and the owner's opt-out, the settings API's validation, and the savings view (its totals
// equal the sum over the meter events, and it reaches the workspace room live).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import { Types } from 'mongoose';
import { io, type Socket } from 'socket.io-client';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember } from '../support/workspace-members';

const MAIN_KEY = 'sk-routing-main-openai-0001';
const LIGHT_KEY = 'sk-ant-routing-light-0001';
const EASY = 'What are your opening hours?';
const HARD = 'Compare the regulatory approaches to AI in the EU, the US and China: scope, enforcement, risk categories, and recommend a strategy for a startup with the trade-offs.';

async function meterEvents(platform: TestPlatform, agentId: string) {
  await platform.platform.meter.drain();
  return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).sort({ timestamp: 1 }).lean();
}

describe('cost-aware routing', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;
  let catalogDir: string;

  before(async () => {
    catalogDir = fs.mkdtempSync(path.join(os.tmpdir(), 'routing-catalog-'));
    // The operator turns plan routing on for Pro (its light backend comes from the default catalog); Ultra stays off.
    const catalogFile = path.join(catalogDir, 'catalog.json');
    fs.writeFileSync(catalogFile, JSON.stringify({ plans: [{ id: 'pro', routing: 'balanced' }] }));
    platform = await startTestPlatform({ env: { CATALOG_FILE: catalogFile } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    fs.rmSync(catalogDir, { recursive: true, force: true });
  });

  async function byokAgentWithLight(): Promise<{ agent: any; key: string; client: OpenAI }> {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: MAIN_KEY });
    const light = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm/light`, {
      token: owner.token,
      body: { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: LIGHT_KEY },
    });
    expect(light.status, light.text).to.equal(200);
    expect(light.body.llm.light).to.deep.include({ provider: 'anthropic', model: 'claude-haiku-4-5' });
    expect(light.body.llm.light.key.mask).to.be.a('string').and.not.include(LIGHT_KEY);
    expect(light.text).to.not.include(LIGHT_KEY);
    const routing = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/routing`, { token: owner.token, body: { setting: 'balanced' } });
    expect(routing.status, routing.text).to.equal(200);
    expect(routing.body.routing).to.include({ setting: 'balanced', effectiveSetting: 'balanced', lightAvailable: true });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    return { agent, key, client: new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 }) };
  }

  it('BYOK: easy requests go to the light model on another provider with its own key, hard ones to the main model; the header and the meter event say why', async () => {
    const { agent, client } = await byokAgentWithLight();
    const sim = platform.simulator;
    const before = { light: sim.requestCount('anthropic', { apiKey: LIGHT_KEY }), main: sim.requestCount('openai', { apiKey: MAIN_KEY }) };

    const easy = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: EASY }] }).withResponse();
    expect(easy.data.choices[0]!.message.content).to.be.a('string').and.not.empty;
    expect(easy.response.headers.get('x-agent-host-routing')).to.match(/^light; score=0(\.\d+)?; reason=simple$/);
    const hard = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: HARD }] }).withResponse();
    expect(hard.response.headers.get('x-agent-host-routing')).to.match(/^strong; score=[\d.]+; reason=analysis$/);
    expect(sim.requestCount('anthropic', { apiKey: LIGHT_KEY }) - before.light, 'the light key served the easy request').to.equal(1);
    expect(sim.requestCount('openai', { apiKey: MAIN_KEY }) - before.main, 'the main key served the hard one').to.equal(1);

    // Streaming too: the decision is in the headers before the first chunk.
    const stream = await client.chat.completions.create({ model: 'agent', stream: true, messages: [{ role: 'user', content: 'Thanks, that is all!' }] }).withResponse();
    expect(stream.response.headers.get('x-agent-host-routing')).to.match(/^light;/);
    let streamed = '';
    for await (const chunk of stream.data) streamed += chunk.choices[0]?.delta?.content ?? '';
    expect(streamed).to.not.equal('');

    const events = await meterEvents(platform, agent.id);
    expect(events.map((event) => [event.provider, event.model, event.routing?.tier])).to.deep.equal([
      ['anthropic', 'claude-haiku-4-5', 'light'],
      ['openai', 'gpt-4o', 'strong'],
      ['anthropic', 'claude-haiku-4-5', 'light'],
    ]);
    const light = events[0]!;
    expect(light.routing).to.include({ tier: 'light', reason: 'simple' });
    expect(light.routing!.strongPrice).to.deep.equal({ inputUsdPerMillion: 2.5, outputUsdPerMillion: 10 });
    // Saved = the tokens at gpt-4o's prices minus what they cost on claude-haiku-4-5 (2.5/10 vs 1/5 per 1M).
    const strongCost = Math.round(light.tokensInput * 2.5) + Math.round(light.tokensOutput * 10);
    expect(light.routing!.savedMicros).to.equal(strongCost - light.costTotalMicros);
    expect(light.routing!.savedMicros).to.be.greaterThan(0);
    expect(light.credential).to.match(/^byok:/);
    expect(events[1]!.routing!.savedMicros).to.equal(0);
  });

  it('a request forces either model with X-Agent-Host-Route; a bad value is a 400 with a stable code', async () => {
    const { agent, key } = await byokAgentWithLight();
    const call = (content: string, route: string) =>
      api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}`, 'x-agent-host-route': route }, body: { model: 'agent', messages: [{ role: 'user', content }] } });
    const forcedLight = await call(HARD, 'light');
    expect(forcedLight.status).to.equal(200);
    expect(forcedLight.headers.get('x-agent-host-routing')).to.match(/^light; score=[\d.]+; reason=forced; forced$/);
    const forcedStrong = await call(EASY, 'STRONG');
    expect(forcedStrong.headers.get('x-agent-host-routing')).to.match(/^strong; .*reason=forced; forced$/);
    const bad = await call(EASY, 'cheap');
    expect(bad.status).to.equal(400);
    expect(bad.body.error.code).to.equal('ROUTE_INVALID');
    // The agent chat API takes the same header.
    const chat = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      token: owner.token,
      headers: { 'x-agent-host-route': 'light' },
      body: { messages: [{ role: 'user', content: HARD }] },
    });
    expect(chat.status).to.equal(200);
    expect(chat.body.routing).to.include({ tier: 'light', forced: true });
    const events = await meterEvents(platform, agent.id);
    expect(events.map((event) => [event.model, event.routing?.forced])).to.deep.equal([
      ['claude-haiku-4-5', true],
      ['gpt-4o', true],
      ['claude-haiku-4-5', true],
    ]);
  });

  it('a request that offers tools is routed to the strong model (reason tools), however short', async () => {
    const { client } = await byokAgentWithLight();
    const withTools = await client.chat.completions
      .create({
        model: 'agent',
        messages: [{ role: 'user', content: 'What time is it in Paris?' }],
        tools: [{ type: 'function', function: { name: 'clock', description: 'The time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      })
      .withResponse();
    expect(withTools.response.headers.get('x-agent-host-routing')).to.match(/^strong; score=[\d.]+; reason=tools$/);
    // The same question again is the same conversation (its first user message), now held on the strong model.
    const again = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'What time is it in Paris?' }] }).withResponse();
    expect(again.response.headers.get('x-agent-host-routing')).to.match(/reason=sticky$/);
    const other = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'What time is it in Rome?' }] }).withResponse();
    expect(other.response.headers.get('x-agent-host-routing')).to.match(/^light;/);
  });

  it('sticky by conversation: after a hard request, easy follow-ups of the same conversation stay on the strong model; another conversation does not', async () => {
    const { key } = await byokAgentWithLight();
    const call = (content: string, conversation: string) =>
      api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}`, 'x-agent-host-conversation': conversation }, body: { model: 'agent', messages: [{ role: 'user', content }] } });
    expect((await call(EASY, 'conv-a')).headers.get('x-agent-host-routing')).to.match(/^light;/);
    expect((await call(HARD, 'conv-a')).headers.get('x-agent-host-routing')).to.match(/^strong; .*reason=analysis; escalated$/);
    expect((await call(EASY, 'conv-a')).headers.get('x-agent-host-routing')).to.match(/^strong; .*reason=sticky$/);
    expect((await call(EASY, 'conv-b')).headers.get('x-agent-host-routing')).to.match(/^light;/);
    // metadata.conversation_id names a conversation too.
    const viaMetadata = await api(platform.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: 'agent', metadata: { conversation_id: 'conv-a' }, messages: [{ role: 'user', content: EASY }] },
    });
    expect(viaMetadata.headers.get('x-agent-host-routing')).to.match(/reason=sticky$/);
  });

  it('managed: the operator turned routing on for Pro (disclosed in its description); the owner can opt the agent out; Ultra has it off', async () => {
    const plans = await api(platform.url, 'GET', '/api/plans');
    const pro = plans.body.find((plan: any) => plan.id === 'pro');
    expect(pro.routing).to.deep.include({ setting: 'balanced', lightModel: { provider: 'groq', model: 'llama-3.1-8b-instant' } });
    expect(pro.description).to.include('Smart routing: simple questions may be answered by a faster, lighter model');
    expect(pro.description.toLowerCase()).to.not.match(/token|gpt|claude|mistral|llama|groq/);
    const ultra = plans.body.find((plan: any) => plan.id === 'ultra');
    expect(ultra.routing.disclosure).to.equal(null);
    expect(ultra.description).to.not.include('Smart routing');

    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    expect(agent.routing).to.include({ setting: null, effectiveSetting: 'balanced', planRouting: 'balanced', lightAvailable: true });
    const chat = (content: string) =>
      api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content }] } });
    const easy = await chat(EASY);
    expect(easy.status).to.equal(200);
    expect(easy.body).to.include({ provider: 'groq', model: 'llama-3.1-8b-instant' });
    expect(easy.headers.get('x-agent-host-routing')).to.match(/^light;/);
    const hard = await chat(HARD);
    expect(hard.body).to.include({ provider: 'openai', model: 'gpt-4o-mini' });

    const optOut = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/routing`, { token: owner.token, body: { alwaysStrong: true } });
    expect(optOut.status).to.equal(200);
    expect(optOut.body.routing).to.include({ alwaysStrong: true, effectiveSetting: 'off' });
    const afterOptOut = await chat(EASY);
    expect(afterOptOut.body.model).to.equal('gpt-4o-mini');
    expect(afterOptOut.headers.get('x-agent-host-routing')).to.equal(null);

    const ultraAgent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'ultra' });
    expect(ultraAgent.routing).to.include({ effectiveSetting: 'off', lightAvailable: false, planRouting: 'off' });
    const refused = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${ultraAgent.id}/routing`, { token: owner.token, body: { setting: 'savings' } });
    expect(refused.status).to.equal(400);
    expect(refused.body.error.code).to.equal('PLAN_ROUTING_OFF');
  });

  it('validates the settings API: stable codes, nothing half-written, roles, another workspace is a 404', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: MAIN_KEY });
    const put = (pathSuffix: string, body: unknown, token = owner.token) => api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}${pathSuffix}`, { token, body });
    expect((await put('/routing', { setting: 'balanced' })).body.error.code, 'no light model yet').to.equal('LIGHT_MODEL_REQUIRED');
    expect((await put('/routing', { degrade: true })).body.error.code).to.equal('LIGHT_MODEL_REQUIRED');
    expect((await put('/routing', { setting: 'fastest' })).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await put('/routing', { setting: 'off', extra: 1 })).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await put('/llm/light', { provider: 'openai', model: 'no-such-model' })).body.error.code).to.equal('UNKNOWN_MODEL');
    expect((await put('/llm/light', { provider: 'anthropic', model: 'claude-haiku-4-5' })).body.error.code, 'another provider needs its own key').to.equal('API_KEY_REQUIRED');
    expect((await put('/llm/light', { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'not-an-anthropic-key' })).body.error.code).to.equal('API_KEY_FORMAT');
    const unchanged = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token });
    expect(unchanged.body.llm.light).to.equal(undefined);
    expect(unchanged.body.routing).to.include({ setting: null, degrade: false, fallbackPlan: null });

    // Same provider and endpoint, no key: the light model uses the agent's key.
    const sameProvider = await put('/llm/light', { provider: 'openai', model: 'gpt-4o-mini' });
    expect(sameProvider.status, sameProvider.text).to.equal(200);
    expect(sameProvider.body.llm.light.key.mask).to.equal(sameProvider.body.llm.key.mask);

    // Builders pick the routing; the fallback plan and degradation spend money: owners only.
    const builder = await registerMember(platform.url, owner, 'builder');
    expect((await put('/routing', { setting: 'savings' }, builder.token)).status).to.equal(200);
    expect((await put('/routing', { fallbackPlan: 'pro' }, builder.token)).status).to.equal(403);
    expect((await put('/routing', { fallbackPlan: 'pro', degrade: true })).body.routing).to.include({ fallbackPlan: 'pro', degrade: true, setting: 'savings' });
    const managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const managedFallback = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${managed.id}/routing`, { token: owner.token, body: { fallbackPlan: 'pro' } });
    expect(managedFallback.body.error.code).to.equal('FALLBACK_NEEDS_BYOK');
    expect((await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${managed.id}/llm/light`, { token: owner.token, body: { provider: 'openai', model: 'gpt-4o-mini' } })).body.error.code).to.equal('LIGHT_MODEL_NEEDS_BYOK');

    const stranger = await registerUser(platform.url);
    const foreign = await api(platform.url, 'PUT', `/api/workspaces/${stranger.workspace.id}/agents/${agent.id}/routing`, { token: stranger.token, body: { setting: 'off' } });
    expect(foreign.status).to.equal(404);
    expect((await api(platform.url, 'GET', `/api/workspaces/${stranger.workspace.id}/agents/${agent.id}/savings`, { token: stranger.token })).status).to.equal(404);

    // Removing the light model turns routing off in effect; the main model change keeps the light model.
    const kept = await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'openai', model: 'gpt-4.1' } });
    expect(kept.body.llm.light).to.include({ model: 'gpt-4o-mini' });
    const removed = await api(platform.url, 'DELETE', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm/light`, { token: owner.token });
    expect(removed.body.llm.light).to.equal(undefined);
    expect(removed.body.routing).to.include({ effectiveSetting: 'off', lightAvailable: false });
  });

  it('savings: per agent and workspace totals equal the sum over the meter events, and reach the workspace room live', async () => {
    const user = await registerUser(platform.url);
    const socket: Socket = io(platform.url, { auth: { token: user.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    const updates: any[] = [];
    socket.on('usage:update', (update) => updates.push(update));
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const joined = await new Promise<{ ok: boolean }>((resolve) => socket.emit('workspace:join', { workspaceId: user.workspace.id }, resolve));
    expect(joined.ok).to.equal(true);
    try {
      const byok = await createAgent(platform.url, user, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: MAIN_KEY });
      await api(platform.url, 'PUT', `/api/workspaces/${user.workspace.id}/agents/${byok.id}/llm/light`, { token: user.token, body: { provider: 'openai', model: 'gpt-4o-mini' } });
      await api(platform.url, 'PUT', `/api/workspaces/${user.workspace.id}/agents/${byok.id}/routing`, { token: user.token, body: { setting: 'savings' } });
      const managed = await createAgent(platform.url, user, { mode: 'managed', plan: 'pro' });
      const chat = (agentId: string, content: string) =>
        api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/chat`, { token: user.token, body: { messages: [{ role: 'user', content }] } });
      for (const content of [EASY, HARD, 'Thanks!', 'Do you ship to Canada?', HARD]) {
        expect((await chat(byok.id, content)).status).to.equal(200);
        expect((await chat(managed.id, content)).status).to.equal(200);
      }
      const live = await (async () => {
        for (let waited = 0; waited < 5000; waited += 25) {
          const found = updates.flatMap((update) => update.agents).find((row: any) => row.agentId === byok.id && row.routing?.routedRequests === 5);
          if (found) return found;
          await new Promise((resolve) => setTimeout(resolve, 25));
        }
        return undefined;
      })();
      expect(live, 'a usage:update carrying the agent row with its routing counters').to.not.equal(undefined);

      for (const agent of [byok, managed]) {
        const events = await meterEvents(platform, agent.id);
        const saved = events.reduce((total, event) => total + (event.routing?.savedMicros ?? 0), 0);
        const light = events.filter((event) => event.routing?.tier === 'light').length;
        const savings = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/agents/${agent.id}/savings`, { token: user.token });
        expect(savings.status).to.equal(200);
        expect(savings.body).to.include({ routedRequests: 5, lightRequests: light, strongRequests: 5 - light, savedMicros: saved, savedUsd: saved / 1e6, requests: 5 });
        expect(light).to.be.within(2, 4);
        expect(saved).to.be.greaterThan(0);
        expect(savings.body.lightShare).to.equal(light / 5);
      }
      const byokSavings = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/agents/${byok.id}/savings`, { token: user.token });
      expect(byokSavings.body.summary).to.match(/^\d+ % of 5 routed requests went to the light model, saving \$[\d.]+ against always using the strong model\./);
      const managedSavings = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/agents/${managed.id}/savings`, { token: user.token });
      expect(managedSavings.body.summary).to.match(/^Smart routing answered \d+ % of questions with the faster model\./);

      const workspace = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/savings`, { token: user.token });
      const allEvents = [...(await meterEvents(platform, byok.id)), ...(await meterEvents(platform, managed.id))];
      expect(workspace.body).to.include({
        routedRequests: 10,
        lightRequests: allEvents.filter((event) => event.routing?.tier === 'light').length,
        savedMicros: allEvents.reduce((total, event) => total + (event.routing?.savedMicros ?? 0), 0),
      });
      expect(workspace.body.agents).to.have.length(2);
    } finally {
      socket.disconnect();
    }
  });
});
