// Alert thresholds per workspace and per agent (default 80 and 100 %, whole percentages 1–100), and alerts that
// resolve themselves: the key replaced or valid again, the month over, the limit raised.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember } from '../support/workspace-members';
import defaultCatalog from '../../server/catalog/default-catalog.json';

const PRO_INCLUDED = 2_000;

function writeSmallAllowanceCatalog(): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'catalog-')), 'catalog.json');
  fs.writeFileSync(file, JSON.stringify({ plans: [{ ...defaultCatalog.plans[1], includedTokens: PRO_INCLUDED }] }));
  return file;
}

interface AlertRow {
  id: string;
  type: string;
  agentId: string | null;
  threshold: number | null;
  resolvedAt: string | null;
  resolvedReason: string | null;
}

describe('alerts that act', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    platform = await startTestPlatform({ env: { CATALOG_FILE: writeSmallAllowanceCatalog() } });
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());

  const settings = (method: string, body?: unknown, user = owner) => api(platform.url, method, `/api/workspaces/${user.workspace.id}/alert-settings`, { token: user.token, body });
  const alertsOf = async (agentId: string | null) =>
    ((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alerts`, { token: owner.token })).body as AlertRow[]).filter((alert) => alert.agentId === agentId);
  const waitForAlerts = async (agentId: string | null, done: (alerts: AlertRow[]) => boolean) => {
    let alerts = await alertsOf(agentId);
    for (const deadline = Date.now() + 10_000; !done(alerts) && Date.now() < deadline; alerts = await alertsOf(agentId)) await new Promise((resolve) => setTimeout(resolve, 25));
    return alerts;
  };
  const call = (key: string, content = 'use some of the allowance', maxTokens = 100) =>
    api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content }], max_tokens: maxTokens } });

  it('workspace thresholds: default 80 and 100; admins set 1–100; anything else is a 400 and changes nothing', async () => {
    expect((await settings('GET')).body).to.deep.equal({ thresholds: [80, 100], isDefault: true });
    const bad: unknown[] = [[0], [101], [50.5], [], ['50'], [-5], [10, 20, 30, 40, 50, 60], 'all', { 80: true }];
    for (const thresholds of bad) {
      const response = await settings('PUT', { thresholds });
      expect(response.status, JSON.stringify(thresholds)).to.equal(400);
      expect(response.body.error.code).to.equal('VALIDATION_FAILED');
    }
    expect((await settings('GET')).body.isDefault).to.equal(true);
    const viewer = await registerMember(platform.url, owner, 'builder');
    expect((await settings('PUT', { thresholds: [50] }, viewer)).status).to.equal(403);
    const saved = await settings('PUT', { thresholds: [100, 50, 50] });
    expect(saved.status).to.equal(200);
    expect(saved.body).to.deep.equal({ thresholds: [50, 100], isDefault: false });
  });

  it('crossing a workspace threshold raises an alert for that percentage; an agent threshold wins over the workspace', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const own = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const bad = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${own.id}`, { token: owner.token, body: { alertThresholds: [0] } });
    expect(bad.status).to.equal(400);
    const patched = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${own.id}`, { token: owner.token, body: { alertThresholds: [20] } });
    expect(patched.status).to.equal(200);
    expect(patched.body.alertThresholds).to.deep.equal([20]);
    for (const target of [agent, own]) {
      const key = await createAgentApiKey(platform.url, owner, target.id);
      // Past 50 % of 2,000 tokens and short of 100 %: as many calls as make about 60 % of it.
      const first = await call(key);
      expect(first.status).to.equal(200);
      const calls = Math.ceil((PRO_INCLUDED * 0.6) / (first.body.usage.total_tokens as number));
      for (let index = 1; index < calls; index += 1) expect((await call(key)).status).to.equal(200);
      await platform.platform.meter.drain();
    }
    const workspaceRule = await waitForAlerts(agent.id, (alerts) => alerts.length >= 1);
    expect(workspaceRule.map((alert) => [alert.type, alert.threshold])).to.deep.equal([['allowance_threshold', 50]]);
    const agentRule = await waitForAlerts(own.id, (alerts) => alerts.length >= 1);
    expect(agentRule.map((alert) => [alert.type, alert.threshold])).to.deep.equal([['allowance_threshold', 20]]);
  });

  it('resolves by itself: a key alert when the key is replaced, a past month\'s usage alerts when the month is over', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-invalid-resolve' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    expect((await call(key)).status).to.equal(424);
    const open = await waitForAlerts(agent.id, (alerts) => alerts.length >= 1);
    expect(open.map((alert) => [alert.type, alert.resolvedAt])).to.deep.equal([['key_invalid', null]]);
    await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm`, {
      token: owner.token,
      body: { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-valid-resolve' },
    });
    const resolved = await waitForAlerts(agent.id, (alerts) => alerts[0]?.resolvedAt !== null);
    expect(resolved[0]).to.include({ type: 'key_invalid', resolvedReason: 'key_replaced' });
    expect(resolved[0]!.resolvedAt).to.be.a('string');
    // The same key failing again later is a new incident: the new key is rejected → a new alert.
    platform.simulator.faults.script('openai', [{ status: 401 }], { apiKey: 'sk-test-valid-resolve' });
    expect((await call(key)).status).to.equal(424);
    const again = await waitForAlerts(agent.id, (alerts) => alerts.filter((alert) => alert.type === 'key_invalid').length === 2);
    expect(again.filter((alert) => alert.resolvedAt === null)).to.have.length(1);

    // Last month's allowance alert: the month is over, so it is resolved (when anyone lists alerts, and by the sweep).
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 20));
    const managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    await platform.platform.alerts.raise({ workspaceId: owner.workspace.id, agentId: managed.id, type: 'allowance_80', message: 'last month', at: lastMonth });
    const swept = await alertsOf(managed.id);
    expect(swept.map((alert) => [alert.type, alert.resolvedReason])).to.deep.equal([['allowance_80', 'month_over']]);
  });

  it('a cap alert resolves when the owner raises the cap', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyTokenCap: 200 } } });
    let refused = false;
    for (let index = 0; index < 10 && !refused; index += 1) {
      refused = (await call(key, 'hit the cap', 50)).status === 429;
      await platform.platform.meter.drain();
    }
    expect(refused).to.equal(true);
    const open = await waitForAlerts(agent.id, (alerts) => alerts.some((alert) => alert.type === 'cap_reached'));
    expect(open.find((alert) => alert.type === 'cap_reached')!.resolvedAt).to.equal(null);
    await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyTokenCap: 100_000 } } });
    const resolved = await waitForAlerts(agent.id, (alerts) => alerts.find((alert) => alert.type === 'cap_reached')?.resolvedAt != null);
    expect(resolved.find((alert) => alert.type === 'cap_reached')).to.include({ resolvedReason: 'limit_raised' });
    expect((await call(key, 'after the raise', 50)).status).to.equal(200);
  });
});
