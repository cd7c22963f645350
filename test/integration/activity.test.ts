// The activity log: named API keys recorded on the calls they make, filters, cursor pages that neither skip nor repeat,
// one call's detail, a CSV of the filtered set without platform cost/credential/model for managed agents, and
// index-backed reads (explain on the store the suite runs against).
import { expect } from 'chai';
import OpenAI from 'openai';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { meterEventFixture } from '../support/meter-events';
import { migration } from '../../migrations/004-activity-indexes';

const DAY_MS = 86_400_000;
const today = () => new Date().toISOString().slice(0, 10);

describe('activity log and named API keys', function () {
  this.timeout(90_000);
  let platform: TestPlatform;
  let owner: TestUser;
  let outsider: TestUser;
  let managed: { id: string };
  let byok: { id: string };

  before(async () => {
    platform = await startTestPlatform();
    owner = await registerUser(platform.url, 'Olive Owner');
    outsider = await registerUser(platform.url, 'Otto Outsider');
    managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-activity-0123456789' });
  });
  after(async () => platform?.stop());

  const ws = () => `/api/workspaces/${owner.workspace.id}`;

  it('names a key on create, renames it, and lists name and last use', async () => {
    const created = await api(platform.url, 'POST', `${ws()}/agents/${managed.id}/api-keys`, { token: owner.token, body: { name: 'Website widget' } });
    expect(created.status).to.equal(201);
    expect(created.body.name).to.equal('Website widget');
    const renamed = await api(platform.url, 'PATCH', `${ws()}/agents/${managed.id}/api-keys/${created.body.id}`, { token: owner.token, body: { name: 'Zapier' } });
    expect(renamed.status).to.equal(200);
    expect(renamed.body.name).to.equal('Zapier');
    const listed = await api(platform.url, 'GET', `${ws()}/agents/${managed.id}/api-keys`, { token: owner.token });
    expect(listed.body.map((key: { name: string }) => key.name)).to.deep.equal(['Zapier']);
    expect(listed.body[0].lastUsedAt).to.equal(null);
    // A name is display text: control characters are refused; other workspaces' keys are 404; unnamed keys still work.
    const bad = await api(platform.url, 'PATCH', `${ws()}/agents/${managed.id}/api-keys/${created.body.id}`, { token: owner.token, body: { name: 'a\u0000b' } });
    expect(bad.status).to.equal(400);
    const foreign = await api(platform.url, 'PATCH', `/api/workspaces/${outsider.workspace.id}/agents/${managed.id}/api-keys/${created.body.id}`, { token: outsider.token, body: { name: 'x' } });
    expect(foreign.status).to.equal(404);
    const unnamed = await api(platform.url, 'POST', `${ws()}/agents/${managed.id}/api-keys`, { token: owner.token });
    expect(unnamed.status).to.equal(201);
    expect(unnamed.body.name).to.equal(null);
    await api(platform.url, 'DELETE', `${ws()}/agents/${managed.id}/api-keys/${unnamed.body.id}`, { token: owner.token });
  });

  it('records which named key made a /v1 call (openai SDK) and shows it in the activity log with its last use', async () => {
    const created = await api(platform.url, 'POST', `${ws()}/agents/${managed.id}/api-keys`, { token: owner.token, body: { name: 'Support inbox' } });
    const client = new OpenAI({ apiKey: created.body.key, baseURL: `${platform.url}/v1` });
    const completion = await client.chat.completions.create({ model: managed.id, messages: [{ role: 'user', content: 'Hello there' }] });
    expect(completion.choices[0]!.message.content).to.be.a('string');
    await platform.platform.meter.drain();
    const page = await api(platform.url, 'GET', `${ws()}/activity?apiKeyId=${created.body.id}`, { token: owner.token });
    expect(page.status).to.equal(200);
    expect(page.body.items).to.have.length(1);
    const row = page.body.items[0];
    expect(row.apiKey).to.deep.equal({ id: created.body.id, name: 'Support inbox', prefix: created.body.prefix });
    expect(row.agentName).to.equal('Test agent');
    expect(row.plan).to.equal('pro');
    expect(row.status).to.equal('ok');
    expect(row.tokens).to.be.greaterThan(0);
    // Customer-safe: a managed agent's row names no provider or model and carries no provider cost.
    expect(row.provider).to.equal(null);
    expect(row.model).to.equal(null);
    expect(row.providerCostUsd).to.equal(null);
    expect(JSON.stringify(row)).to.not.match(/pool:|credential|gpt-4o|claude/);
    const keys = await api(platform.url, 'GET', `${ws()}/agents/${managed.id}/api-keys`, { token: owner.token });
    expect(keys.body.find((key: { id: string }) => key.id === created.body.id).lastUsedAt).to.be.a('string');
  });

  describe('pages, filters and export', () => {
    const SEEDED = 130;
    const base = Date.now() - 3 * DAY_MS;
    before(async () => {
      // 130 events over four UTC days on two agents, some errors, some for an end user, two sharing a timestamp.
      for (let index = 0; index < SEEDED; index++) {
        const isByok = index % 3 === 0;
        platform.platform.meter.record(
          meterEventFixture({
            requestId: `req_seed_${index}`,
            agentId: isByok ? byok.id : managed.id,
            workspaceId: owner.workspace.id,
            timestamp: new Date(base + Math.floor(index / 2) * 60_000 * 37),
            mode: isByok ? 'byok' : 'managed',
            plan: isByok ? null : 'pro',
            tier: isByok ? null : 'standard',
            credential: isByok ? 'byok:sk-…6789' : 'pool:openai:0:abcdef12',
            status: index % 10 === 0 ? 'error' : 'ok',
          }),
        );
      }
      await platform.platform.meter.drain();
      // `endUser` is written by /v1's end-user attribution (another capability): set on the stored events here.
      const endUserIds = Array.from({ length: SEEDED }, (_, index) => index).filter((index) => index % 4 === 0).map((index) => `req_seed_${index}`);
      await platform.platform.models.MeterEvent.collection.updateMany({ requestId: { $in: endUserIds } }, { $set: { endUser: 'customer-42' } });
    });

    const from = () => new Date(base - DAY_MS).toISOString().slice(0, 10);

    it('walks every event once, newest first, across days, with a cursor', async () => {
      const seen: string[] = [];
      let previous = Infinity;
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `from=${from()}&to=${today()}&limit=17${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const page = await api(platform.url, 'GET', `${ws()}/activity?${query}`, { token: owner.token });
        expect(page.status).to.equal(200);
        for (const row of page.body.items) {
          const time = Date.parse(row.timestamp);
          expect(time).to.be.at.most(previous);
          previous = time;
          seen.push(row.requestId);
        }
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor);
      const seeded = seen.filter((id) => id.startsWith('req_seed_'));
      expect(seeded).to.have.length(SEEDED);
      expect(new Set(seen).size).to.equal(seen.length);
      expect(pages).to.be.greaterThan(7);
    });

    it('filters by agent, status, end user and date range', async () => {
      const range = `from=${from()}&to=${today()}&limit=200`;
      const byAgent = await api(platform.url, 'GET', `${ws()}/activity?${range}&agentId=${byok.id}`, { token: owner.token });
      expect(byAgent.body.items.length).to.equal(Math.ceil(SEEDED / 3));
      expect(byAgent.body.items.every((row: { agentId: string; model: string; providerCostUsd: number }) => row.agentId === byok.id && row.model === 'gpt-4o-mini' && typeof row.providerCostUsd === 'number')).to.equal(true);
      const errors = await api(platform.url, 'GET', `${ws()}/activity?${range}&status=error`, { token: owner.token });
      expect(errors.body.items.length).to.equal(SEEDED / 10);
      const endUser = await api(platform.url, 'GET', `${ws()}/activity?${range}&endUser=customer-42`, { token: owner.token });
      expect(endUser.body.items.length).to.equal(Math.ceil(SEEDED / 4));
      expect(endUser.body.items.every((row: { endUser: string }) => row.endUser === 'customer-42')).to.equal(true);
      const firstDay = new Date(base).toISOString().slice(0, 10);
      const oneDay = await api(platform.url, 'GET', `${ws()}/activity?from=${firstDay}&to=${firstDay}&limit=200`, { token: owner.token });
      expect(oneDay.body.items.length).to.be.greaterThan(0);
      expect(oneDay.body.items.every((row: { timestamp: string }) => row.timestamp.startsWith(firstDay))).to.equal(true);
    });

    it('refuses bad input with stable codes', async () => {
      expect((await api(platform.url, 'GET', `${ws()}/activity?from=2026-1-01`, { token: owner.token })).body.error.code).to.equal('VALIDATION_FAILED');
      expect((await api(platform.url, 'GET', `${ws()}/activity?from=2026-13-01`, { token: owner.token })).body.error.code).to.equal('INVALID_DATE_RANGE');
      const foreignAgent = await createAgent(platform.url, outsider);
      expect((await api(platform.url, 'GET', `${ws()}/activity?agentId=${foreignAgent.id}`, { token: owner.token })).status).to.equal(404);
      expect((await api(platform.url, 'GET', `${ws()}/activity?from=2026-02-30`, { token: owner.token })).body.error.code).to.equal('INVALID_DATE_RANGE');
      expect((await api(platform.url, 'GET', `${ws()}/activity?from=2026-11-02&to=2026-11-01`, { token: owner.token })).body.error.code).to.equal('INVALID_DATE_RANGE');
      expect((await api(platform.url, 'GET', `${ws()}/activity?cursor=garbage`, { token: owner.token })).body.error.code).to.equal('INVALID_CURSOR');
      expect((await api(platform.url, 'GET', `${ws()}/activity?limit=1000`, { token: owner.token })).status).to.equal(400);
      expect((await api(platform.url, 'GET', `${ws()}/activity?workspaceId=x`, { token: owner.token })).status).to.equal(400);
    });

    it("shows one call's detail; another workspace's call is a 404", async () => {
      const page = await api(platform.url, 'GET', `${ws()}/activity?from=${from()}&limit=1`, { token: owner.token });
      const id = page.body.items[0].id;
      const detail = await api(platform.url, 'GET', `${ws()}/activity/${id}`, { token: owner.token });
      expect(detail.status).to.equal(200);
      expect(detail.body.requestId).to.equal(page.body.items[0].requestId);
      const foreign = await api(platform.url, 'GET', `/api/workspaces/${outsider.workspace.id}/activity/${id}`, { token: outsider.token });
      expect(foreign.status).to.equal(404);
      const notMember = await api(platform.url, 'GET', `${ws()}/activity/${id}`, { token: outsider.token });
      expect(notMember.status).to.equal(404);
      const outsiderPage = await api(platform.url, 'GET', `/api/workspaces/${outsider.workspace.id}/activity?from=${from()}`, { token: outsider.token });
      expect(outsiderPage.body.items).to.deep.equal([]);
    });

    it('exports the filtered set as CSV without provider cost, credential or model for managed agents', async () => {
      const csv = await api(platform.url, 'GET', `${ws()}/activity/export.csv?from=${from()}&to=${today()}&status=ok`, { token: owner.token });
      expect(csv.status).to.equal(200);
      expect(csv.headers.get('content-type')).to.match(/text\/csv/);
      const lines = csv.text.trim().split('\n');
      const header = lines[0]!.split(',');
      expect(header).to.include.members(['time', 'agent', 'apiKey', 'endUser', 'plan', 'model', 'tokensInput', 'priceUsd', 'latencyMs', 'status']);
      expect(header).to.not.include('credential');
      expect(header).to.not.include('costTotalUsd');
      const rows = lines.slice(1).map((line) => line.split(','));
      const seededOk = rows.filter((cells) => cells[1]!.startsWith('req_seed_'));
      expect(seededOk).to.have.length(SEEDED - SEEDED / 10);
      expect(csv.text).to.not.contain('pool:');
      const modeColumn = header.indexOf('mode');
      const modelColumn = header.indexOf('model');
      const costColumn = header.indexOf('byokProviderCostUsd');
      for (const cells of seededOk.filter((row) => row[modeColumn] === 'managed')) {
        expect(cells[modelColumn]).to.equal('');
        expect(cells[costColumn]).to.equal('');
      }
      expect(seededOk.some((row) => row[modeColumn] === 'byok' && row[modelColumn] === 'gpt-4o-mini')).to.equal(true);
    });

    it('reads through the activity index, never a collection scan (explain)', async () => {
      const db = platform.platform.database.connection.db!;
      const collection = platform.platform.models.MeterEvent.collection.collectionName;
      const { Types } = await import('mongoose');
      const hour = new Date().toISOString().slice(0, 13);
      const plan = await db.command({
        explain: { find: collection, filter: { workspaceId: new Types.ObjectId(owner.workspace.id), hour, status: 'ok' }, sort: { timestamp: -1, _id: -1 }, limit: 51 },
        verbosity: 'queryPlanner',
      });
      const text = JSON.stringify(plan.queryPlanner.winningPlan);
      expect(text).to.contain('IXSCAN');
      // A status filter has its own index since migration 010 (test/integration/activity-filter-indexes.test.ts).
      expect(text).to.contain('activity_status_hour');
      expect(text).to.not.contain('COLLSCAN');
      const agentPlan = await db.command({
        explain: { find: collection, filter: { agentId: new Types.ObjectId(byok.id), hour: { $in: [hour, `${today()}T00`] } }, limit: 1 },
        verbosity: 'queryPlanner',
      });
      expect(JSON.stringify(agentPlan.queryPlanner.winningPlan)).to.contain('activity_agent_hour');
    });

    it('migration 004 gives events written before it their hour, and pages then find them', async () => {
      const events = platform.platform.models.MeterEvent.collection;
      const { Types } = await import('mongoose');
      const at = new Date(Date.parse(`${today()}T00:00:00Z`) + 17 * 60_000);
      await events.insertOne({ ...(await events.findOne({ requestId: 'req_seed_1' }, { projection: { _id: 0 } }))!, requestId: 'req_before_004', timestamp: at, hour: undefined, _id: new Types.ObjectId() });
      await events.updateOne({ requestId: 'req_before_004' }, { $unset: { hour: '' } });
      await migration.up({ connection: platform.platform.database.connection, models: platform.platform.models });
      expect((await events.findOne({ requestId: 'req_before_004' }))!.hour).to.equal(`${today()}T00`);
      const page = await api(platform.url, 'GET', `${ws()}/activity?from=${today()}&to=${today()}&limit=200`, { token: owner.token });
      expect(page.body.items.map((row: { requestId: string }) => row.requestId)).to.include('req_before_004');
    });
  });
});
