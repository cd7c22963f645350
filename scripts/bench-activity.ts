// Benchmarks the activity log at 1M meter events: the built-in store in its own process holds BENCH_ACTIVITY_EVENTS
// events (default 1,000,000) of one workspace over 30 UTC days (plus 100k of other workspaces), with the real
// MeterEvent schema, the activity indexes of migrations 004 and 010, and the real ActivityService reading them. It
// walks pages with cursors (first page, deep pages, each filter) and reports p50/p95/max per page beside the p95 of
// the run before migration 010 (per-hour walk, workspace/agent indexes only), the load average, and the explain of
// each filter's query. Writes its section into docs/BENCHMARKS.md. Usage: npm run bench:activity
import os from 'node:os';
import path from 'node:path';
import mongoose, { Types } from 'mongoose';
import { createMeterEventModel } from '../server/metering/metering.models';
import { ActivityService, activityIndexFor, activityQuery, hoursOf, type ActivityPageRequest } from '../server/metering/activity.service';
import { writeBenchmarkSection } from './benchmark-report';
import { currentRssMiB, fmt, installCleanup, log, markdownTable, percentile, sortedCopy, startChild } from './bench-support';

const EVENTS = Number(process.env.BENCH_ACTIVITY_EVENTS ?? 1_000_000);
const OTHER_EVENTS = Math.round(EVENTS / 10);
const DAYS = 30;
const PAGES = Number(process.env.BENCH_ACTIVITY_PAGES ?? 60);
const LIMIT = 50;
const WORKSPACE = new Types.ObjectId();
const OTHER_WORKSPACES = Array.from({ length: 20 }, () => new Types.ObjectId());
const AGENTS = Array.from({ length: 20 }, () => new Types.ObjectId());
const KEYS = AGENTS.map(() => new Types.ObjectId().toHexString());
const END = Date.UTC(2026, 10, 30, 23, 59, 59);
const START = END - DAYS * 86_400_000;

function meterEvent(i: number, total: number, workspaceId: Types.ObjectId, agentId: Types.ObjectId, apiKeyId: string | null): Record<string, unknown> {
  const timestamp = new Date(START + Math.floor((i / total) * (END - START)));
  const tokensInput = 200 + ((i * 7919) % 3000);
  const tokensOutput = 20 + ((i * 104_729) % 800);
  return {
    requestId: `req_${workspaceId.toHexString().slice(-6)}_${i.toString(36)}_${(i * 2_654_435_761 >>> 0).toString(16)}`,
    agentId,
    workspaceId,
    timestamp,
    month: timestamp.toISOString().slice(0, 7),
    day: timestamp.toISOString().slice(0, 10),
    hour: timestamp.toISOString().slice(0, 13),
    provider: 'openai',
    model: 'gpt-4o-mini',
    tier: 'standard',
    mode: i % 4 === 0 ? 'byok' : 'managed',
    plan: i % 4 === 0 ? null : 'pro',
    requestType: i % 5 === 0 ? 'stream' : 'chat',
    status: i % 100 === 0 ? 'error' : 'ok',
    usageSource: 'provider',
    tokensInput,
    tokensOutput,
    costInputMicros: tokensInput * 150,
    costOutputMicros: tokensOutput * 600,
    costTotalMicros: tokensInput * 150 + tokensOutput * 600,
    priceTotalMicros: 0,
    overageTokens: 0,
    latencyMs: 300 + (i % 900),
    credential: 'pool:openai:2:abcd1234',
    sandbox: false,
    attempt: 1,
    countedAsRequest: true,
    priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: 3, includedTokens: 5_000_000 },
    ...(apiKeyId ? { apiKeyId } : {}),
    ...(i % 20 === 0 ? { endUser: `user-${i % 400}` } : {}),
  };
}

/** p95 per page of the same walks before migration 010 (main 3d73d63, 2026-12-01T13:24Z, load average 12–20). */
const BEFORE_P95: Record<string, string> = {
  'first page (no cursor), 20 repeats': '398.83',
  '60 consecutive pages with cursors (whole workspace)': '588.06',
  'pages starting 25 days back (`to` in the past)': '265.83',
  'one agent (agent index)': '37.23',
  'one API key': '277.69',
  'status = error (1 in 100)': '3315.43',
  'one end user (1 in 8,000 events)': '9434.67',
};

function loadAverage(): string {
  return os.loadavg().map((value) => value.toFixed(1)).join(' / ');
}

interface Series {
  name: string;
  pages: number;
  rows: number;
  times: number[];
}

async function main(): Promise<void> {
  installCleanup();
  const loadAtStart = loadAverage();
  const child = startChild('wire store', process.execPath, ['--max-old-space-size=16384', '--import', 'tsx', 'scripts/wire-store-server.ts', '--port', '0', '--exit-with-parent'], {
    cwd: path.resolve(__dirname, '..'),
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const uri = String((JSON.parse(await child.waitForLine((line) => line.startsWith('{"uri"'), 120_000)) as { uri: string }).uri);
  const connection = await mongoose.createConnection(uri, { dbName: 'bench-activity', autoIndex: false, heartbeatFrequencyMS: 60_000, connectTimeoutMS: 300_000, socketTimeoutMS: 0, serverSelectionTimeoutMS: 300_000 }).asPromise();
  const MeterEvent = createMeterEventModel(connection);
  await MeterEvent.createCollection();
  // The indexes the platform has (001 syncs the schema's, 004 adds the activity ones by name).
  await MeterEvent.syncIndexes();
  const agents = connection.collection('agents');
  await agents.insertMany(AGENTS.map((_id, index) => ({ _id, workspaceId: WORKSPACE, name: `Agent ${index + 1}` })));
  const keys = connection.collection('agent_api_keys');
  await keys.insertMany(KEYS.map((id, index) => ({ _id: new Types.ObjectId(id), workspaceId: WORKSPACE, agentId: AGENTS[index], name: `Key ${index + 1}`, prefix: `ak_${index}` })));

  log(`inserting ${fmt.int(EVENTS)} events of one workspace and ${fmt.int(OTHER_EVENTS)} of ${OTHER_WORKSPACES.length} others`);
  const insertStarted = Date.now();
  const batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length) await MeterEvent.collection.insertMany(batch.splice(0), { ordered: false });
  };
  for (let i = 0; i < EVENTS; i++) {
    const agentIndex = i % AGENTS.length;
    batch.push(meterEvent(i, EVENTS, WORKSPACE, AGENTS[agentIndex]!, i % 3 === 0 ? null : KEYS[agentIndex]!));
    if (batch.length === 5_000) await flush();
    if ((i + 1) % 100_000 === 0) log(`  ${fmt.int(i + 1)} inserted`);
  }
  for (let i = 0; i < OTHER_EVENTS; i++) {
    batch.push(meterEvent(i, OTHER_EVENTS, OTHER_WORKSPACES[i % OTHER_WORKSPACES.length]!, new Types.ObjectId(), null));
    if (batch.length === 5_000) await flush();
  }
  await flush();
  const insertSeconds = (Date.now() - insertStarted) / 1000;
  const storeRss = currentRssMiB(child.pid);
  log(`inserted in ${insertSeconds.toFixed(1)} s; store RSS ${fmt.mib(storeRss)} MiB`);

  const activity = new ActivityService({ MeterEvent, Agent: { collection: agents as never }, AgentApiKey: { collection: keys as never } });
  const workspaceId = WORKSPACE.toHexString();
  const range = { from: new Date(START).toISOString().slice(0, 10), to: new Date(END).toISOString().slice(0, 10) };

  async function walk(name: string, filters: Partial<ActivityPageRequest>, pages: number): Promise<Series> {
    const times: number[] = [];
    let rows = 0;
    let cursor: string | undefined;
    for (let page = 0; page < pages; page++) {
      const started = process.hrtime.bigint();
      const result = await activity.page(workspaceId, { ...range, ...filters, cursor, limit: LIMIT });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      rows += result.items.length;
      if (!result.nextCursor) break;
      cursor = result.nextCursor;
    }
    log(`${name}: ${times.length} pages, p95 ${fmt.ms(percentile(sortedCopy(times), 95))} ms`);
    return { name, pages: times.length, rows, times };
  }

  const loadBeforeWalks = loadAverage();
  // Warm-up (not recorded).
  await walk('warm-up', {}, 5);
  const firstPages: number[] = [];
  for (let repeat = 0; repeat < 20; repeat++) {
    const started = process.hrtime.bigint();
    await activity.page(workspaceId, { ...range, limit: LIMIT });
    firstPages.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  const series: Series[] = [{ name: 'first page (no cursor), 20 repeats', pages: firstPages.length, rows: firstPages.length * LIMIT, times: firstPages }];
  series.push(await walk(`${PAGES} consecutive pages with cursors (whole workspace)`, {}, PAGES));
  // A deep page: start from a cursor 25 days back (as after paging far, or a `to` in the past).
  const deepTo = new Date(START + 5 * 86_400_000).toISOString().slice(0, 10);
  series.push(await walk('pages starting 25 days back (`to` in the past)', { to: deepTo }, 30));
  series.push(await walk('one agent (agent index)', { agentId: AGENTS[3]!.toHexString() }, 30));
  series.push(await walk('one API key', { apiKeyId: KEYS[5]! }, 30));
  series.push(await walk('status = error (1 in 100)', { status: 'error' }, 20));
  series.push(await walk('one end user (1 in 8,000 events)', { endUser: 'user-40' }, 10));
  series.push(await walk('one agent, status = error (1 in 5 of its calls)', { agentId: AGENTS[0]!.toHexString(), status: 'error' }, 10));
  series.push(await walk('an end user with no calls (the whole 30 days read)', { endUser: 'nobody' }, 3));
  const loadAfterWalks = loadAverage();

  // The explain of each filter's query over a one-day window (24 hours as `$in`, the page's limit), as a page sends it.
  const day = hoursOf(range.to);
  const explains: string[][] = [];
  const explainFilters: Array<[string, Partial<ActivityPageRequest>]> = [
    ['whole workspace', {}],
    ['agent', { agentId: AGENTS[3]!.toHexString() }],
    ['API key', { apiKeyId: KEYS[5]! }],
    ['status = error', { status: 'error' }],
    ['end user', { endUser: 'user-40' }],
    ['agent + status = error', { agentId: AGENTS[0]!.toHexString(), status: 'error' }],
  ];
  let winning = '';
  for (const [label, filters] of explainFilters) {
    const explain = await connection.db!.command({
      explain: { find: MeterEvent.collection.collectionName, filter: activityQuery(WORKSPACE, filters, day), sort: { timestamp: -1, _id: -1 }, limit: LIMIT + 1 },
      verbosity: 'executionStats',
    });
    const plan = JSON.stringify(explain.queryPlanner.winningPlan);
    if (label === 'end user') winning = plan;
    const used = /"indexName":"([^"]+)"/.exec(plan)?.[1] ?? (plan.includes('COLLSCAN') ? 'COLLSCAN' : '?');
    const stats = explain.executionStats as { nReturned: number; totalKeysExamined: number; totalDocsExamined: number };
    explains.push([label, `\`${activityIndexFor(filters)}\``, `\`${used}\``, plan.includes('COLLSCAN') ? 'yes' : 'no', fmt.int(stats.totalKeysExamined), fmt.int(stats.totalDocsExamined), fmt.int(stats.nReturned)]);
  }
  await connection.close();
  await child.stop();

  const perDay = Math.round(EVENTS / DAYS);
  const table = markdownTable(
    ['walk', 'pages', 'rows', 'p50 ms', 'p95 ms', 'max ms', 'p95 ms before 010'],
    ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    series.map((entry) => {
      const sorted = sortedCopy(entry.times);
      return [entry.name, fmt.int(entry.pages), fmt.int(entry.rows), fmt.ms(percentile(sorted, 50)), fmt.ms(percentile(sorted, 95)), fmt.ms(sorted[sorted.length - 1]!), BEFORE_P95[entry.name] ?? '—'];
    }),
  );
  const explainTable = markdownTable(
    ['filter', 'index the service means', 'index the store used', 'COLLSCAN', 'keys examined', 'docs examined', 'returned'],
    ['l', 'l', 'l', 'l', 'r', 'r', 'r'],
    explains,
  );
  writeBenchmarkSection(
    'experience-b: activity pagination at 1M events',
    'npm run bench:activity',
    [
      `${fmt.int(EVENTS)} meter events of one workspace over ${DAYS} UTC days (≈${fmt.int(perDay)} a day, 20 agents, 2/3 with a named API key),`,
      `plus ${fmt.int(OTHER_EVENTS)} of ${OTHER_WORKSPACES.length} other workspaces, in the built-in store in its own process (RSS ${fmt.mib(storeRss)} MiB after`,
      `inserting them in ${insertSeconds.toFixed(0)} s). Each page is \`ActivityService.page\` (${LIMIT} rows, names of agents and keys included) over the`,
      'driver, timed in the client process. A page reads windows of UTC hours newest first (1 hour, 1 more, then doubling up to',
      'a week), each one query through the index of its filter: `{workspaceId | agentId, [status | apiKeyId | endUser,] hour,',
      'timestamp: -1, _id: -1}` (migrations 004 and 010).',
      '',
      `Load average (1 / 5 / 15 min, 2 cores shared by several engineers): ${loadAtStart} at the start, ${loadBeforeWalks} before the walks, ${loadAfterWalks} after them.`,
      '',
      table,
      '',
      `explain (\`executionStats\`) of each filter's query over one day (\`hour: {$in: 24 hours}\`, sort \`{timestamp: -1, _id: -1}\`, limit ${LIMIT + 1}) on the built-in store:`,
      '',
      explainTable,
      '',
      `End user plan: \`${winning}\`. The store looks the window's events up by the index's equality fields (hour by hour for`,
      'the `$in`) and sorts only those; real MongoDB picks the same index (its equality prefix covers the query\'s equality',
      'fields) and answers as a SORT_MERGE of one IXSCAN per hour in index order, stopping after the page, with no SORT stage.',
    ].join('\n'),
  );
  log('written to docs/BENCHMARKS.md');
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
