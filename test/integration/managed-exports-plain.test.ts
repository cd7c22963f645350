// Every customer export of a managed agent (#18 item 1): the usage CSV, the activity CSV, the statement as JSON, CSV
// and printable HTML (and the statement preview), the conversations export and the visitors' usage carry no catalog
// model id, no platform cost, no provider or pool credential of the platform; the statement reads in conversations.
// The platform's own figures come from the meter events themselves, so the check cannot miss a value it does not know.
import { expect } from 'chai';
import OpenAI from 'openai';
import { Types } from 'mongoose';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { monthOf } from '../../server/metering/pricing';
import { monthBounds, nextMonth } from '../../server/metering/billing/billing-rule';

const visitor = (suffix: string) => `v_${suffix.padEnd(22, 'x')}`;

/** The platform's figures a customer export must not contain, read from the managed agent's meter events. */
interface PlatformFigures {
  models: string[];
  providers: string[];
  credentials: string[];
  costUsd: string[];
}

/** The problems of one export's text: platform models, providers, credentials, costs, and cost-named fields. */
export function exportProblems(text: string, figures: PlatformFigures, catalogModels: string[]): string[] {
  const problems: string[] = [];
  for (const model of new Set([...figures.models, ...catalogModels])) if (text.includes(model)) problems.push(`model ${model}`);
  for (const provider of figures.providers) if (new RegExp(`\\b${provider}\\b`, 'i').test(text)) problems.push(`provider ${provider}`);
  for (const credential of figures.credentials) if (text.includes(credential)) problems.push(`credential ${credential}`);
  if (/pool:/i.test(text)) problems.push('a pool id');
  for (const cost of figures.costUsd) if (text.includes(cost)) problems.push(`the platform cost ${cost}`);
  // Fields named after a cost: only the own-key provider's (the customer's own money) may be there, and empty here.
  for (const field of text.match(/"?\b\w*(?:cost|credential)\w*\b"?/gi) ?? []) {
    if (!/^"?(byokProviderCostUsd|providerCostUsdForInformation|infoProviderCostUsd|providerCostUsd)"?$/i.test(field)) problems.push(`field ${field}`);
  }
  if (/^\s*[[{]/.test(text)) problems.push(...ownKeyCostsNotEmpty(JSON.parse(text)));
  return problems;
}

/** In a JSON export of a managed agent, the own-key cost fields that are there must be null or 0. */
function ownKeyCostsNotEmpty(value: unknown, path = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item, index) => ownKeyCostsNotEmpty(item, `${path}[${index}]`));
  if (!value || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) =>
    /cost/i.test(key) && item !== null && item !== 0 ? [`${path}.${key} = ${JSON.stringify(item)}`] : ownKeyCostsNotEmpty(item, `${path}.${key}`),
  );
}

describe('customer exports of a managed agent: no model, platform cost or credential (#18)', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let owner: TestUser;
  let agent: { id: string };
  let figures: PlatformFigures;
  let catalogModels: string[];
  let month: string;
  const ws = () => `/api/workspaces/${owner.workspace.id}`;

  before(async function () {
    this.timeout(180_000);
    platform = await startTestPlatform({ statements: { closeJob: false }, publicChatLimits: { visitorRequestsPerMinute: 1000, addressRequestsPerMinute: 1000 } });
    catalogModels = ((await api(platform.url, 'GET', '/api/providers')).body as Array<{ models: Array<{ id: string }> }>).flatMap((provider) => provider.models.map((model) => model.id));
    owner = await registerUser(platform.url, 'Ema Export');
    agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }, { name: 'Export helper' });
    // Calls from the playground, from /v1 with a named key and an end user, and from the published chat (kept).
    expect((await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Hello there' }] } })).status).to.equal(200);
    const key = await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/api-keys`, { token: owner.token, body: { name: 'Shop site' } });
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    // Past the Starter allowance (2M tokens) is not reachable here; a long answer makes the calls cost something.
    for (let index = 0; index < 4; index++) {
      await client.chat.completions.create({ model: agent.id, user: `customer-${index % 2}`, max_tokens: 800, messages: [{ role: 'user', content: `Write a long answer about our return policy, part ${index}.` }] });
    }
    expect((await api(platform.url, 'PATCH', `${ws()}/agents/${agent.id}/publishing`, { token: owner.token, body: { allowedOrigins: ['http://127.0.0.1:5555'] } })).status).to.equal(200);
    const published = await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/publishing/publish`, { token: owner.token });
    const chat = await api(platform.url, 'POST', `/api/public/agents/${published.body.slug}/chat`, { body: { visitorId: visitor('e'), message: 'Are you open today?' }, headers: { origin: 'http://127.0.0.1:5555' } });
    expect(chat.status, chat.text).to.equal(200);
    await platform.platform.meter.drain();

    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    expect(events.length).to.be.at.least(6);
    const costs = events.map((event) => event.costTotalMicros ?? 0).filter((cost) => cost > 0);
    expect(costs.length, 'the managed calls have a platform cost to hide').to.be.greaterThan(0);
    const total = costs.reduce((sum, cost) => sum + cost, 0);
    figures = {
      models: [...new Set(events.map((event) => event.model).filter((model): model is string => !!model))],
      providers: [...new Set(events.map((event) => event.provider).filter((provider): provider is string => !!provider))],
      credentials: [...new Set(events.map((event) => event.credential).filter((credential): credential is string => !!credential))],
      // The platform's cost as an export would write it: per call and in total, with 6 decimals and as a plain number.
      costUsd: [...new Set([...costs, total].flatMap((micros) => [(micros / 1_000_000).toFixed(6), String(micros / 1_000_000)]))].filter((text) => text.replace(/[0.]/g, '').length >= 2),
    };
    expect(figures.models.length && figures.credentials.length && figures.providers.length).to.be.greaterThan(0);
    month = monthOf(new Date());
    await platform.platform.statements.close(owner.workspace.id, month, new Date(monthBounds(nextMonth(month)).start.getTime() + 3_600_000));
  });
  after(async () => platform?.stop());

  it('the checker finds the platform figures when they are there (so the export checks can fail)', () => {
    const event = `${figures.models[0]},${figures.credentials[0]},${figures.costUsd[0]}`;
    expect(exportProblems(event, figures, catalogModels)).to.have.length.of.at.least(3);
    expect(exportProblems('requestId,costTotalUsd,credential', figures, catalogModels)).to.have.length(2);
    expect(exportProblems('{"costUsd":0.0001}', figures, catalogModels)).to.have.length(2);
    expect(exportProblems('{"providerCostUsd":0.0001}', figures, catalogModels)).to.have.length(1);
    expect(exportProblems('{"providerCostUsd":null}', figures, catalogModels)).to.deep.equal([]);
    expect(exportProblems('statement,unit,amountUsd,providerCostUsdForInformation', figures, catalogModels)).to.deep.equal([]);
  });

  it('no export carries a model id, the platform cost, a credential or a cost field', async () => {
    const get = async (path: string) => {
      const response = await api(platform.url, 'GET', path, { token: owner.token });
      expect(response.status, `${path}: ${response.text}`).to.equal(200);
      return response.text;
    };
    const exports: Record<string, string> = {
      'activity CSV': await get(`${ws()}/activity/export.csv`),
      'activity list': await get(`${ws()}/activity?agentId=${agent.id}`),
      'statement JSON': await get(`${ws()}/statements/${month}/statement.json`),
      'statement CSV': await get(`${ws()}/statements/${month}/statement.csv`),
      'statement HTML': await get(`${ws()}/statements/${month}/statement.html`),
      'statement preview': await get(`${ws()}/statements/preview`),
      'conversations export': await get(`${ws()}/agents/${agent.id}/conversations/export`),
      'visitors’ usage': await get(`${ws()}/agents/${agent.id}/usage/end-users?month=${month}`),
    };
    expect(exports['activity CSV'].trim().split('\n').length, 'the activity CSV has the calls').to.be.at.least(6);
    expect(exports['conversations export']).to.contain('Are you open today?');
    expect(JSON.parse(exports['visitors’ usage']).top.length).to.be.at.least(2);
    const problems = Object.entries(exports).flatMap(([name, text]) => exportProblems(text, figures, catalogModels).map((problem) => `${name}: ${problem}`));
    expect(problems, problems.join('\n')).to.deep.equal([]);

    // The usage CSV keeps its documented columns (cost and credential among them) but leaves them empty on managed calls.
    const usage = await get(`${ws()}/usage/export.csv?month=${month}`);
    const [header, ...rows] = usage.trim().split('\n');
    const columns = header!.split(',');
    expect(rows.length).to.be.at.least(6);
    for (const row of rows) {
      const cells = Object.fromEntries(row.split(',').map((cell, index) => [columns[index], cell]));
      for (const column of columns.filter((name) => /cost|credential|provider|model/i.test(name))) expect(cells[column], `usage CSV ${column}`).to.equal('');
      expect(exportProblems(row, figures, catalogModels).filter((problem) => !problem.startsWith('field')), row).to.deep.equal([]);
    }

    // The statement reads in the plan's unit: conversations, never tokens, in every format.
    expect(exports['statement HTML']).to.match(/conversation/);
    expect(exports['statement HTML'].replace(/<[^>]+>/g, ' ')).to.not.match(/\btokens?\b/i);
    const statement = JSON.parse(exports['statement JSON']) as { lines: Array<{ unit: string | null; quantity: number | null; description: string }>; agents: Array<{ byokProviderCostUsd: number }> };
    expect(statement.lines.map((line) => line.unit)).to.include('conversations');
    for (const line of statement.lines) {
      expect(line.unit).to.not.equal('tokens');
      expect(line.description).to.not.match(/\btokens?\b/i);
    }
    expect(statement.agents.every((row) => row.byokProviderCostUsd === 0)).to.equal(true);
    expect(exports['statement CSV']).to.not.match(/\btokens?\b/i);
  });

  it('the comparison, the experiment results and the usage split of plans carry no backend model or platform cost', async () => {
    const compared = await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/compare`, {
      token: owner.token,
      body: { messages: [{ role: 'user', content: 'Write a long answer about shipping.' }], settings: [{ llm: { mode: 'managed', plan: 'starter' } }, { llm: { mode: 'managed', plan: 'pro' } }] },
    });
    expect(compared.status, compared.text).to.equal(200);
    const experiment = await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/experiments`, {
      token: owner.token,
      body: { name: 'Starter vs Pro', assignBy: 'request', variants: [{ name: 'A', weight: 50 }, { name: 'B', weight: 50, llm: { mode: 'managed', plan: 'pro' } }] },
    });
    await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/experiments/${experiment.body.id}/actions`, { token: owner.token, body: { action: 'start' } });
    for (let index = 0; index < 6; index++) {
      expect((await api(platform.url, 'POST', `${ws()}/agents/${agent.id}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: `A long answer about returns, ${index}` }] } })).status).to.equal(200);
    }
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    const all: PlatformFigures = {
      ...figures,
      models: [...new Set(events.map((event) => event.model).filter((model): model is string => !!model))],
      costUsd: [],
    };
    const results = await api(platform.url, 'GET', `${ws()}/agents/${agent.id}/experiments/${experiment.body.id}`, { token: owner.token });
    const split = await api(platform.url, 'GET', `${ws()}/usage/experiments`, { token: owner.token });
    expect(results.body.variants.reduce((sum: number, variant: { calls: number }) => sum + variant.calls, 0)).to.equal(6);
    expect(events.filter((event) => event.experiment).some((event) => (event.costTotalMicros ?? 0) > 0), 'the variants have a platform cost to hide').to.equal(true);
    const problems = [
      ...exportProblems(compared.text, all, catalogModels).map((problem) => `compare: ${problem}`),
      ...exportProblems(JSON.stringify({ ...results.body, comparisons: undefined }), all, catalogModels).map((problem) => `experiment results: ${problem}`),
      ...ownKeyCostsNotEmpty(split.body).map((problem) => `usage split: ${problem}`),
    ];
    expect(problems, problems.join('\n')).to.deep.equal([]);
    // The verdict's cost is what a call costs the customer (inside the allowance: nothing), not the platform's cost.
    expect(results.body.comparisons[0].cost.medianA).to.equal(0);
    expect(results.body.comparisons[0].cost.medianB).to.equal(0);
  });

  it('an own-key agent keeps its provider cost on its visitors’ usage (its own money)', async () => {
    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-sandbox-demo' });
    const key = await api(platform.url, 'POST', `${ws()}/agents/${byok.id}/api-keys`, { token: owner.token, body: { name: 'Own' } });
    await new OpenAI({ apiKey: key.body.key, baseURL: `${platform.url}/v1`, maxRetries: 0 }).chat.completions.create({ model: byok.id, user: 'someone', messages: [{ role: 'user', content: 'Hi' }] });
    await platform.platform.meter.drain();
    const rows = (await api(platform.url, 'GET', `${ws()}/agents/${byok.id}/usage/end-users`, { token: owner.token })).body.top as Array<{ costUsd?: number }>;
    expect(rows).to.have.length(1);
    expect(rows[0]!.costUsd).to.be.a('number');
    const managedRows = (await api(platform.url, 'GET', `${ws()}/agents/${agent.id}/usage/end-users`, { token: owner.token })).body.top as Array<Record<string, unknown>>;
    expect(managedRows.every((row) => !('costUsd' in row))).to.equal(true);
  });
});
