// A/B experiments end to end: create / start / pause / stop over real HTTP, calls through /v1 with the openai SDK
// assigned by end user, meter events carrying the variant, feedback, results and the verdict, promotion through the
// agent's LLM setting, the usage split, the side-by-side comparison, and bad input.
import { expect } from 'chai';
import OpenAI from 'openai';
import { api, createAgent, createAgentApiKey, registerUser, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';

describe('A/B experiments and side-by-side comparison', function () {
  this.timeout(90_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  let other: TestUser;

  before(async () => {
    ({ platform, owner } = platformAndOwner);
    other = await registerUser(platform.url);
  });

  const base = (user: TestUser, agentId: string) => `/api/workspaces/${user.workspace.id}/agents/${agentId}`;
  const twoPlans = { name: 'Pro or Starter', assignBy: 'user', variants: [{ weight: 50 }, { name: 'Starter', weight: 50, llm: { mode: 'managed', plan: 'starter' } }] };

  it('assigns each end user one variant, meters the variant, counts feedback, compares and promotes', async () => {
    const agent = await createAgent(platform.url, owner);
    const created = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments`, { token: owner.token, body: twoPlans });
    expect(created.status, created.text).to.equal(201);
    expect(created.body.status).to.equal('draft');
    expect(created.body.variants.map((variant: { key: string }) => variant.key)).to.deep.equal(['A', 'B']);
    const experimentId = created.body.id;
    const started = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${experimentId}/actions`, { token: owner.token, body: { action: 'start' } });
    expect(started.body.status).to.equal('running');

    // A second running experiment on the same agent is refused.
    const second = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments`, { token: owner.token, body: twoPlans });
    const secondStart = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${second.body.id}/actions`, { token: owner.token, body: { action: 'start' } });
    expect(secondStart.status).to.equal(409);
    expect(secondStart.body.error.code).to.equal('EXPERIMENT_ALREADY_RUNNING');

    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const variantOf = new Map<string, string>();
    const requestIds: Array<{ requestId: string; variant: string }> = [];
    for (let round = 0; round < 2; round += 1) {
      for (let user = 0; user < 8; user += 1) {
        const { response } = await client.chat.completions.create({ model: 'agent', user: `customer-${user}`, messages: [{ role: 'user', content: `Question ${round} from ${user}` }] }).withResponse();
        const [id, variant] = (response.headers.get('x-experiment') ?? '').split(':');
        expect(id).to.equal(experimentId);
        if (round === 1) expect(variant).to.equal(variantOf.get(`customer-${user}`));
        variantOf.set(`customer-${user}`, variant!);
        requestIds.push({ requestId: response.headers.get('x-request-id')!, variant: variant! });
      }
    }
    expect(new Set(variantOf.values()).size).to.equal(2);

    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: agent.id }).lean();
    expect(events).to.have.length(16);
    for (const event of events) {
      expect(event.experiment!.id).to.equal(experimentId);
      // Variant B runs on Starter: its events carry that plan.
      expect(event.plan).to.equal(event.experiment!.variant === 'B' ? 'starter' : 'pro');
    }

    // Feedback on answers by request id; another workspace's request is not found.
    for (const [index, { requestId }] of requestIds.entries()) {
      const rated = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/feedback`, { token: owner.token, body: { requestId, rating: index % 3 === 0 ? 'down' : 'up' } });
      expect(rated.status, rated.text).to.equal(200);
    }
    const foreign = await api(platform.url, 'POST', `/api/workspaces/${other.workspace.id}/feedback`, { token: other.token, body: { requestId: requestIds[0]!.requestId, rating: 'up' } });
    expect(foreign.status).to.equal(404);
    expect(foreign.body.error.code).to.equal('NOT_FOUND');

    const results = await api(platform.url, 'GET', `${base(owner, agent.id)}/experiments/${experimentId}`, { token: owner.token });
    expect(results.status, results.text).to.equal(200);
    const [a, b] = results.body.variants;
    expect(a.calls + b.calls).to.equal(16);
    expect(a.ratingsUp + a.ratingsDown + b.ratingsUp + b.ratingsDown).to.equal(16);
    expect(a.feedbackRate).to.equal(1);
    expect(a.tokens).to.be.greaterThan(0);
    expect(a.latencyP95Ms).to.be.at.least(a.latencyP50Ms);
    expect(results.body.minimumSample.callsPerVariant).to.equal(30);
    expect(results.body.minimumSample.ratingsPerVariant).to.be.greaterThan(30);
    expect(results.body.comparisons).to.have.length(1);
    expect(results.body.verdict).to.match(/^Not enough calls yet/);

    const split = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/usage/experiments`, { token: owner.token });
    expect(split.body.variants.filter((row: { experimentId: string }) => row.experimentId === experimentId).reduce((sum: number, row: { calls: number }) => sum + row.calls, 0)).to.equal(16);
    // The savings view takes the experiment as a source: each variant's saving against the first at this month's prices.
    type VariantRow = { experimentId: string; variant: string; calls: number; priceMicros: number };
    const variantRows = (split.body.variants as VariantRow[]).filter((row) => row.experimentId === experimentId);
    const savings = await api(platform.url, 'GET', `${base(owner, agent.id)}/savings`, { token: owner.token });
    expect(savings.status).to.equal(200);
    const first = variantRows[0]!;
    const average = (row: VariantRow) => (row.calls > 0 ? Math.round(row.priceMicros / row.calls) : 0);
    for (const row of variantRows) {
      const reported = (savings.body.experiments as Array<{ experimentId: string; variant: string; savedVsFirstMicros: number }>).find((entry) => entry.experimentId === experimentId && entry.variant === row.variant);
      expect(reported, row.variant).to.not.equal(undefined);
      expect(reported!.savedVsFirstMicros).to.equal(row === first || row.calls === 0 ? 0 : (average(first) - average(row)) * row.calls);
    }

    // Pause: calls run the agent's own setting again, without a variant.
    await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${experimentId}/actions`, { token: owner.token, body: { action: 'pause' } });
    const paused = await client.chat.completions.create({ model: 'agent', user: 'customer-1', messages: [{ role: 'user', content: 'paused?' }] }).withResponse();
    expect(paused.response.headers.get('x-experiment')).to.equal(null);

    // Promote B: the agent's LLM setting becomes Starter, recorded like any change of setting (audit log).
    const promoted = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${experimentId}/promote`, { token: owner.token, body: { variant: 'B' } });
    expect(promoted.status, promoted.text).to.equal(200);
    expect(promoted.body.applied).to.deep.equal(['llm']);
    expect(promoted.body.experiment).to.include({ status: 'stopped', promotedVariant: 'B' });
    expect(promoted.body.agent.llm).to.deep.equal({ mode: 'managed', plan: 'starter' });
    const audit = await platform.platform.models.AuditLog.find({ targetId: agent.id, action: 'agent.llm.change' }).lean();
    expect(audit).to.have.length(1);
    const again = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${experimentId}/promote`, { token: owner.token, body: { variant: 'A' } });
    expect(again.status).to.equal(409);
    expect(again.body.error.code).to.equal('EXPERIMENT_STATE');
  });

  it('template variable and temperature variants run with their overrides', async () => {
    const agent = await createAgent(platform.url, owner);
    const created = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments`, {
      token: owner.token,
      body: { name: 'Name test', assignBy: 'request', variants: [{ weight: 0 }, { weight: 100, temperature: 0.1, variables: { businessName: 'Variant Shop' } }] },
    });
    expect(created.status, created.text).to.equal(201);
    await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${created.body.id}/actions`, { token: owner.token, body: { action: 'start' } });
    const chat = await api(platform.url, 'POST', `${base(owner, agent.id)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Who are you?' }] } });
    expect(chat.status, chat.text).to.equal(200);
    expect(chat.body.experiment).to.deep.equal({ id: created.body.id, variant: 'B' });
    const sent = platform.simulator.lastRequest('openai')!.body as { messages: Array<{ role: string; content: string }>; temperature?: number };
    expect(sent.messages[0]!.content).to.include('Variant Shop');
    expect(sent.temperature).to.equal(0.1);
    const promoted = await api(platform.url, 'POST', `${base(owner, agent.id)}/experiments/${created.body.id}/promote`, { token: owner.token, body: { variant: 'B' } });
    expect(promoted.body.applied).to.deep.equal(['variables']);
    expect(promoted.body.agent.variables.businessName).to.equal('Variant Shop');
    expect(promoted.body.note).to.match(/Temperature/);
  });

  it('refuses a split not summing to 100, unusable variants and another workspace’s agent with stable codes', async () => {
    const agent = await createAgent(platform.url, owner);
    const post = (body: unknown, user = owner, agentId = agent.id) => api(platform.url, 'POST', `${base(user, agentId)}/experiments`, { token: user.token, body });
    const split = await post({ name: 'x', variants: [{ weight: 50 }, { weight: 40 }] });
    expect(split.status).to.equal(400);
    expect(split.body.error.code).to.equal('EXPERIMENT_SPLIT_INVALID');
    const noKey = await post({ name: 'x', variants: [{ weight: 50 }, { weight: 50, llm: { mode: 'byok', provider: 'openai', model: 'gpt-4o' } }] });
    expect(noKey.status).to.equal(400);
    expect(noKey.body.error.code).to.equal('EXPERIMENT_VARIANT_UNAVAILABLE');
    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-byok-experiments-0001' });
    const unknownModel = await post({ name: 'x', variants: [{ weight: 50 }, { weight: 50, llm: { mode: 'byok', provider: 'openai', model: 'gpt-9-ultra' } }] }, owner, byok.id);
    expect(unknownModel.body.error.code).to.equal('EXPERIMENT_VARIANT_UNAVAILABLE');
    const otherProvider = await post({ name: 'x', variants: [{ weight: 50 }, { weight: 50, llm: { mode: 'byok', provider: 'mistral', model: 'mistral-small-latest' } }] }, owner, byok.id);
    expect(otherProvider.body.error.code).to.equal('EXPERIMENT_VARIANT_UNAVAILABLE');
    const sameKey = await post({ name: 'x', variants: [{ weight: 50 }, { weight: 50, llm: { mode: 'byok', provider: 'openai', model: 'gpt-4o' } }] }, owner, byok.id);
    expect(sameKey.status, sameKey.text).to.equal(201);
    expect((await post({ name: 'x', variants: [{ weight: 100 }] })).body.error.code).to.equal('VALIDATION_FAILED');
    expect((await post({ name: 'x', variants: [{ weight: 50 }, { weight: 50, variables: { nope: 'x' } }] })).body.error.code).to.equal('TEMPLATE_VARIABLE_UNKNOWN');
    const foreign = await post(twoPlans, other, agent.id);
    expect([403, 404]).to.include(foreign.status);
    const foreignInOwn = await api(platform.url, 'POST', `/api/workspaces/${other.workspace.id}/agents/${agent.id}/experiments`, { token: other.token, body: twoPlans });
    expect(foreignInOwn.status).to.equal(404);
    expect(await platform.platform.models.Experiment.countDocuments({ agentId: agent.id })).to.equal(0);
  });

  it('compares two or three settings side by side, each metered normally', async () => {
    const agent = await createAgent(platform.url, owner);
    const compared = await api(platform.url, 'POST', `${base(owner, agent.id)}/compare`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'Describe your return policy' }], settings: [{ llm: { mode: 'managed', plan: 'starter' } }, { llm: { mode: 'managed', plan: 'pro' } }, { llm: { mode: 'managed', plan: 'ultra' } }] },
    });
    expect(compared.status, compared.text).to.equal(200);
    expect(compared.body.results).to.have.length(3);
    for (const result of compared.body.results) {
      expect(result.ok).to.equal(true);
      expect(result.content).to.include('return policy');
      expect(result.usage.inputTokens).to.be.greaterThan(0);
      expect(result.latencyMs).to.be.at.least(0);
      expect(result.priceMicros).to.be.a('number');
      // Plans: no backend model and no platform cost in the answer (#18).
      expect(result).to.not.have.property('costMicros');
      expect(result).to.not.have.property('model');
    }
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: agent.id }).lean();
    expect(events.map((event) => event.plan).sort()).to.deep.equal(['pro', 'starter', 'ultra']);
    expect(new Set(events.map((event) => event.requestId)).size).to.equal(3);
    const tooMany = await api(platform.url, 'POST', `${base(owner, agent.id)}/compare`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'x' }], settings: [{ llm: { mode: 'managed', plan: 'pro' } }] },
    });
    expect(tooMany.status).to.equal(400);
    const unusable = await api(platform.url, 'POST', `${base(owner, agent.id)}/compare`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'x' }], settings: [{ llm: { mode: 'managed', plan: 'pro' } }, { llm: { mode: 'byok', provider: 'groq', model: 'llama-3.1-8b-instant' } }] },
    });
    expect(unusable.body.error.code).to.equal('EXPERIMENT_VARIANT_UNAVAILABLE');
  });
});
