// experience (#18): the `health` of an agent on the agent API, the key test before an agent exists, sandbox keys,
// and the plain-words usage API / CSV for managed agents (no provider, model, platform cost or pool credential).
import net from 'node:net';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';
import { registerMember } from '../support/workspace-members';
import { PROVIDER_IDS } from '../../server/llm/llm.types';
import { getProviderAdapter } from '../../server/llm/providers/provider-registry';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('agent health and the key test (experience #18)', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner('Hana Health');
  let platform: TestPlatform;
  let owner: TestUser;
  const base = () => `/api/workspaces/${owner.workspace.id}`;
  const asOwner = (method: string, path: string, body?: unknown) => api(platform.url, method, `${base()}${path}`, { token: owner.token, body });
  const keyTest = (body: Record<string, unknown>) => asOwner('POST', '/llm/test', body);

  before(() => ({ platform, owner } = platformAndOwner));
  afterEach(() => platform.simulator.faults.clear());

  describe('POST /api/workspaces/:workspaceId/llm/test', () => {
    it('a good key (the simulator standing in for OpenAI) tests valid, a rejected one invalid; nothing is stored or logged', async () => {
      const goodKey = 'sk-pretest-good-4f1c9a77';
      const badKey = 'sk-pretest-invalid-9d2e';
      const good = await keyTest({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: goodKey });
      expect(good.status).to.equal(200);
      expect(good.body).to.include({ ok: true, status: 'valid', sandbox: false });
      expect(good.body.message).to.match(/OpenAI accepted the key/);
      expect(good.headers.get('cache-control')).to.equal('no-store');
      const bad = await keyTest({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: badKey });
      expect(bad.status).to.equal(200);
      expect(bad.body).to.include({ ok: false, status: 'invalid' });
      expect(bad.body.message).to.match(/OpenAI rejected this key/);
      for (const response of [good, bad]) expect(response.text).not.to.contain('pretest-');
      expect(platform.logs.join('\n')).not.to.contain('pretest-');
      expect(await platform.platform.models.Agent.countDocuments({ workspaceId: new Types.ObjectId(owner.workspace.id) })).to.equal(0);
      expect(await platform.platform.models.MeterEvent.countDocuments({ workspaceId: new Types.ObjectId(owner.workspace.id) })).to.equal(0);
    });

    it('refuses what saving would refuse, with the same codes: a base URL for OpenAI, a local address, a malformed key', async () => {
      const openaiWithUrl = await keyTest({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-abcdefgh', baseUrl: 'https://proxy.example.com/v1' });
      expect(openaiWithUrl.status).to.equal(400);
      expect(openaiWithUrl.body.error.code).to.equal('BASE_URL_NOT_ALLOWED');
      const local = await keyTest({ mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: 'ollama-key', baseUrl: 'http://localhost:11434/v1' });
      expect(local.status).to.equal(400);
      expect(local.body.error.code).to.equal('UNSAFE_BASE_URL');
      // The refusal names the operator setting, not "must use https".
      expect(local.body.error.message).to.contain('ALLOW_PRIVATE_BASE_URLS=true');
      expect(local.body.error.message).not.to.match(/must use https/);
      const format = await keyTest({ mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-proj-abcdefgh' });
      expect(format.status).to.equal(400);
      expect(format.body.error.code).to.equal('API_KEY_FORMAT');
      const noKey = await keyTest({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini' });
      expect(noKey.status).to.equal(400);
      expect(noKey.body.error.code).to.equal('VALIDATION_FAILED');
    });

    it('viewers may not test keys (403) and another workspace answers 404', async () => {
      const viewer = await registerMember(platform.url, owner, 'viewer');
      const body = { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-abcdefgh' };
      expect((await api(platform.url, 'POST', `${base()}/llm/test`, { token: viewer.token, body })).status).to.equal(403);
      const stranger = await registerUser(platform.url, 'Sam Stranger');
      expect((await api(platform.url, 'POST', `${base()}/llm/test`, { token: stranger.token, body })).status).to.equal(404);
    });

    it('every BYOK provider can be tried offline with a sandbox key; "invalid" in it still tests as rejected', async function () {
      this.timeout(180_000);
      // An SDK's first call in a process can take many seconds on a loaded machine (more than the key check's 15 s):
      // warm each one up against the simulator first, so the assertions below are about answers, not about start-up.
      for (const id of PROVIDER_IDS) {
        await getProviderAdapter(id)
          .checkKey({ apiKey: 'warm-up-key', baseUrl: platform.simulator.baseUrls[id], signal: AbortSignal.timeout(120_000), timeoutMs: 120_000 })
          .catch(() => undefined);
      }
      const providers = (await api(platform.url, 'GET', '/api/providers')).body as Array<{ id: string; keyPrefix: string | null; models: Array<{ id: string }> }>;
      expect(providers.map((provider) => provider.id)).to.include.members(['openai', 'anthropic', 'mistral', 'groq', 'minimax', 'openrouter', 'custom']);
      for (const provider of providers) {
        const key = `${provider.keyPrefix ?? ''}sandbox-demo`.padEnd(12, 'x');
        const model = provider.models[0]?.id ?? 'llama3.1:8b';
        const result = await keyTest({ mode: 'byok', provider: provider.id, model, apiKey: key });
        expect(result.status, `${provider.id}: ${result.text}`).to.equal(200);
        expect(result.body, `${provider.id}: ${result.text}`).to.include({ ok: true, status: 'valid', sandbox: true });
        expect(result.body.message).to.match(/sandbox/);
      }
      const rejected = await keyTest({ mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-sandbox-invalid' });
      expect(rejected.body).to.include({ ok: false, status: 'invalid', sandbox: true });
    });
  });

  describe('unreachable providers', () => {
    let offline: TestPlatform;
    let builder: TestUser;
    let port: number;
    before(async () => {
      port = await closedPort();
      // OpenAI's address points at a closed port (an offline machine); private addresses are allowed for custom endpoints.
      offline = await startTestPlatform({ env: { OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, ALLOW_PRIVATE_BASE_URLS: 'true' } });
      builder = await registerUser(offline.url, 'Olaf Offline');
    });
    after(async () => offline?.stop());
    const test = (body: Record<string, unknown>) => api(offline.url, 'POST', `/api/workspaces/${builder.workspace.id}/llm/test`, { token: builder.token, body });

    it('OpenAI (no base-URL field): says the server cannot reach OpenAI and offers the sandbox key, never "check the base URL"', async () => {
      const result = await test({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-offline-key-1234' });
      expect(result.status).to.equal(200);
      expect(result.body).to.include({ ok: false, status: 'unreachable' });
      expect(result.body.message).to.match(/OpenAI \(127\.0\.0\.1:\d+\) could not be reached from this Agent Host server/);
      expect(result.body.message).to.contain('sk-sandbox-demo');
      expect(result.body.message).not.to.match(/base URL/i);
    });

    it('a custom endpoint that is down: names the base URL as the thing to check; a local address is allowed by the operator setting', async () => {
      const result = await test({ mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: 'ollama-local-key', baseUrl: `http://127.0.0.1:${port}/v1` });
      expect(result.status, result.text).to.equal(200);
      expect(result.body).to.include({ ok: false, status: 'unreachable' });
      expect(result.body.message).to.match(/Check the base URL/);
      const simulatorAsOllama = await test({ mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: 'ollama-key', baseUrl: offline.simulator.baseUrls.custom });
      expect(simulatorAsOllama.body, simulatorAsOllama.text).to.include({ ok: true, status: 'valid', sandbox: false });
    });

    it('the saved agent\'s connection test says the same', async () => {
      const agent = await createAgent(offline.url, builder, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-offline-key-5678' });
      const result = await api(offline.url, 'POST', `/api/workspaces/${builder.workspace.id}/agents/${agent.id}/llm/test`, { token: builder.token });
      expect(result.body).to.include({ ok: false, status: 'unreachable' });
      expect(result.body.message).to.match(/could not be reached from this Agent Host server/);
      expect(result.body.message).not.to.match(/base URL/i);
      const after = await api(offline.url, 'GET', `/api/workspaces/${builder.workspace.id}/agents/${agent.id}`, { token: builder.token });
      expect(after.body.health).to.include({ state: 'provider_down', canRun: true });
    });
  });

  describe('health on the agent API', () => {
    const chat = (agentId: string) => asOwner('POST', `/agents/${agentId}/chat`, { messages: [{ role: 'user', content: 'When are you open?' }] });

    it('a managed plan on the simulator is "sandbox"; paused is "paused" and cannot run; resumed it is back', async () => {
      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
      expect(agent.health).to.include({ state: 'sandbox', canRun: true });
      expect(agent.health.message).to.match(/billing is simulated/);
      const paused = await asOwner('PATCH', `/agents/${agent.id}`, { status: 'paused' });
      expect(paused.body.health).to.include({ state: 'paused', canRun: false });
      expect(paused.body.health.fix).to.deep.equal({ tab: 'settings', label: 'Resume it in Settings', role: 'builder' });
      const list = await asOwner('GET', '/agents');
      expect(list.body.find((candidate: { id: string }) => candidate.id === agent.id).health.state).to.equal('paused');
      const resumed = await asOwner('PATCH', `/agents/${agent.id}`, { status: 'active' });
      expect(resumed.body.health.state).to.equal('sandbox');
    });

    it('a rejected key is "key_rejected" with the fix in AI setting; a new key clears it', async () => {
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-health-invalid-1' });
      expect(agent.health.state).to.equal('active');
      expect((await chat(agent.id)).status).to.equal(424);
      const rejected = await asOwner('GET', `/agents/${agent.id}`);
      expect(rejected.body.health).to.include({ state: 'key_rejected', canRun: false });
      expect(rejected.body.health.fix.tab).to.equal('setting');
      const replaced = await asOwner('PUT', `/agents/${agent.id}/llm`, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-health-good-2' });
      expect(replaced.body.health.state).to.equal('active');
    });

    it('a used-up cap is "cap_reached" (owner fix); raising it clears it', async () => {
      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
      expect((await chat(agent.id)).status).to.equal(200);
      await platform.platform.meter.drain();
      const capped = await asOwner('PATCH', `/agents/${agent.id}`, { limits: { monthlyTokenCap: 10 } });
      expect(capped.body.health).to.include({ state: 'cap_reached', canRun: false });
      expect(capped.body.health.fix.role).to.equal('owner');
      expect((await chat(agent.id)).body.error.code).to.equal('PLAN_LIMIT_REACHED');
      const raised = await asOwner('PATCH', `/agents/${agent.id}`, { limits: { monthlyTokenCap: null } });
      expect(raised.body.health.state).to.equal('sandbox');
    });

    it('a provider that is down after retries is "provider_down" until the next call succeeds', async () => {
      const key = 'sk-health-outage-3';
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: key });
      platform.simulator.faults.setRate('openai', { status: 500, probability: 1 }, { apiKey: key });
      expect((await chat(agent.id)).status).to.equal(503);
      const down = await asOwner('GET', `/agents/${agent.id}`);
      expect(down.body.health).to.include({ state: 'provider_down', canRun: true });
      platform.simulator.faults.clear();
      expect((await chat(agent.id)).status).to.equal(200);
      expect((await asOwner('GET', `/agents/${agent.id}`)).body.health.state).to.equal('active');
    });

    it('a BYOK agent with a sandbox key runs on the simulator: sandbox badge, health "sandbox", meter events marked sandbox', async () => {
      const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'mistral', model: 'mistral-small-latest', apiKey: 'sandbox-demo-key' });
      expect(agent.sandbox).to.equal(true);
      expect(agent.health.state).to.equal('sandbox');
      const reply = await chat(agent.id);
      expect(reply.status).to.equal(200);
      expect(reply.body.provider).to.equal('mistral');
      await platform.platform.meter.drain();
      const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
      expect(events).to.have.length(1);
      expect(events[0]!.sandbox).to.equal(true);
      // A custom endpoint with a sandbox key needs no base URL.
      const custom = await createAgent(platform.url, owner, { mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: 'sandbox-local' });
      expect(custom.sandbox).to.equal(true);
      expect((await chat(custom.id)).status).to.equal(200);
    });
  });

  describe('plain words for managed agents in the usage API and the CSV', () => {
    it('managed rows carry no provider cost and no models; BYOK rows keep theirs; the CSV blanks provider, model, cost and credential of managed calls', async () => {
      const user = await registerUser(platform.url, 'Penny Plain');
      const managed = await createAgent(platform.url, user, { mode: 'managed', plan: 'starter' });
      const own = await createAgent(platform.url, user, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-plain-own-key' });
      for (const agent of [managed, own]) {
        const reply = await api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agent.id}/chat`, { token: user.token, body: { messages: [{ role: 'user', content: 'hi' }] } });
        expect(reply.status).to.equal(200);
      }
      await platform.platform.meter.drain();
      const usage = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/usage`, { token: user.token });
      const managedRow = usage.body.agents.find((row: { agentId: string }) => row.agentId === managed.id);
      const ownRow = usage.body.agents.find((row: { agentId: string }) => row.agentId === own.id);
      expect(managedRow).not.to.have.property('costUsd');
      expect(ownRow.costUsd).to.be.greaterThan(0);
      expect(usage.body.totals.costUsd).to.equal(ownRow.costUsd);
      const managedUsage = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/agents/${managed.id}/usage`, { token: user.token });
      expect(managedUsage.body.byModel).to.deep.equal([]);
      expect(managedUsage.body).not.to.have.property('costUsd');
      expect(managedUsage.text).not.to.match(/MiniMax|mistral-small|credential|pool:/i);
      const ownUsage = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/agents/${own.id}/usage`, { token: user.token });
      expect(ownUsage.body.byModel[0]).to.include({ provider: 'openai', model: 'gpt-4o-mini' });

      const csv = await api(platform.url, 'GET', `/api/workspaces/${user.workspace.id}/usage/export.csv`, { token: user.token });
      const [header, ...lines] = csv.text.trim().split('\n');
      const columns = header!.split(',');
      const rows = lines.map((line) => Object.fromEntries(line.split(',').map((cell, index) => [columns[index], cell])));
      const managedCsv = rows.find((row) => row.agentId === managed.id)!;
      const ownCsv = rows.find((row) => row.agentId === own.id)!;
      expect(columns).not.to.include('credential');
      for (const column of ['provider', 'model', 'tier', 'costInputUsd', 'costOutputUsd', 'costTotalUsd']) expect(managedCsv[column], column).to.equal('');
      expect(Number(managedCsv.tokensInput)).to.be.greaterThan(0);
      expect(ownCsv).to.include({ provider: 'openai', model: 'gpt-4o-mini' });
      expect(lines.filter((line) => line.includes(managed.id)).join('\n')).not.to.match(/minimax|mistral|pool:/i);
    });
  });
});
