// Key health that watches: a provider 429 that outlasts the retries marks the BYOK key rate_limited and alerts; the
// background checker (the provider's cheapest authenticated call) checks keys in use at most once per interval,
// once across several instances, and records what it finds; the status history is readable.
import crypto from 'node:crypto';
import { expect } from 'chai';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { uniqueDatabaseName } from '../support/test-database';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';

describe('key health', function () {
  this.timeout(120_000);
  const databaseName = uniqueDatabaseName('key-health');
  const vaultKeys = `keys1:${crypto.randomBytes(32).toString('base64')}`;
  let simulator: SimulatorHandle;
  let platform: TestPlatform;
  let second: TestPlatform;
  let owner: TestUser;

  before(async () => {
    simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0 });
    // Two instances on one database; their checkers are driven by the test (checkDueKeys), not by their timers.
    const options = { simulator, databaseName, env: { VAULT_KEYS: vaultKeys }, keyCheck: { tickMs: 3_600_000, intervalMs: 3_600_000 } };
    platform = await startTestPlatform(options);
    second = await startTestPlatform(options);
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await second?.stop();
    await platform?.stop();
    await simulator?.close();
  });

  const agentOf = async (agentId: string) => (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agentId}`, { token: owner.token })).body;
  const historyOf = async (agentId: string) => (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/key-health`, { token: owner.token })).body.history as Array<{ status: string; previousStatus: string; source: string; keyMask: string }>;
  const alertsOf = async (agentId: string) =>
    ((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alerts`, { token: owner.token })).body as Array<{ type: string; agentId: string; resolvedReason: string | null }>).filter((alert) => alert.agentId === agentId);
  const eventually = async <T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> => {
    let value = await read();
    for (const deadline = Date.now() + 10_000; !done(value) && Date.now() < deadline; value = await read()) await new Promise((resolve) => setTimeout(resolve, 25));
    return value;
  };
  const call = (key: string) => api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: 'hello' }], max_tokens: 20 } });

  it('a 429 that persists after the retries marks the key rate_limited and alerts; the next good call makes it valid and resolves the alert', async () => {
    const apiKey = 'sk-test-rate-limited-key';
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    expect((await call(key)).status).to.equal(200);
    expect((await agentOf(agent.id)).llm.key.status).to.equal('valid');
    // More 429s than the router's attempts (4): the caller gets the 429 after the retries.
    simulator.faults.script('openai', Array.from({ length: 6 }, () => ({ status: 429, retryAfterMs: 10 })), { apiKey });
    const limited = await call(key);
    expect(limited.status).to.equal(429);
    expect(limited.body.error.code).to.equal('PROVIDER_RATE_LIMITED');
    expect((await agentOf(agent.id)).llm.key.status).to.equal('rate_limited');
    const alerts = await eventually(() => alertsOf(agent.id), (rows) => rows.length > 0);
    expect(alerts.map((alert) => alert.type)).to.deep.equal(['key_rate_limited']);

    simulator.faults.clear('openai');
    expect((await call(key)).status).to.equal(200);
    expect((await agentOf(agent.id)).llm.key.status).to.equal('valid');
    const resolved = await eventually(() => alertsOf(agent.id), (rows) => rows[0]?.resolvedReason != null);
    expect(resolved[0]!.resolvedReason).to.equal('key_valid');
    const history = await eventually(() => historyOf(agent.id), (rows) => rows.length >= 3);
    expect(history.map((row) => [row.previousStatus, row.status, row.source])).to.deep.equal([
      ['rate_limited', 'valid', 'call'],
      ['valid', 'rate_limited', 'call'],
      ['unchecked', 'valid', 'call'],
    ]);
    expect(history[0]!.keyMask).to.match(/^sk-/);
    expect(JSON.stringify(history)).to.not.include(apiKey);
  });

  it('the background check checks keys in use once per interval across two instances, and records a key the provider now rejects', async () => {
    const apiKey = 'sk-test-background-checked';
    const used = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey });
    const idleKey = 'sk-test-background-idle';
    const idle = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: idleKey });
    const key = await createAgentApiKey(platform.url, owner, used.id);
    // Keys used by the earlier test are due too: one pass checks them first, so the pass below is about this key.
    await platform.platform.keyHealth.checkDueKeys();
    expect((await call(key)).status).to.equal(200);
    await platform.platform.meter.drain();
    const callsBefore = simulator.requestCount('openai', { apiKey });

    // The provider revoked the key since: the check (GET /models, the cheapest authenticated call) gets a 401.
    simulator.faults.script('openai', [{ status: 401 }], { apiKey });
    const [checkedHere, checkedThere] = await Promise.all([platform.platform.keyHealth.checkDueKeys(), second.platform.keyHealth.checkDueKeys()]);
    expect(checkedHere + checkedThere, 'one instance checked the one key in use').to.equal(1);
    expect(simulator.requestCount('openai', { apiKey }) - callsBefore).to.equal(1);
    expect(simulator.requestCount('openai', { apiKey: idleKey }), 'an unused key is never checked').to.equal(0);
    expect((await agentOf(used.id)).llm.key.status).to.equal('invalid');
    expect((await agentOf(idle.id)).llm.key.status).to.equal('unchecked');
    const history = await eventually(() => historyOf(used.id), (rows) => rows.length >= 2);
    expect(history[0]).to.include({ previousStatus: 'valid', status: 'invalid', source: 'background_check' });
    expect((await eventually(() => alertsOf(used.id), (rows) => rows.length > 0)).map((alert) => alert.type)).to.deep.equal(['key_invalid']);

    // Due again only after the interval: a second pass right away checks nothing.
    expect(await platform.platform.keyHealth.checkDueKeys()).to.equal(0);
    expect(simulator.requestCount('openai', { apiKey }) - callsBefore).to.equal(1);
    // An hour (the interval here, ±25 %) and a half later it is due again: the provider accepts the key once more.
    const later = new Date(Date.now() + 1.5 * 3_600_000);
    expect(await second.platform.keyHealth.checkDueKeys(later)).to.be.at.least(1);
    expect(simulator.requestCount('openai', { apiKey }) - callsBefore).to.equal(2);
    expect((await agentOf(used.id)).llm.key.status).to.equal('valid');
    const resolved = await eventually(() => alertsOf(used.id), (rows) => rows[0]?.resolvedReason != null);
    expect(resolved[0]!.resolvedReason).to.equal('key_valid');
  });

  it('the key status history is per workspace: another workspace gets 404', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-history-scope' });
    const stranger = await registerUser(platform.url);
    const response = await api(platform.url, 'GET', `/api/workspaces/${stranger.workspace.id}/agents/${agent.id}/key-health`, { token: stranger.token });
    expect(response.status).to.equal(404);
  });
});
