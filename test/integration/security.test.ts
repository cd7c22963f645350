// Security over real HTTP: sealed keys bound to their record, masks only, SSRF refusals, operator injection, agent API keys.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, CANARY_PROVIDER_KEY, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';

const BYOK = { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY } as const;
const CUSTOM = { mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: CANARY_PROVIDER_KEY } as const;
const OTHER_KEY = 'sk-other-agent-key-000000000000000000OTHR';

const UNSAFE_BASE_URLS = [
  'http://127.0.0.1',
  'https://[::127.0.0.1]/v1',
  'https://[::169.254.169.254]/v1',
  'https://[::a9fe:a9fe]/v1',
  'https://localhost',
  'https://localhost./v1',
  'https://api.localhost/v1',
  'https://10.0.0.1',
  'https://172.16.0.1',
  'https://192.168.1.1',
  'https://169.254.169.254',
  'https://169.254.169.254/latest/meta-data/',
  'https://[::1]',
  'https://[fc00::1]',
  'https://[fe80::1]',
  'https://[::ffff:127.0.0.1]',
  'https://[::ffff:169.254.169.254]',
  'https://2130706433',
  'https://0x7f.1',
  'https://0177.0.0.1',
  'https://127.1',
  'https://0.0.0.0',
  'https://100.64.0.1',
  'https://metadata.google.internal',
  'https://user:pass@example.com',
  'https://user@example.com',
  'http://example.com',
  'ftp://example.com',
  'file:///etc/passwd',
  'javascript:alert(1)',
  'not a url',
];

/** Every path to a leaf of a JSON value: ['llm', 'apiKey'], ['messages', 0, 'content'], ... */
function leafPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
  if (Array.isArray(value)) return value.flatMap((item, index) => leafPaths(item, [...prefix, index]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...prefix, key]));
  return [prefix];
}

function withValueAt<T>(body: T, at: Array<string | number>, replacement: unknown): T {
  const copy = structuredClone(body) as any;
  let node = copy;
  for (const key of at.slice(0, -1)) node = node[key];
  node[at[at.length - 1]!] = replacement;
  return copy;
}

describe('security (HTTP)', function () {
  this.timeout(60_000);
  let test: TestPlatform;
  let url: string;
  let owner: TestUser;

  const agentPath = (agentId: string, user: TestUser = owner) => `/api/workspaces/${user.workspace.id}/agents/${agentId}`;
  const rawAgent = (agentId: string) => test.platform.models.Agent.findById(agentId).lean();

  before(async () => {
    test = await startTestPlatform();
    url = test.url;
    owner = await registerUser(url, 'Security owner');
  });
  after(async () => {
    await test?.stop();
  });

  describe('sealed keys', () => {
    for (const where of ['the same workspace', 'another workspace'] as const) {
      it(`a ciphertext copied onto another agent's record (${where}) does not open: the connection test and chat fail`, async () => {
        const victim = await createAgent(url, owner, BYOK);
        const attacker = where === 'the same workspace' ? owner : await registerUser(url, 'Attacker');
        const thief = await createAgent(url, attacker, { ...BYOK, apiKey: OTHER_KEY });
        const stolen = (await rawAgent(victim.id))!.llm.sealedKey;
        await test.platform.models.Agent.updateOne({ _id: new Types.ObjectId(thief.id) }, { $set: { 'llm.sealedKey': stolen, 'llm.keyStatus': 'unchecked' } });

        const canaryCallsBefore = test.simulator.requestCount('openai', { apiKey: CANARY_PROVIDER_KEY });
        const connection = await api(url, 'POST', `${agentPath(thief.id, attacker)}/llm/test`, { token: attacker.token });
        expect(connection.status).to.equal(200);
        expect(connection.body.ok).to.equal(false);
        expect(connection.body.status).to.equal('invalid');
        expect(connection.body.message).to.match(/can no longer be used/);

        const chat = await api(url, 'POST', `${agentPath(thief.id, attacker)}/chat`, { token: attacker.token, body: { messages: [{ role: 'user', content: 'Hi' }] } });
        expect(chat.status, chat.text).to.equal(424);
        expect(chat.body.error.code).to.equal('PROVIDER_KEY_UNUSABLE');
        const streamed = await api(url, 'POST', `${agentPath(thief.id, attacker)}/chat`, { token: attacker.token, body: { messages: [{ role: 'user', content: 'Hi' }], stream: true } });
        expect(streamed.text).not.to.include('"type":"delta"');

        // The victim's key never reached the provider on the thief's behalf.
        expect(test.simulator.requestCount('openai', { apiKey: CANARY_PROVIDER_KEY })).to.equal(canaryCallsBefore);
        for (const response of [connection, chat, streamed]) {
          expect(response.text).not.to.include(stolen!.ciphertext);
          expect(response.text).not.to.include(stolen!.nonce);
        }
        // The victim still works.
        expect((await api(url, 'POST', `${agentPath(victim.id)}/llm/test`, { token: owner.token })).body.ok).to.equal(true);
      });
    }

    it('shows only the mask, never the key, ciphertext, nonce or key id, in any agent response', async () => {
      const created = await api(url, 'POST', `/api/workspaces/${owner.workspace.id}/agents`, {
        token: owner.token,
        body: { name: 'Masked', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: BYOK },
      });
      expect(created.status).to.equal(201);
      const agentId = created.body.id as string;
      const sealed = (await rawAgent(agentId))!.llm.sealedKey!;
      expect(sealed.ciphertext).to.be.a('string').and.not.include(CANARY_PROVIDER_KEY);
      const responses = [
        created,
        await api(url, 'GET', agentPath(agentId), { token: owner.token }),
        await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/agents`, { token: owner.token }),
        await api(url, 'PATCH', agentPath(agentId), { token: owner.token, body: { name: 'Masked 2' } }),
        await api(url, 'PUT', `${agentPath(agentId)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'openai', model: 'gpt-4o' } }),
        await api(url, 'POST', `${agentPath(agentId)}/llm/test`, { token: owner.token }),
        await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/audit`, { token: owner.token }),
      ];
      for (const response of responses) {
        expect(response.status).to.be.within(200, 299);
        for (const forbidden of [CANARY_PROVIDER_KEY, sealed.ciphertext, sealed.nonce, '"ciphertext"', '"nonce"', '"sealedKey"', '"keyId"', '"apiKey"']) {
          expect(response.text, forbidden).not.to.include(forbidden);
        }
      }
      const agent = responses[1]!.body;
      expect(agent.llm.key.mask).to.equal('sk-…9876');
      expect(agent.llm.key).to.have.all.keys('mask', 'status', 'checkedAt');
    });

    it('keeps the stored key for a custom endpoint only while the endpoint stays the same', async () => {
      const agent = await createAgent(url, owner, { ...CUSTOM, baseUrl: 'https://llm.example.com/v1' });
      const rawBefore = await rawAgent(agent.id);
      const sameEndpoint = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'custom', model: 'qwen2.5', baseUrl: 'https://llm.example.com/v1' } });
      expect(sameEndpoint.status, sameEndpoint.text).to.equal(200);
      expect((await rawAgent(agent.id))!.llm.sealedKey).to.deep.equal(rawBefore!.llm.sealedKey);

      // Pointing the stored key at another server needs the key again, or anyone who may edit the agent could collect it.
      const elsewhere = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'custom', model: 'qwen2.5', baseUrl: 'https://collector.example.net/v1' } });
      expect(elsewhere.status).to.equal(400);
      expect(elsewhere.body.error.code).to.equal('API_KEY_REQUIRED');
      expect((await rawAgent(agent.id))!.llm.baseUrl).to.equal('https://llm.example.com/v1');
      const withKey = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { ...CUSTOM, baseUrl: 'https://collector.example.net/v1' } });
      expect(withKey.status).to.equal(200);
    });
  });

  describe('SSRF: custom base URLs', () => {
    it('refuses every loopback, private, link-local, metadata, credentialed or non-https form with 400 UNSAFE_BASE_URL', async () => {
      const accepted = await createAgent(url, owner, { ...CUSTOM, baseUrl: 'https://llm.example.com/v1' });
      const rawBefore = await rawAgent(accepted.id);
      const failures: string[] = [];
      for (const baseUrl of UNSAFE_BASE_URLS) {
        const create = await api(url, 'POST', `/api/workspaces/${owner.workspace.id}/agents`, {
          token: owner.token,
          body: { name: 'SSRF', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { ...CUSTOM, baseUrl } },
        });
        const put = await api(url, 'PUT', `${agentPath(accepted.id)}/llm`, { token: owner.token, body: { ...CUSTOM, baseUrl } });
        for (const response of [create, put]) {
          if (response.status !== 400 || response.body.error.code !== 'UNSAFE_BASE_URL') failures.push(`${baseUrl}: ${response.status} ${response.text}`);
        }
      }
      expect(failures).to.deep.equal([]);
      expect(await test.platform.models.Agent.countDocuments({ name: 'SSRF' })).to.equal(0);
      expect(await rawAgent(accepted.id)).to.deep.equal(rawBefore);
    });

    it('a stored base URL the guard refuses at call time answers 400 UNSAFE_BASE_URL (not 503), and the connection test says why', async () => {
      const agent = await createAgent(url, owner, { ...CUSTOM, baseUrl: 'https://llm.example.com/v1' });
      // As an agent saved before the guard learnt the IPv4-compatible form would be stored.
      await test.platform.models.Agent.updateOne({ _id: agent.id }, { $set: { 'llm.baseUrl': 'https://[::7f00:1]/v1', updatedAt: new Date() } });
      const chat = await api(url, 'POST', `${agentPath(agent.id)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'hi' }] } });
      expect(chat.status).to.equal(400);
      expect(chat.body.error.code).to.equal('UNSAFE_BASE_URL');
      const check = await api(url, 'POST', `${agentPath(agent.id)}/llm/test`, { token: owner.token });
      expect(check.body).to.include({ ok: false, status: 'invalid' });
      expect(check.body.message).to.match(/private|non-public/);
    });

    it('accepts a public https endpoint', async () => {
      const agent = await createAgent(url, owner, { ...CUSTOM, baseUrl: 'https://llm.example.com/v1' });
      expect(agent.llm.baseUrl).to.equal('https://llm.example.com/v1');
      const trailing = await createAgent(url, owner, { ...CUSTOM, baseUrl: 'https://llm.example.com/v1/' });
      expect(trailing.llm.baseUrl).to.equal('https://llm.example.com/v1');
    });
  });

  describe('operator objects in every write route', () => {
    it('answers 400 when any body field of any write route is a query operator object', async () => {
      const agent = await createAgent(url, owner, BYOK);
      const apiKey = await createAgentApiKey(url, owner, agent.id);
      const member = await registerUser(url, 'Member to add');
      const writeRoutes: Array<{ method: string; path: string; body: unknown; token?: string }> = [
        { method: 'POST', path: '/api/auth/register', body: { email: 'fresh@example.com', password: 'long enough password', name: 'Fresh' } },
        { method: 'POST', path: '/api/auth/login', body: { email: owner.email, password: owner.password } },
        { method: 'POST', path: '/api/workspaces', body: { name: 'Workspace' }, token: owner.token },
        { method: 'POST', path: `/api/workspaces/${owner.workspace.id}/members`, body: { email: member.email, role: 'viewer' }, token: owner.token },
        {
          method: 'POST',
          path: `/api/workspaces/${owner.workspace.id}/agents`,
          body: { name: 'Agent', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { ...CUSTOM, baseUrl: 'https://llm.example.com/v1' } },
          token: owner.token,
        },
        { method: 'PATCH', path: agentPath(agent.id), body: { name: 'Agent', variables: { businessName: 'Acme' }, status: 'active', limits: { monthlyTokenCap: 5, monthlyBudgetUsd: 5 } }, token: owner.token },
        { method: 'PUT', path: `${agentPath(agent.id)}/llm`, body: BYOK, token: owner.token },
        { method: 'PUT', path: `${agentPath(agent.id)}/llm`, body: { mode: 'managed', plan: 'pro' }, token: owner.token },
        { method: 'POST', path: `${agentPath(agent.id)}/chat`, body: { messages: [{ role: 'user', content: 'Hi' }], stream: false, maxTokens: 5, temperature: 0.5 }, token: owner.token },
        { method: 'POST', path: '/v1/chat/completions', body: { model: agent.id, messages: [{ role: 'user', content: 'Hi' }], stream: false, max_tokens: 5, temperature: 0.5 }, token: apiKey },
      ];
      const failures: string[] = [];
      let checked = 0;
      for (const route of writeRoutes) {
        for (const at of leafPaths(route.body)) {
          for (const operator of [{ $gt: '' }, { $ne: null }]) {
            const body = withValueAt(route.body, at, operator);
            const response = await api(url, route.method, route.path, { token: route.token, body });
            checked += 1;
            if (response.status !== 400) failures.push(`${route.method} ${route.path} ${at.join('.')}: ${response.status}`);
          }
        }
        // An operator as the whole body, and as an extra top-level field.
        for (const body of [{ $where: '1' }, { ...(route.body as object), $set: { role: 'owner' } }]) {
          const response = await api(url, route.method, route.path, { token: route.token, body });
          if (route.path !== '/v1/chat/completions' && response.status !== 400) failures.push(`${route.method} ${route.path} ${JSON.stringify(body)}: ${response.status}`);
        }
      }
      expect(failures).to.deep.equal([]);
      expect(checked).to.be.greaterThan(40);
      expect(await test.platform.models.User.countDocuments({ email: 'fresh@example.com' })).to.equal(0);
    });
  });

  describe('agent API keys', () => {
    it('are ak_ + 32 random bytes, stored hashed, shown once, and list only their prefix', async () => {
      const agent = await createAgent(url, owner);
      const first = await api(url, 'POST', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      const second = await api(url, 'POST', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      expect(first.status).to.equal(201);
      expect(first.body).to.include.keys('id', 'key', 'prefix');
      const key = first.body.key as string;
      expect(key).to.match(/^ak_[A-Za-z0-9_-]+$/);
      expect(Buffer.from(key.slice(3), 'base64url').length).to.be.at.least(32);
      expect(key.startsWith(first.body.prefix)).to.equal(true);
      expect(first.body.prefix.length).to.be.below(16);
      expect(second.body.key).not.to.equal(key);

      const stored = await test.platform.models.AgentApiKey.collection.find({ agentId: new Types.ObjectId(agent.id) }).toArray();
      expect(stored).to.have.length(2);
      const storedText = JSON.stringify(stored);
      for (const plaintext of [key, second.body.key, key.slice(3), key.slice(10)]) expect(storedText).not.to.include(plaintext);

      const list = await api(url, 'GET', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      expect(list.status).to.equal(200);
      expect(list.body).to.have.length(2);
      for (const item of list.body) expect(item).to.have.all.keys('id', 'name', 'prefix', 'createdAt', 'lastUsedAt');
      expect(list.text).not.to.include(key);
      expect(list.text).not.to.include(second.body.key);
      expect(list.text).not.to.include('keyHash');
    });

    it('authenticate /v1/models, track lastUsedAt, and stop working once revoked', async () => {
      const agent = await createAgent(url, owner);
      const created = await api(url, 'POST', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      const key = created.body.key as string;
      const models = await api(url, 'GET', '/v1/models', { token: key });
      expect(models.status).to.equal(200);
      expect(models.body.data.map((model: { id: string }) => model.id)).to.deep.equal([agent.id]);

      let lastUsedAt: string | null = null;
      for (let attempt = 0; attempt < 40 && !lastUsedAt; attempt += 1) {
        const list = await api(url, 'GET', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
        lastUsedAt = list.body.find((item: { id: string }) => item.id === created.body.id).lastUsedAt;
        if (!lastUsedAt) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(lastUsedAt).to.be.a('string');
      expect(Date.now() - Date.parse(lastUsedAt!)).to.be.below(60_000);

      const revoked = await api(url, 'DELETE', `${agentPath(agent.id)}/api-keys/${created.body.id}`, { token: owner.token });
      expect(revoked.status).to.equal(204);
      const after = await api(url, 'GET', '/v1/models', { token: key });
      expect(after.status).to.equal(401);
      expect(after.body.error).to.include.keys('message', 'type', 'code');
      expect((await api(url, 'POST', '/v1/chat/completions', { token: key, body: { model: agent.id, messages: [{ role: 'user', content: 'Hi' }] } })).status).to.equal(401);
      expect((await api(url, 'DELETE', `${agentPath(agent.id)}/api-keys/${created.body.id}`, { token: owner.token })).status).to.equal(404);
    });

    it('refuses unknown, malformed and user-JWT credentials on /v1 with 401', async () => {
      for (const token of ['ak_doesnotexist', 'sk-not-an-agent-key', owner.token, `ak_${'x'.repeat(200)}`]) {
        expect((await api(url, 'GET', '/v1/models', { token })).status, token.slice(0, 12)).to.equal(401);
      }
      expect((await api(url, 'GET', '/v1/models')).status).to.equal(401);
    });
  });
});
