// Workspace templates over real HTTP: saved from an agent or from scratch, validated (the prompt compiles, every
// variable it uses is declared → 400 naming it), listed, edited, deleted, and used to create agents whose prompt
// is the template's; another workspace cannot see or use them.
import { expect } from 'chai';
import { api, createAgent, registerUser, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';

describe('workspace templates', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  before(() => ({ platform, owner } = platformAndOwner));

  const templatesPath = () => `/api/workspaces/${owner.workspace.id}/templates`;
  const base = {
    name: 'Bakery FAQ',
    description: 'Answers about our bakery.',
    variables: [
      { name: 'shop', label: 'Shop name', required: true },
      { name: 'tone', label: 'Tone', default: 'warm' },
    ],
    systemPrompt: 'You answer for {{shop}} in a {{tone}} tone.{{#if tone}} Keep it short.{{/if}}',
    recommendedPlan: 'starter',
    estimatedMonthlyTokens: { input: 50_000, output: 20_000 },
  };

  it('round trip: create, list, edit, create an agent from it (its prompt is used), delete', async () => {
    const created = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: base });
    expect(created.status, created.text).to.equal(201);
    expect(created.body.id).to.match(/^ws_[a-f0-9]{24}$/);
    const listed = await api(platform.url, 'GET', templatesPath(), { token: owner.token });
    expect(listed.body.map((template: { name: string }) => template.name)).to.deep.equal(['Bakery FAQ']);
    const edited = await api(platform.url, 'PATCH', `${templatesPath()}/${created.body.id}`, { token: owner.token, body: { description: 'Our bakery, edited.' } });
    expect(edited.status).to.equal(200);
    expect(edited.body.description).to.equal('Our bakery, edited.');

    const missing = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents`, { token: owner.token, body: { name: 'Bread bot', templateId: created.body.id, variables: {}, llm: { mode: 'managed', plan: 'starter' } } });
    expect(missing.status).to.equal(400);
    expect(missing.body.error.code).to.equal('TEMPLATE_VARIABLE_MISSING');
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }, { templateId: created.body.id, variables: { shop: 'Le Fournil' } });
    expect(agent.templateId).to.equal(created.body.id);
    expect(agent.variables).to.deep.equal({ shop: 'Le Fournil', tone: 'warm' });
    const patched = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { variables: { shop: 'Le Fournil', unknown: 'x' } } });
    expect(patched.body.error.code).to.equal('TEMPLATE_VARIABLE_UNKNOWN');

    // The agent runs on the template's prompt: a longer shop name makes a longer prompt.
    const run = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(run.status, run.text).to.equal(200);
    const longer = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }, { templateId: created.body.id, variables: { shop: 'Le Fournil de la Rue des Martyrs et des Abbesses' } });
    const longerRun = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${longer.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'hi' }] } });
    expect(longerRun.body.usage.inputTokens).to.be.greaterThan(run.body.usage.inputTokens);

    expect((await api(platform.url, 'DELETE', `${templatesPath()}/${created.body.id}`, { token: owner.token })).status).to.equal(204);
    expect((await api(platform.url, 'GET', `${templatesPath()}/${created.body.id}`, { token: owner.token })).status).to.equal(404);
    // The agent keeps its snapshot and still runs.
    expect((await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'hi' }] } })).status).to.equal(200);
  });

  it('saves an agent as a template: its prompt, its variables with its values as defaults, its plan', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const saved = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { fromAgentId: agent.id, name: 'Our FAQ bot' } });
    expect(saved.status, saved.text).to.equal(201);
    expect(saved.body.systemPrompt).to.contain('{{businessName}}');
    expect(saved.body.variables.find((variable: { name: string }) => variable.name === 'businessName').default).to.equal('Acme & Sons');
    expect(saved.body.recommendedPlan).to.equal('pro');
  });

  it('refuses a prompt that does not compile or uses an undeclared variable, naming it; nothing is saved', async () => {
    const broken = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { ...base, name: 'Broken', systemPrompt: 'Hello {{#if shop}} no end' } });
    expect(broken.status).to.equal(400);
    expect(broken.body.error.code).to.equal('TEMPLATE_INVALID');
    expect(broken.body.error.message).to.match(/does not compile/);
    const undeclared = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { ...base, name: 'Undeclared', systemPrompt: 'For {{shop}} at {{openingHours}}.' } });
    expect(undeclared.status).to.equal(400);
    expect(undeclared.body.error.code).to.equal('TEMPLATE_VARIABLE_UNDECLARED');
    expect(undeclared.body.error.message).to.contain('"openingHours"');
    const inBlock = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { ...base, name: 'In a block', systemPrompt: '{{#if shop}}{{city}}{{/if}}' } });
    expect(inBlock.body.error.code).to.equal('TEMPLATE_VARIABLE_UNDECLARED');
    const duplicate = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { ...base, name: 'Dup', variables: [base.variables[0], base.variables[0]] } });
    expect(duplicate.body.error.code).to.equal('VALIDATION_FAILED');
    const names = (await api(platform.url, 'GET', templatesPath(), { token: owner.token })).body.map((template: { name: string }) => template.name);
    expect(names).to.not.include.members(['Broken', 'Undeclared', 'In a block', 'Dup']);
  });

  it('another workspace neither sees nor uses the template', async () => {
    const created = await api(platform.url, 'POST', templatesPath(), { token: owner.token, body: { ...base, name: 'Private' } });
    const stranger = await registerUser(platform.url);
    expect((await api(platform.url, 'GET', `/api/workspaces/${stranger.workspace.id}/templates/${created.body.id}`, { token: stranger.token })).status).to.equal(404);
    const use = await api(platform.url, 'POST', `/api/workspaces/${stranger.workspace.id}/agents`, { token: stranger.token, body: { name: 'x', templateId: created.body.id, variables: { shop: 'x' }, llm: { mode: 'managed', plan: 'starter' } } });
    expect(use.status).to.equal(400);
    expect(use.body.error.code).to.equal('TEMPLATE_NOT_FOUND');
  });
});
