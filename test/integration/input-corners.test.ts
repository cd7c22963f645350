// Names and bodies that would store something other than what the person typed are refused with a clear 4xx and
// change nothing: control and bidi-override characters, lone surrogates, bytes that are not UTF-8, a budget too
// small to be stored.
import { expect } from 'chai';
import { api, createAgent, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';

describe('input corners', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  before(() => ({ platform, owner } = platformAndOwner));

  const agentsPath = () => `/api/workspaces/${owner.workspace.id}/agents`;

  it('refuses names with NUL, other control characters, bidi overrides or lone surrogates — agents, workspaces and people', async () => {
    const agent = await createAgent(platform.url, owner);
    const bad = ['Sales\u0000bot', 'Line\nbreak', 'Invoice \u202Egnp.exe', 'Isolate\u2067x\u2069', 'Half \uD83D surrogate', 'Other half \uDE00'];
    for (const name of bad) {
      const create = await api(platform.url, 'POST', agentsPath(), { token: owner.token, body: { name, templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'managed', plan: 'pro' } } });
      const rename = await api(platform.url, 'PATCH', `${agentsPath()}/${agent.id}`, { token: owner.token, body: { name } });
      const workspace = await api(platform.url, 'POST', '/api/workspaces', { token: owner.token, body: { name } });
      const person = await api(platform.url, 'POST', '/api/auth/register', { body: { email: `n${Date.now()}${Math.random()}@example.com`, password: 'a long enough password', name } });
      for (const answer of [create, rename, workspace, person]) {
        expect(answer.status, JSON.stringify(name)).to.equal(400);
        expect(answer.body.error.code).to.equal('VALIDATION_FAILED');
      }
    }
    const after = await api(platform.url, 'GET', `${agentsPath()}/${agent.id}`, { token: owner.token });
    expect(after.body.name).to.equal(agent.name);
    // Ordinary non-ASCII names are fine.
    const fine = await api(platform.url, 'PATCH', `${agentsPath()}/${agent.id}`, { token: owner.token, body: { name: 'Zoë’s 日本語 bot 🚀' } });
    expect(fine.status).to.equal(200);
    expect(fine.body.name).to.equal('Zoë’s 日本語 bot 🚀');
  });

  it('a body that is not UTF-8 is 415 UNSUPPORTED_ENCODING on the API and on /v1, and renames nothing', async () => {
    const agent = await createAgent(platform.url, owner);
    const notUtf8 = Buffer.concat([Buffer.from('{"name":"Bad '), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const patch = await fetch(`${platform.url}${agentsPath()}/${agent.id}`, { method: 'PATCH', headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' }, body: notUtf8 });
    expect(patch.status).to.equal(415);
    expect(((await patch.json()) as { error: { code: string } }).error.code).to.equal('UNSUPPORTED_ENCODING');
    expect((await api(platform.url, 'GET', `${agentsPath()}/${agent.id}`, { token: owner.token })).body.name).to.equal(agent.name);
    const v1 = await fetch(`${platform.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: 'Bearer ak_whatever', 'content-type': 'application/json' }, body: notUtf8 });
    expect(v1.status).to.equal(415);
    expect(((await v1.json()) as { error: { code: string } }).error.code).to.equal('UNSUPPORTED_ENCODING');
  });

  it('a monthly budget under one micro-dollar is refused instead of being stored as $0 and blocking the agent', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-budget-corner-0001' });
    for (const monthlyBudgetUsd of [1e-9, 1e-7, 0]) {
      const answer = await api(platform.url, 'PATCH', `${agentsPath()}/${agent.id}`, { token: owner.token, body: { limits: { monthlyBudgetUsd } } });
      expect(answer.status).to.equal(400);
    }
    const smallest = await api(platform.url, 'PATCH', `${agentsPath()}/${agent.id}`, { token: owner.token, body: { limits: { monthlyBudgetUsd: 0.000001 } } });
    expect(smallest.status).to.equal(200);
    expect(smallest.body.limits.monthlyBudgetUsd).to.equal(0.000001);
  });
});
