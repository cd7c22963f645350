// Every filter of the activity log is read through its own index (migration 010): the indexes exist after the
// migrations with the key patterns the service queries by, explain shows the planner picking the filter's index
// (never a COLLSCAN) and examining only the window's matching events, and cursor walks under every filter (and
// combinations) return exactly the filtered set newest first, without skips or repeats, ties broken by _id.
import { expect } from 'chai';
import mongoose, { Types, type Connection } from 'mongoose';
import { createLogger } from '../../server/logger';
import { createModels, type Models } from '../../server/platform-models';
import { runMigrations } from '../../migrations/migration-runner';
import { migration as filterIndexes } from '../../migrations/010-activity-filter-indexes';
import {
  ACTIVITY_INDEXES, ActivityService, activityIndexFor, activityQuery, hoursOf, type ActivityFilters, type ActivityIndexName,
} from '../../server/metering/activity.service';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';

const DAYS = ['2026-11-28', '2026-11-29', '2026-11-30'];
const HOUR_MS = 3_600_000;

interface Seeded {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  timestamp: Date;
  status: string;
  apiKeyId?: string;
  endUser?: string;
}

/** All plan stages of an explain's winning plan, depth first. */
function stagesOf(plan: Record<string, unknown>): Array<Record<string, unknown>> {
  const out = [plan];
  for (const key of ['inputStage', 'outerStage', 'innerStage']) if (plan[key]) out.push(...stagesOf(plan[key] as Record<string, unknown>));
  for (const child of (plan.inputStages as Array<Record<string, unknown>> | undefined) ?? []) out.push(...stagesOf(child));
  return out;
}

describe('activity log: an index for every filter (migration 010)', function () {
  this.timeout(120_000);
  let connection: Connection;
  let models: Models;
  let activity: ActivityService;
  const workspace = new Types.ObjectId();
  const other = new Types.ObjectId();
  const agents = [new Types.ObjectId(), new Types.ObjectId(), new Types.ObjectId()];
  const keys = [new Types.ObjectId().toHexString(), new Types.ObjectId().toHexString()];
  const seeded: Seeded[] = [];

  before(async () => {
    connection = await mongoose.createConnection(await getTestMongoUri(), { dbName: uniqueDatabaseName('activity_filters') }).asPromise();
    models = createModels(connection);
    await runMigrations(connection, createLogger({ level: 'silent' }), models);
    await models.Agent.collection.insertMany(agents.map((_id, index) => ({ _id, workspaceId: workspace, name: `Agent ${index}` })) as never);
    await models.AgentApiKey.collection.insertMany(keys.map((id, index) => ({ _id: new Types.ObjectId(id), workspaceId: workspace, agentId: agents[index], name: `Key ${index}`, prefix: `ak_${index}`, keyHash: `hash-${id}` })) as never);
    // 3 days, 12 events an hour in this workspace (the same values in another workspace), every 7th hour empty;
    // rare values: 1 error in 40, an end user in 1 of 60 events, keys on 2 of 3 events; every 5th pair shares a timestamp.
    const start = Date.parse(`${DAYS[0]}T00:00:00Z`);
    const documents: Array<Record<string, unknown>> = [];
    let i = 0;
    for (let hour = 0; hour < DAYS.length * 24; hour++) {
      if (hour % 7 === 3) continue;
      for (let n = 0; n < 12; n++, i++) {
        const timestamp = new Date(start + hour * HOUR_MS + (n - (n % 5 === 1 ? 1 : 0)) * 250_000);
        for (const workspaceId of [workspace, other]) {
          const event: Seeded = {
            _id: new Types.ObjectId(),
            workspaceId,
            agentId: workspaceId === workspace ? agents[i % 3]! : new Types.ObjectId(),
            timestamp,
            status: i % 40 === 0 ? 'error' : i % 97 === 0 ? 'timeout' : 'ok',
            ...(i % 3 !== 0 ? { apiKeyId: keys[i % 2]! } : {}),
            ...(i % 60 === 7 ? { endUser: 'rare-user' } : i % 2 === 0 ? { endUser: `user-${i % 5}` } : {}),
          };
          if (workspaceId === workspace) seeded.push(event);
          documents.push({
            ...event, requestId: `req_${event._id.toHexString()}`, hour: timestamp.toISOString().slice(0, 13), month: timestamp.toISOString().slice(0, 7),
            day: timestamp.toISOString().slice(0, 10), provider: 'openai', model: 'gpt-4o-mini', tier: 'standard', mode: 'managed', plan: 'pro',
            requestType: 'chat', usageSource: 'provider', tokensInput: 10, tokensOutput: 5, latencyMs: 3, credential: 'pool:openai:0', sandbox: true,
            attempt: 1, priceTotalMicros: 0, costTotalMicros: 0,
          });
        }
      }
    }
    await models.MeterEvent.collection.insertMany(documents as never[]);
    activity = new ActivityService(models);
  });
  after(async () => {
    await connection?.db?.dropDatabase();
    await connection?.close();
  });

  const range = { from: DAYS[0]!, to: DAYS[2]! };
  const FILTERS: Array<Omit<ActivityFilters, 'from' | 'to'>> = [
    {},
    { agentId: agents[1]!.toHexString() },
    { apiKeyId: keys[0] },
    { status: 'error' },
    { status: 'timeout' },
    { endUser: 'rare-user' },
    { endUser: 'nobody' },
    { agentId: agents[0]!.toHexString(), status: 'error' },
    { apiKeyId: keys[1], status: 'ok' },
    { endUser: 'user-2', agentId: agents[2]!.toHexString() },
  ];

  it('has the five activity indexes after the migrations, with the key patterns the service queries by', async () => {
    const indexes = await models.MeterEvent.collection.listIndexes().toArray();
    for (const [name, key] of Object.entries(ACTIVITY_INDEXES)) {
      const found = indexes.find((index) => index.name === name);
      expect(found, name).to.not.equal(undefined);
      expect(found!.key).to.deep.equal(key);
      expect(found!.partialFilterExpression).to.equal(undefined);
    }
  });

  it('walks every filter with cursors: exactly the filtered set, newest first, ties by _id, no skips or repeats', async () => {
    for (const filters of FILTERS) {
      const expected = seeded
        .filter((event) => (!filters.agentId || event.agentId.toHexString() === filters.agentId) && (!filters.status || event.status === filters.status)
          && (!filters.apiKeyId || event.apiKeyId === filters.apiKeyId) && (!filters.endUser || event.endUser === filters.endUser))
        .sort((a, b) => b.timestamp.getTime() - a.timestamp.getTime() || b._id.toHexString().localeCompare(a._id.toHexString()))
        .map((event) => event._id.toHexString());
      const got: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await activity.page(workspace.toHexString(), { ...range, ...filters, cursor, limit: 7 });
        got.push(...page.items.map((row) => row.id));
        cursor = page.nextCursor ?? undefined;
        pages += 1;
      } while (cursor && pages < 200);
      expect(got, JSON.stringify(filters)).to.deep.equal(expected);
    }
    expect(seeded.filter((event) => event.endUser === 'rare-user').length).to.be.greaterThan(3);
  });

  /** The activity indexes whose equality fields (those before `hour`) the query covers with the most fields. */
  function bestCovering(filter: Record<string, unknown>): ActivityIndexName[] {
    const covered = Object.entries(ACTIVITY_INDEXES).map(([name, key]) => {
      const equality = Object.keys(key).slice(0, Object.keys(key).indexOf('hour') + 1);
      return { name: name as ActivityIndexName, length: equality.every((field) => field in filter) ? equality.length : 0 };
    });
    const most = Math.max(...covered.map((entry) => entry.length));
    return covered.filter((entry) => entry.length === most).map((entry) => entry.name);
  }

  const FIELD_OF: Record<ActivityIndexName, keyof Seeded | null> = {
    activity_workspace_hour: null, activity_agent_hour: 'agentId', activity_status_hour: 'status', activity_api_key_hour: 'apiKeyId', activity_end_user_hour: 'endUser',
  };

  it('each query uses the index of its filter (explain: IXSCAN of that index, no COLLSCAN, only its entries examined)', async () => {
    const day = hoursOf(DAYS[1]!);
    const last = seeded.filter((event) => event.timestamp.toISOString().startsWith(DAYS[1]!)).sort((a, b) => a.timestamp.getTime() - b.timestamp.getTime())[40]!;
    for (const filters of FILTERS) {
      const single = Object.keys(filters).length <= 1;
      for (const [window, cursor] of [[[`${DAYS[1]}T05` as string], undefined], [day, undefined], [day, { t: last.timestamp.getTime(), id: last._id.toHexString() }]] as const) {
        const filter = activityQuery(workspace, filters, [...window], cursor);
        const explain = await connection.db!.command({
          explain: { find: models.MeterEvent.collection.collectionName, filter, sort: { timestamp: -1, _id: -1 }, limit: 51 },
          verbosity: 'executionStats',
        });
        const stages = stagesOf(explain.queryPlanner.winningPlan);
        const label = `${JSON.stringify(filters)} over ${window.length} hour(s)${cursor ? ' below a cursor' : ''}`;
        expect(stages.map((stage) => stage.stage), label).to.not.include('COLLSCAN');
        const used = [...new Set(stages.filter((stage) => stage.stage === 'IXSCAN').map((stage) => stage.indexName as ActivityIndexName))];
        expect(used, label).to.have.length(1);
        // One filter: exactly its own index. Several: the service's choice is among the indexes covering the most
        // equality fields (two may tie, e.g. key + status: each planner then picks one of them, both index-bounded).
        if (single) expect(used[0], label).to.equal(activityIndexFor(filters));
        else expect(bestCovering(filter), label).to.include(activityIndexFor(filters)).and.to.include(used[0]);
        // The index's equality fields cover only the window's events of that value: nothing else is read.
        const field = FIELD_OF[used[0]!];
        const inIndex = seeded.filter((event) => window.includes(event.timestamp.toISOString().slice(0, 13))
          && (field === null || String(event[field]) === String(filter[field])));
        expect(explain.executionStats.totalDocsExamined, label).to.be.at.most(inIndex.length);
      }
    }
  });

  it('migration 010 creates the filter indexes on an existing deployment and is idempotent', async () => {
    const events = models.MeterEvent.collection;
    for (const name of ['activity_status_hour', 'activity_api_key_hour', 'activity_end_user_hour']) await events.dropIndex(name);
    const plan = await connection.db!.command({
      explain: { find: events.collectionName, filter: activityQuery(workspace, { endUser: 'rare-user' }, [`${DAYS[1]}T05`]), sort: { timestamp: -1, _id: -1 }, limit: 51 },
      verbosity: 'queryPlanner',
    });
    expect(JSON.stringify(plan.queryPlanner.winningPlan)).to.not.contain('activity_end_user_hour');
    await filterIndexes.up({ connection, models });
    await filterIndexes.up({ connection, models });
    const names = (await events.listIndexes().toArray()).map((index) => index.name);
    expect(names).to.include.members(['activity_status_hour', 'activity_api_key_hour', 'activity_end_user_hour', 'activity_workspace_hour', 'activity_agent_hour']);
    const page = await activity.page(workspace.toHexString(), { ...range, endUser: 'rare-user', limit: 200 });
    expect(page.items.map((row) => row.id)).to.have.length(seeded.filter((event) => event.endUser === 'rare-user').length);
  });
});
