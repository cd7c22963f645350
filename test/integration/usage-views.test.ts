// Usage beyond calendar months: any date range per day (workspace or one agent), today by hour, the model catalog list.
import { expect } from 'chai';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { meterEventFixture } from '../support/meter-events';

const DAY_MS = 86_400_000;
const dayOf = (time: number) => new Date(time).toISOString().slice(0, 10);

describe('usage views: date ranges, today by hour, model catalog', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;
  let outsider: TestUser;
  let first: { id: string };
  let second: { id: string };
  const now = Date.now();
  const startOfToday = Date.parse(`${dayOf(now)}T00:00:00Z`);

  before(async () => {
    platform = await startTestPlatform();
    owner = await registerUser(platform.url, 'Usage Owner');
    outsider = await registerUser(platform.url, 'Usage Outsider');
    first = await createAgent(platform.url, owner);
    second = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
    const events = [
      { agent: first, at: startOfToday + 5 * 60_000, tokensInput: 100, tokensOutput: 50 },
      { agent: second, at: startOfToday + 6 * 60_000, tokensInput: 10, tokensOutput: 5 },
      { agent: first, at: startOfToday - 40 * DAY_MS + 3_600_000, tokensInput: 7, tokensOutput: 3 },
    ];
    events.forEach((event, index) =>
      platform.platform.meter.record(meterEventFixture({ requestId: `req_views_${index}`, agentId: event.agent.id, workspaceId: owner.workspace.id, timestamp: new Date(Math.min(event.at, now)), tokensInput: event.tokensInput, tokensOutput: event.tokensOutput })),
    );
    await platform.platform.meter.drain();
  });
  after(async () => platform?.stop());

  const ws = () => `/api/workspaces/${owner.workspace.id}`;

  it('sums a date range per day across months, for the workspace and for one agent', async () => {
    const from = dayOf(startOfToday - 45 * DAY_MS);
    const to = dayOf(now);
    const range = await api(platform.url, 'GET', `${ws()}/usage/range?from=${from}&to=${to}`, { token: owner.token });
    expect(range.status).to.equal(200);
    expect(range.body.days).to.have.length(46);
    expect(range.body.totals).to.deep.equal({ requests: 3, tokens: 175 });
    expect(range.body.days.at(-1)).to.deep.include({ date: to, requests: 2, tokens: 165 });
    expect(range.body.days.find((day: { date: string }) => day.date === dayOf(startOfToday - 40 * DAY_MS)).tokens).to.equal(10);
    const one = await api(platform.url, 'GET', `${ws()}/usage/range?from=${from}&to=${to}&agentId=${second.id}`, { token: owner.token });
    expect(one.body.totals).to.deep.equal({ requests: 1, tokens: 15 });
    const defaults = await api(platform.url, 'GET', `${ws()}/usage/range`, { token: owner.token });
    expect(defaults.body.days).to.have.length(30);
    expect(defaults.body.to).to.equal(to);
  });

  it('shows today by hour', async () => {
    const today = await api(platform.url, 'GET', `${ws()}/usage/today`, { token: owner.token });
    expect(today.status).to.equal(200);
    expect(today.body.date).to.equal(dayOf(now));
    expect(today.body.hours).to.have.length(24);
    const midnight = today.body.hours[0];
    expect(midnight).to.deep.include({ hour: '00', requests: 2, tokens: 165 });
    expect(today.body.hours.slice(1).reduce((sum: number, hour: { tokens: number }) => sum + hour.tokens, 0)).to.equal(0);
    const one = await api(platform.url, 'GET', `${ws()}/usage/today?agentId=${first.id}`, { token: owner.token });
    expect(one.body.hours[0].tokens).to.equal(150);
  });

  it("refuses bad ranges and another workspace's agent", async () => {
    expect((await api(platform.url, 'GET', `${ws()}/usage/range?from=2026-11-05&to=2026-11-01`, { token: owner.token })).body.error.code).to.equal('INVALID_DATE_RANGE');
    expect((await api(platform.url, 'GET', `${ws()}/usage/range?from=2020-01-01&to=2026-01-01`, { token: owner.token })).body.error.code).to.equal('INVALID_DATE_RANGE');
    const foreign = await createAgent(platform.url, outsider);
    expect((await api(platform.url, 'GET', `${ws()}/usage/range?agentId=${foreign.id}`, { token: owner.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `${ws()}/usage/today?agentId=${foreign.id}`, { token: owner.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `${ws()}/usage/today`, { token: outsider.token })).status).to.equal(404);
  });

  it('lists the model catalog with prices, context windows and capabilities', async () => {
    const models = await api(platform.url, 'GET', '/api/models');
    expect(models.status).to.equal(200);
    const mini = models.body.find((model: { id: string }) => model.id === 'gpt-4o-mini');
    expect(mini).to.deep.include({ provider: 'openai', providerName: 'OpenAI', inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, contextWindow: 128000 });
    expect(mini.capabilities).to.include.members(['chat', 'streaming', 'tools', 'images', 'structured output']);
  });
});
