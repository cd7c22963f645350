// Templates, agents CRUD, the LLM setting (BYOK ↔ managed, key replacement), key format checks and the audit log, over real HTTP.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, CANARY_PROVIDER_KEY, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember } from '../support/workspace-members';

const BYOK = { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY } as const;
const CANARY_MASK = 'sk-…9876';
const REPLACEMENT_KEY = 'sk-replacement-key-00000000000000000000ZZ42';
const TEMPLATE_IDS = ['coding-assistant', 'content-writer', 'faq-bot', 'research-agent', 'support-email'];
const AGENT_FIELDS = ['alertThresholds', 'createdAt', 'health', 'id', 'limits', 'llm', 'name', 'sandbox', 'status', 'templateId', 'updatedAt', 'variables', 'workspaceId',
  'routing', // cost-aware routing (#14)
];

describe('agents and templates (HTTP)', function () {
  this.timeout(60_000);
  let test: TestPlatform;
  let url: string;
  let owner: TestUser;

  const agentsPath = () => `/api/workspaces/${owner.workspace.id}/agents`;
  const agentPath = (agentId: string) => `${agentsPath()}/${agentId}`;
  const rawAgent = (agentId: string) => test.platform.models.Agent.findById(agentId).lean();

  before(async () => {
    test = await startTestPlatform();
    url = test.url;
    owner = await registerUser(url, 'Agent owner');
  });
  after(async () => {
    await test?.stop();
  });

  describe('templates', () => {
    it('lists the five templates with their variables', async () => {
      const response = await api(url, 'GET', '/api/templates');
      expect(response.status).to.equal(200);
      expect(response.body.map((template: { id: string }) => template.id)).to.include.members(TEMPLATE_IDS);
      for (const template of response.body) {
        expect(template).to.have.all.keys('id', 'name', 'description', 'recommendedPlan', 'variables', 'estimatedMonthlyTokens');
        expect(['starter', 'pro', 'ultra']).to.include(template.recommendedPlan);
        expect(template.estimatedMonthlyTokens).to.have.all.keys('input', 'output');
        expect(template.variables).to.be.an('array').that.is.not.empty;
        for (const variable of template.variables) {
          expect(variable).to.have.all.keys('name', 'label', 'required', 'default');
          expect(variable.required).to.be.a('boolean');
        }
      }
      const faq = response.body.find((template: { id: string }) => template.id === 'faq-bot');
      expect(faq.variables.map((variable: { name: string }) => variable.name)).to.deep.equal(['businessName', 'facts', 'fallbackContact']);
      expect(faq.variables[0]).to.include({ name: 'businessName', required: true, default: null });
    });

    it('returns one template with its Handlebars source; an unknown one is 404', async () => {
      for (const id of TEMPLATE_IDS) {
        const response = await api(url, 'GET', `/api/templates/${id}`);
        expect(response.status).to.equal(200);
        expect(response.body.id).to.equal(id);
        expect(response.body.systemPrompt).to.equal(fs.readFileSync(path.join(__dirname, '../../templates', id, 'system.hbs'), 'utf8'));
        expect(response.body.variables).to.be.an('array');
      }
      expect((await api(url, 'GET', '/api/templates/no-such-template')).status).to.equal(404);
    });

    it('refuses a missing required variable with 400 TEMPLATE_VARIABLE_MISSING', async () => {
      for (const variables of [{}, { businessName: '   ' }, { facts: 'Open 9-5' }]) {
        const response = await api(url, 'POST', agentsPath(), { token: owner.token, body: { name: 'No name', templateId: 'faq-bot', variables, llm: { mode: 'managed', plan: 'pro' } } });
        expect(response.status, JSON.stringify(variables)).to.equal(400);
        expect(response.body.error.code).to.equal('TEMPLATE_VARIABLE_MISSING');
      }
    });

    it('refuses an unknown variable and an unknown template with 400', async () => {
      const unknownVariable = await api(url, 'POST', agentsPath(), {
        token: owner.token,
        body: { name: 'Extra', templateId: 'faq-bot', variables: { businessName: 'Acme', favouriteColour: 'blue' }, llm: { mode: 'managed', plan: 'pro' } },
      });
      expect(unknownVariable.status).to.equal(400);
      expect(unknownVariable.body.error.code).to.equal('TEMPLATE_VARIABLE_UNKNOWN');
      const unknownTemplate = await api(url, 'POST', agentsPath(), {
        token: owner.token,
        body: { name: 'Nope', templateId: 'no-such-template', variables: {}, llm: { mode: 'managed', plan: 'pro' } },
      });
      expect(unknownTemplate.status).to.equal(400);
      expect(await test.platform.models.Agent.countDocuments({ name: { $in: ['Extra', 'Nope'] } })).to.equal(0);
    });

    it('puts variables with & and < into the prompt sent to the provider unescaped', async () => {
      const businessName = 'Tom & Jerry <Cheese> "Co"';
      const agent = await createAgent(url, owner, BYOK, { variables: { businessName, facts: 'a < b && c > d' } });
      const chat = await api(url, 'POST', `${agentPath(agent.id)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Who are you?' }] } });
      expect(chat.status, chat.text).to.equal(200);
      const sent = test.simulator.lastRequest('openai')!.body as { messages: Array<{ role: string; content: string }> };
      const system = sent.messages.find((message) => message.role === 'system')!.content;
      expect(system).to.include(businessName);
      expect(system).to.include('a < b && c > d');
      expect(system).not.to.match(/&amp;|&lt;|&gt;|&quot;|&#/);
    });
  });

  describe('CRUD', () => {
    it('creates, lists, reads and deletes an agent in the contract\'s shape', async () => {
      const created = await api(url, 'POST', agentsPath(), {
        token: owner.token,
        body: { name: '  FAQ  ', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'managed', plan: 'starter' } },
      });
      expect(created.status).to.equal(201);
      const agent = created.body;
      expect(agent).to.have.all.keys(...AGENT_FIELDS);
      expect(agent).to.include({ workspaceId: owner.workspace.id, name: 'FAQ', templateId: 'faq-bot', status: 'active' });
      expect(agent.variables).to.deep.equal({ businessName: 'Acme', facts: '', fallbackContact: 'our support team' });
      expect(agent.llm).to.deep.equal({ mode: 'managed', plan: 'starter' });
      expect(agent.limits).to.deep.equal({ monthlyTokenCap: null, monthlyBudgetUsd: null, endUserMonthlyTokenCap: null, monthlyOverageBudgetUsd: null });
      expect(agent.sandbox).to.be.a('boolean');

      const list = await api(url, 'GET', agentsPath(), { token: owner.token });
      expect(list.status).to.equal(200);
      expect(list.body.find((item: { id: string }) => item.id === agent.id)).to.deep.equal(agent);
      const read = await api(url, 'GET', agentPath(agent.id), { token: owner.token });
      expect(read.body).to.deep.equal(agent);

      await api(url, 'POST', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      const deleted = await api(url, 'DELETE', agentPath(agent.id), { token: owner.token });
      expect(deleted.status).to.equal(204);
      expect(deleted.text).to.equal('');
      expect((await api(url, 'GET', agentPath(agent.id), { token: owner.token })).status).to.equal(404);
      expect((await api(url, 'DELETE', agentPath(agent.id), { token: owner.token })).status).to.equal(404);
      expect(await test.platform.models.AgentApiKey.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(0);
    });

    it('answers 404 for malformed and unknown agent ids', async () => {
      for (const agentId of ['nope', new Types.ObjectId().toString()]) {
        expect((await api(url, 'GET', agentPath(agentId), { token: owner.token })).status).to.equal(404);
        expect((await api(url, 'PATCH', agentPath(agentId), { token: owner.token, body: { name: 'x' } })).status).to.equal(404);
      }
    });

    it('PATCHes name, variables, status and limits', async () => {
      const agent = await createAgent(url, owner);
      const patched = await api(url, 'PATCH', agentPath(agent.id), {
        token: owner.token,
        body: { name: 'Renamed', variables: { businessName: 'Globex', fallbackContact: 'help@globex.example' }, status: 'paused', limits: { monthlyTokenCap: 500_000, monthlyBudgetUsd: 12.5 } },
      });
      expect(patched.status, patched.text).to.equal(200);
      expect(patched.body).to.include({ name: 'Renamed', status: 'paused' });
      expect(patched.body.variables).to.deep.equal({ businessName: 'Globex', facts: '', fallbackContact: 'help@globex.example' });
      expect(patched.body.limits).to.deep.equal({ monthlyTokenCap: 500_000, monthlyBudgetUsd: 12.5, endUserMonthlyTokenCap: null, monthlyOverageBudgetUsd: null });
      expect((await api(url, 'GET', agentPath(agent.id), { token: owner.token })).body).to.deep.equal(patched.body);

      const cleared = await api(url, 'PATCH', agentPath(agent.id), { token: owner.token, body: { status: 'active', limits: { monthlyTokenCap: null, monthlyBudgetUsd: null } } });
      expect(cleared.body.limits).to.deep.equal({ monthlyTokenCap: null, monthlyBudgetUsd: null, endUserMonthlyTokenCap: null, monthlyOverageBudgetUsd: null });
      expect(cleared.body.status).to.equal('active');
    });

    it('refuses fields PATCH does not own (workspaceId, llm, id, role, ...) with 400 and changes nothing', async () => {
      const other = await registerUser(url, 'Other workspace');
      const agent = await createAgent(url, owner, BYOK);
      const before = (await api(url, 'GET', agentPath(agent.id), { token: owner.token })).body;
      const rawBefore = await rawAgent(agent.id);
      const forbiddenBodies = [
        { workspaceId: other.workspace.id },
        { llm: { mode: 'managed', plan: 'ultra' } },
        { id: new Types.ObjectId().toString() },
        { _id: new Types.ObjectId().toString() },
        { role: 'owner' },
        { templateId: 'coding-assistant' },
        { createdAt: '2000-01-01T00:00:00.000Z' },
        { sandbox: true },
        { name: 'Half written', workspaceId: other.workspace.id },
        { name: 'Half written', llm: { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: REPLACEMENT_KEY } },
        { name: 'Half written', limits: { monthlyTokenCap: 10, sealedKey: null } },
        { name: { $set: { workspaceId: other.workspace.id } } },
        { status: { $ne: 'paused' } },
        { status: 'deleted' },
        { variables: { businessName: { $gt: '' } } },
        { limits: { monthlyTokenCap: { $gt: 0 } } },
        { limits: { monthlyTokenCap: -5 } },
        { $set: { name: 'x' } },
      ];
      for (const body of forbiddenBodies) {
        const response = await api(url, 'PATCH', agentPath(agent.id), { token: owner.token, body });
        expect(response.status, JSON.stringify(body)).to.equal(400);
        expect(response.body.error.code).to.be.a('string');
      }
      expect((await api(url, 'GET', agentPath(agent.id), { token: owner.token })).body).to.deep.equal(before);
      expect(await rawAgent(agent.id)).to.deep.equal(rawBefore);
      expect((await api(url, 'GET', `/api/workspaces/${other.workspace.id}/agents`, { token: other.token })).body).to.deep.equal([]);
    });

    it('refuses operator objects in every field of the create body with 400 and creates nothing', async () => {
      const valid = { name: 'Injected', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { ...BYOK } };
      const injected = [
        { ...valid, name: { $gt: '' } },
        { ...valid, templateId: { $ne: null } },
        { ...valid, variables: { businessName: { $gt: '' } } },
        { ...valid, variables: { $where: 'sleep(100)' } },
        { ...valid, llm: { $gt: '' } },
        { ...valid, llm: { ...valid.llm, mode: { $ne: 'managed' } } },
        { ...valid, llm: { ...valid.llm, provider: { $gt: '' } } },
        { ...valid, llm: { ...valid.llm, model: { $gt: '' } } },
        { ...valid, llm: { ...valid.llm, apiKey: { $gt: '' } } },
        { ...valid, llm: { ...valid.llm, baseUrl: { $gt: '' } } },
        { ...valid, llm: { mode: 'managed', plan: { $in: ['pro'] } } },
        { ...valid, workspaceId: new Types.ObjectId().toString() },
      ];
      for (const body of injected) {
        const response = await api(url, 'POST', agentsPath(), { token: owner.token, body });
        expect(response.status, JSON.stringify(body)).to.equal(400);
      }
      expect(await test.platform.models.Agent.countDocuments({ name: 'Injected' })).to.equal(0);
    });
  });

  describe('LLM setting', () => {
    it('switches managed → BYOK → managed and changes the plan', async () => {
      const agent = await createAgent(url, owner, { mode: 'managed', plan: 'starter' });
      const ultra = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { mode: 'managed', plan: 'ultra' } });
      expect(ultra.status).to.equal(200);
      expect(ultra.body.llm).to.deep.equal({ mode: 'managed', plan: 'ultra' });

      const byok = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: BYOK });
      expect(byok.status).to.equal(200);
      expect(byok.body.llm).to.deep.equal({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', baseUrl: null, key: { mask: CANARY_MASK, status: 'unchecked', checkedAt: null } });
      const test1 = await api(url, 'POST', `${agentPath(agent.id)}/llm/test`, { token: owner.token });
      expect(test1.body).to.include({ ok: true, status: 'valid' });
      expect(test1.body.latencyMs).to.be.a('number');
      const checked = (await api(url, 'GET', agentPath(agent.id), { token: owner.token })).body;
      expect(checked.llm.key.status).to.equal('valid');
      expect(checked.llm.key.checkedAt).to.be.a('string');

      const managed = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { mode: 'managed', plan: 'pro' } });
      expect(managed.body.llm).to.deep.equal({ mode: 'managed', plan: 'pro' });
      const raw = await rawAgent(agent.id);
      expect(raw!.llm.sealedKey).to.equal(null);
      expect(raw!.llm.keyMask).to.equal(null);
    });

    it('keeps the stored key when BYOK comes without apiKey (same provider) and replaces it when one is given', async () => {
      const agent = await createAgent(url, owner, BYOK);
      const sealedBefore = (await rawAgent(agent.id))!.llm.sealedKey;
      const kept = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'openai', model: 'gpt-4o' } });
      expect(kept.status, kept.text).to.equal(200);
      expect(kept.body.llm).to.include({ provider: 'openai', model: 'gpt-4o' });
      expect(kept.body.llm.key.mask).to.equal(CANARY_MASK);
      expect((await rawAgent(agent.id))!.llm.sealedKey).to.deep.equal(sealedBefore);
      expect((await api(url, 'POST', `${agentPath(agent.id)}/llm/test`, { token: owner.token })).body.ok).to.equal(true);

      const replaced = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { ...BYOK, apiKey: REPLACEMENT_KEY } });
      expect(replaced.status).to.equal(200);
      expect(replaced.body.llm.key).to.deep.equal({ mask: 'sk-…ZZ42', status: 'unchecked', checkedAt: null });
      const sealedAfter = (await rawAgent(agent.id))!.llm.sealedKey!;
      expect(sealedAfter.nonce).not.to.equal(sealedBefore!.nonce);
      expect(sealedAfter.ciphertext).not.to.equal(sealedBefore!.ciphertext);
      // The new key is the one used now.
      const callsBefore = test.simulator.requestCount('openai', { apiKey: REPLACEMENT_KEY });
      expect((await api(url, 'POST', `${agentPath(agent.id)}/llm/test`, { token: owner.token })).body.ok).to.equal(true);
      expect(test.simulator.requestCount('openai', { apiKey: REPLACEMENT_KEY })).to.equal(callsBefore + 1);
    });

    it('needs a key for another provider or when coming from managed (400 API_KEY_REQUIRED), changing nothing', async () => {
      const byok = await createAgent(url, owner, BYOK);
      const rawBefore = await rawAgent(byok.id);
      const otherProvider = await api(url, 'PUT', `${agentPath(byok.id)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'mistral', model: 'mistral-small-latest' } });
      expect(otherProvider.status).to.equal(400);
      expect(otherProvider.body.error.code).to.equal('API_KEY_REQUIRED');
      expect(await rawAgent(byok.id)).to.deep.equal(rawBefore);

      const managed = await createAgent(url, owner);
      const noKey = await api(url, 'PUT', `${agentPath(managed.id)}/llm`, { token: owner.token, body: { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini' } });
      expect(noKey.status).to.equal(400);
      expect(noKey.body.error.code).to.equal('API_KEY_REQUIRED');
    });

    it('refuses unknown plans, providers and models with 400 (create and PUT), changing nothing', async () => {
      const agent = await createAgent(url, owner, BYOK);
      const rawBefore = await rawAgent(agent.id);
      const bad = [
        { mode: 'managed', plan: 'platinum' },
        { mode: 'byok', provider: 'skynet', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY },
        { mode: 'byok', provider: 'openai', model: 'gpt-99', apiKey: CANARY_PROVIDER_KEY },
        { mode: 'byok', provider: 'anthropic', model: 'gpt-4o-mini', apiKey: 'sk-ant-api03-abcdefghijklmnop' },
        { mode: 'hybrid', plan: 'pro' },
        { mode: 'managed' },
        { mode: 'managed', plan: 'pro', provider: 'openai' },
      ];
      for (const llm of bad) {
        const put = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: llm });
        expect(put.status, JSON.stringify(llm)).to.equal(400);
        const create = await api(url, 'POST', agentsPath(), { token: owner.token, body: { name: 'Bad LLM', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm } });
        expect(create.status, JSON.stringify(llm)).to.equal(400);
      }
      const unknownModel = await api(url, 'PUT', `${agentPath(agent.id)}/llm`, { token: owner.token, body: { ...BYOK, model: 'gpt-99' } });
      expect(unknownModel.body.error.code).to.equal('UNKNOWN_MODEL');
      expect(await rawAgent(agent.id)).to.deep.equal(rawBefore);
      expect(await test.platform.models.Agent.countDocuments({ name: 'Bad LLM' })).to.equal(0);
    });

    it('requires a baseUrl for the custom provider and refuses one for the others', async () => {
      const custom = { mode: 'byok', provider: 'custom', model: 'llama3.1:8b', apiKey: CANARY_PROVIDER_KEY };
      const missing = await api(url, 'POST', agentsPath(), { token: owner.token, body: { name: 'Custom', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: custom } });
      expect(missing.status).to.equal(400);
      expect(missing.body.error.code).to.equal('BASE_URL_REQUIRED');

      const ok = await createAgent(url, owner, { ...custom, baseUrl: 'https://llm.example.com/v1' });
      expect(ok.llm).to.include({ provider: 'custom', model: 'llama3.1:8b', baseUrl: 'https://llm.example.com/v1' });

      for (const provider of ['openai', 'anthropic', 'groq', 'openrouter']) {
        const model = test.platform.catalog.providers.find((entry) => entry.id === provider)!.models[0]!.id;
        const apiKey = { openai: CANARY_PROVIDER_KEY, anthropic: 'sk-ant-api03-abcdefghijkl', groq: 'gsk_abcdefghijklmnop', openrouter: 'sk-or-v1-abcdefghijklmnop' }[provider];
        const response = await api(url, 'POST', agentsPath(), {
          token: owner.token,
          body: { name: 'Override', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'byok', provider, model, apiKey, baseUrl: 'https://llm.example.com/v1' } },
        });
        expect(response.status, provider).to.equal(400);
        expect(response.body.error.code).to.equal('BASE_URL_NOT_ALLOWED');
      }
    });

    it('sanity-checks the key format against the provider', async () => {
      const create = (provider: string, model: string, apiKey: string) =>
        api(url, 'POST', agentsPath(), { token: owner.token, body: { name: 'Key format', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'byok', provider, model, apiKey } } });
      const anthropicForOpenAi = await create('openai', 'gpt-4o-mini', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz');
      expect(anthropicForOpenAi.status).to.equal(400);
      expect(anthropicForOpenAi.body.error.code).to.equal('API_KEY_FORMAT');
      expect(anthropicForOpenAi.body.error.message).to.equal('This looks like a key for Anthropic, not for OpenAI. Choose Anthropic as the provider, or paste your OpenAI key.');
      expect(anthropicForOpenAi.text).not.to.include('abcdefghijklmnopqrstuvwxyz');

      const openAiForAnthropic = await create('anthropic', 'claude-haiku-4-5', 'sk-proj-abcdefghijklmnopqrstuvwxyz');
      expect(openAiForAnthropic.status).to.equal(400);
      expect(openAiForAnthropic.body.error.message).to.include('sk-ant-');

      const withSpace = await create('openai', 'gpt-4o-mini', 'sk-abc def ghijklmnop');
      expect(withSpace.status).to.equal(400);
      expect((await create('openai', 'gpt-4o-mini', 'sk-1')).status).to.equal(400);

      const groq = await create('groq', 'llama-3.1-8b-instant', 'gsk_abcdefghijklmnopqrstuvwxyz0123');
      expect(groq.status).to.equal(201);
      expect(groq.body.llm.key.mask).to.equal('gsk_…0123');
      expect((await create('groq', 'llama-3.1-8b-instant', 'sk-abcdefghijklmnopqrstuvwxyz')).status).to.equal(400);
      expect((await create('mistral', 'mistral-small-latest', 'abcdefghijklmnopqrstuvwxyz0123')).status).to.equal(201);
    });
  });

  describe('audit log', () => {
    it('records agent, key, member and limit changes with the mask, never the secret', async () => {
      const agent = await createAgent(url, owner, BYOK);
      const steps: Array<[string, string, unknown?]> = [
        ['PATCH', agentPath(agent.id), { name: 'Audited' }],
        ['PUT', `${agentPath(agent.id)}/llm`, { mode: 'byok', provider: 'openai', model: 'gpt-4o' }],
        ['PUT', `${agentPath(agent.id)}/llm`, { ...BYOK, apiKey: REPLACEMENT_KEY }],
        ['PUT', `${agentPath(agent.id)}/llm`, BYOK],
        ['PATCH', agentPath(agent.id), { limits: { monthlyBudgetUsd: 25 } }],
      ];
      for (const [method, path, body] of steps) expect((await api(url, method, path, { token: owner.token, body })).status, `${method} ${path}`).to.equal(200);
      const apiKey = await api(url, 'POST', `${agentPath(agent.id)}/api-keys`, { token: owner.token });
      expect((await api(url, 'DELETE', `${agentPath(agent.id)}/api-keys/${apiKey.body.id}`, { token: owner.token })).status).to.equal(204);
      const member = await registerMember(url, owner, 'viewer');
      expect((await api(url, 'DELETE', agentPath(agent.id), { token: owner.token })).status).to.equal(204);

      const audit = await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/audit`, { token: owner.token });
      expect(audit.status).to.equal(200);
      const mine = (audit.body as Array<{ action: string; targetId: string; actorUserId: string; createdAt: string; changes: any }>).filter(
        (entry) => entry.targetId === agent.id || entry.targetId === member.user.id,
      );
      const actions = mine.map((entry) => entry.action);
      for (const action of ['agent.create', 'agent.update', 'agent.llm.change', 'agent.llm.key_replaced', 'agent.limits.change', 'apikey.create', 'apikey.revoke', 'member.add', 'agent.delete']) {
        expect(actions, action).to.include(action);
      }
      for (const entry of mine) {
        expect(entry.actorUserId).to.equal(owner.user.id);
        expect(entry.createdAt).to.be.a('string');
      }
      const created = mine.find((entry) => entry.action === 'agent.create')!;
      expect(created.changes.llm.keyMask).to.equal(CANARY_MASK);
      const replaced = mine.filter((entry) => entry.action === 'agent.llm.key_replaced');
      expect(replaced.map((entry) => entry.changes.to.keyMask)).to.include.members(['sk-…ZZ42', CANARY_MASK]);
      expect(mine.find((entry) => entry.action === 'apikey.create')!.changes.prefix).to.match(/^ak_/);

      expect(audit.text).to.include(CANARY_MASK);
      for (const secret of [CANARY_PROVIDER_KEY, REPLACEMENT_KEY, apiKey.body.key, 'ciphertext', 'nonce', 'sealedKey']) expect(audit.text).not.to.include(secret);
      const stored = JSON.stringify(await test.platform.models.AuditLog.find({ workspaceId: new Types.ObjectId(owner.workspace.id) }).lean());
      for (const secret of [CANARY_PROVIDER_KEY, REPLACEMENT_KEY, apiKey.body.key]) expect(stored).not.to.include(secret);
    });

    it('is readable by admins and owners only', async () => {
      const admin = await registerMember(url, owner, 'admin');
      const builder = await registerMember(url, owner, 'builder');
      expect((await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/audit`, { token: admin.token })).status).to.equal(200);
      expect((await api(url, 'GET', `/api/workspaces/${owner.workspace.id}/audit`, { token: builder.token })).status).to.equal(403);
    });
  });
});
