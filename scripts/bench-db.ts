// Benchmarks the built-in wire store through mongoose: insert rate and `$inc`-upsert rate (the usage
// rollup pattern) with 1k and 100k documents already present, sequential and with concurrency 10; then the
// meter's own collection (the real MeterEvent schema and indexes) in a store of its own process: write and
// usage-query speed at 100k events, resident memory (RSS) and bytes per event at 1M, the split between
// documents and indexes, and the time to replay a 1M-event journal at start.
// Writes its section into docs/BENCHMARKS.md. Usage: npm run bench:db
// (BENCH_DB_EVENTS=200000 for a shorter meter run; BENCH_DB_OPS for the number of measured upserts/inserts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose, { Types } from 'mongoose';
import { startWireStore } from '../server/db/wire-store';
import { createMeterEventModel } from '../server/metering/metering.models';
import { writeBenchmarkSection } from './benchmark-report';
import { currentRssMiB, installCleanup, startChild, type Child } from './bench-support';

const SIZES = [1_000, 100_000];
const CONCURRENCIES = [1, 10];
const OPS = Number(process.env.BENCH_DB_OPS ?? 3_000);

interface Row {
  present: number;
  operation: string;
  concurrency: number;
  ops: number;
  seconds: number;
  rate: number;
}

async function runConcurrent(total: number, concurrency: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        await op(i);
      }
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function usageRates(): Promise<{ rows: Row[]; lines: string[]; ratios: string[]; worst: number }> {
  const store = await startWireStore();
  const conn = await mongoose.createConnection(store.uri, { dbName: 'bench', autoIndex: false }).asPromise();
  const schema = new mongoose.Schema({
    key: { type: String, required: true, unique: true },
    workspaceId: String,
    day: String,
    requests: Number,
    tokens: Number,
  });
  schema.index({ workspaceId: 1, day: 1 });
  const Usage = conn.model('Usage', schema);
  const rows: Row[] = [];
  let run = 0;

  // Warm-up (not recorded): lets the JIT settle so the first measured row is not penalized.
  await Usage.syncIndexes();
  await runConcurrent(2_000, 4, (i) => Usage.findOneAndUpdate({ key: `warm:${i % 100}` }, { $inc: { requests: 1 } }, { upsert: true }));
  await runConcurrent(1_000, 4, (i) => Usage.create({ key: `warm-ins:${i}`, requests: 1 }));

  for (const size of SIZES) {
    for (const concurrency of CONCURRENCIES) {
      run++;
      await Usage.collection.drop().catch(() => undefined);
      await Usage.syncIndexes();
      const fill: Array<Record<string, unknown>> = [];
      for (let i = 0; i < size; i++) {
        fill.push({ key: `fill:${i}`, workspaceId: `ws${i % 100}`, day: `d${i % 30}`, requests: 1, tokens: i });
        if (fill.length === 10_000 || i === size - 1) {
          await Usage.insertMany(fill.splice(0), { lean: true });
        }
      }

      const insertSeconds = await runConcurrent(OPS, concurrency, (i) =>
        Usage.create({ key: `ins:${run}:${i}`, workspaceId: `ws${i % 100}`, day: 'd0', requests: 1, tokens: 1 }),
      );
      rows.push({ present: size, operation: 'insert (Model.create)', concurrency, ops: OPS, seconds: insertSeconds, rate: OPS / insertSeconds });

      // Usage rollup: half the keys already exist (from the fill), half are created by the first upsert.
      const upsertSeconds = await runConcurrent(OPS, concurrency, (i) => {
        const key = i % 2 === 0 ? `fill:${(i * 7919) % size}` : `roll:${run}:${i % 500}`;
        return Usage.findOneAndUpdate(
          { key },
          { $inc: { requests: 1, tokens: 10 }, $setOnInsert: { workspaceId: 'ws-bench', day: 'd1' } },
          { upsert: true, new: true },
        );
      });
      rows.push({ present: size, operation: '$inc upsert (findOneAndUpdate)', concurrency, ops: OPS, seconds: upsertSeconds, rate: OPS / upsertSeconds });
    }
  }
  await conn.close();
  await store.close();

  const lines = [
    '| documents present | operation | concurrency | ops | seconds | ops/s |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r.present.toLocaleString('en-US')} | ${r.operation} | ${r.concurrency} | ${r.ops} | ${r.seconds.toFixed(2)} | ${Math.round(r.rate).toLocaleString('en-US')} |`),
  ];
  const ratios: string[] = [];
  let worst = 0;
  for (const operation of new Set(rows.map((r) => r.operation))) {
    for (const concurrency of CONCURRENCIES) {
      const small = rows.find((r) => r.operation === operation && r.concurrency === concurrency && r.present === SIZES[0]);
      const large = rows.find((r) => r.operation === operation && r.concurrency === concurrency && r.present === SIZES[SIZES.length - 1]);
      if (!small || !large) continue;
      const ratio = small.rate / large.rate;
      worst = Math.max(worst, ratio);
      ratios.push(`- ${operation}, concurrency ${concurrency}: rate at 1k ÷ rate at 100k = ${ratio.toFixed(2)}`);
    }
  }
  return { rows, lines, ratios, worst };
}

// ---------------------------------------------------------------- the meter's collection, store in its own process

const EVENTS = Number(process.env.BENCH_DB_EVENTS ?? 1_000_000);
const BATCH = 1_000;
const QUERY_AT = Math.min(100_000, EVENTS);
const RSS_TARGET_MIB = 1536;
const REPLAY_TARGET_S = 30;
const WORKSPACES = Array.from({ length: 50 }, () => new Types.ObjectId());
const AGENTS = Array.from({ length: 200 }, (_, i) => ({ id: new Types.ObjectId(), workspaceId: WORKSPACES[i % WORKSPACES.length]! }));
const MONTH = '2026-11';
const START = Date.UTC(2026, 10, 1);

/** One realistic meter event, shaped like MeterBatchWriter.toDocument (the driver adds `_id`). */
function meterEvent(i: number): Record<string, unknown> {
  const agent = AGENTS[i % AGENTS.length]!;
  const timestamp = new Date(START + i * 2_000);
  const tokensInput = 200 + ((i * 7919) % 3000);
  const tokensOutput = 20 + ((i * 104_729) % 800);
  const costInputMicros = tokensInput * 150;
  const costOutputMicros = tokensOutput * 600;
  return {
    requestId: `req_${timestamp.getTime().toString(36)}_${i.toString(36).padStart(6, '0')}_${(i * 2_654_435_761 >>> 0).toString(16)}`,
    agentId: agent.id,
    workspaceId: agent.workspaceId,
    timestamp,
    month: MONTH,
    day: timestamp.toISOString().slice(0, 10),
    provider: i % 3 === 0 ? 'anthropic' : 'openai',
    model: i % 3 === 0 ? 'claude-3-5-haiku-20241022' : 'gpt-4o-mini',
    tier: null,
    mode: i % 4 === 0 ? 'byok' : 'managed',
    plan: i % 4 === 0 ? null : 'pro',
    requestType: i % 5 === 0 ? 'stream' : 'chat',
    status: i % 50 === 0 ? 'error' : 'ok',
    usageSource: 'provider',
    tokensInput,
    tokensOutput,
    costInputMicros,
    costOutputMicros,
    costTotalMicros: costInputMicros + costOutputMicros,
    priceTotalMicros: 0,
    overageTokens: 0,
    latencyMs: 300 + (i % 900),
    credential: i % 4 === 0 ? 'byok' : 'pool:openai:2',
    sandbox: false,
    attempt: 1,
    countedAsRequest: true,
    priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: 2, includedTokens: 5_000_000 },
  };
}

interface StoreProcess {
  child: Child;
  uri: string;
  /** Seconds from spawn to the connection line (includes the journal replay when there is one). */
  readySeconds: number;
}

async function startStoreProcess(journal: string | undefined): Promise<StoreProcess> {
  const args = ['--max-old-space-size=16384', '--import', 'tsx', 'scripts/wire-store-server.ts', '--port', '0', '--exit-with-parent'];
  if (journal) args.push('--journal', journal);
  const started = process.hrtime.bigint();
  const child = startChild('wire store', process.execPath, args, { cwd: path.resolve(__dirname, '..'), env: { ...process.env, LOG_LEVEL: 'warn' } });
  const line = await child.waitForLine((l) => l.startsWith('{"uri"'), 600_000);
  const readySeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { child, uri: String((JSON.parse(line) as { uri: string }).uri), readySeconds };
}

/** RSS after the store has been idle for a moment (lets V8 finish its incremental GC work). */
async function settledRssMiB(pid: number): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  return currentRssMiB(pid);
}

async function timeMs(repeat: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const started = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) await fn();
  return Number(process.hrtime.bigint() - started) / 1e6 / repeat;
}

interface MeterQueries {
  exportMonth: number;
  agentBreakdown: number;
  monthReconcile: number;
  priceEvents: number;
}

/** The metering code's reads and its stage-4 write, against `present` stored events. */
async function meterQueries(MeterEvent: ReturnType<typeof createMeterEventModel>, present: number, fullScan = true): Promise<MeterQueries> {
  const workspace = WORKSPACES[7]!;
  const agent = AGENTS[7]!.id;
  const exportMonth = await timeMs(5, () => MeterEvent.collection.find({ workspaceId: workspace, month: MONTH }).sort({ timestamp: 1 }).batchSize(1000).toArray());
  const agentBreakdown = await timeMs(5, () =>
    MeterEvent.collection
      .aggregate([
        { $match: { agentId: agent, month: MONTH } },
        { $group: { _id: { day: '$day', provider: '$provider', model: '$model' }, tokensInput: { $sum: '$tokensInput' }, requests: { $sum: { $cond: ['$countedAsRequest', 1, 0] } }, costMicros: { $sum: '$costTotalMicros' } } },
      ])
      .toArray(),
  );
  // The full-scan reconcile runs at QUERY_AT only: at 1M the store is busy for longer than the driver's monitor waits.
  const monthReconcile = !fullScan ? NaN : await timeMs(1, () =>
    MeterEvent.collection
      .aggregate([{ $match: { month: MONTH } }, { $group: { _id: { agentId: '$agentId', month: '$month' }, tokensInput: { $sum: '$tokensInput' }, costTotalMicros: { $sum: '$costTotalMicros' } } }])
      .toArray(),
  );
  let round = 0;
  const priceEvents = await timeMs(3, () => {
    round++;
    return MeterEvent.collection.bulkWrite(
      Array.from({ length: BATCH }, (_, k) => ({
        updateOne: { filter: { requestId: String(meterEvent((k * 97 + round) % present).requestId) }, update: { $set: { overageTokens: round, priceTotalMicros: round * 10 } } },
      })),
      { ordered: false },
    );
  });
  const result = { exportMonth, agentBreakdown, monthReconcile, priceEvents };
  process.stderr.write(`  queries at ${present.toLocaleString('en-US')} events (ms): ${JSON.stringify(result)}\n`);
  return result;
}

interface FillResult {
  /** insertMany events/s over the first QUERY_AT events and over the last 10% of the fill. */
  rateFirst: number;
  rateLast: number;
  queries: MeterQueries;
  queriesFull: MeterQueries;
  rssEmpty: number;
  rssFull: number;
}

async function fillMeter(uri: string, pid: number, withIndexes: boolean): Promise<FillResult> {
  const conn = await mongoose.createConnection(uri, { dbName: 'bench_meter', autoIndex: false, serverSelectionTimeoutMS: 300_000, socketTimeoutMS: 0 }).asPromise();
  try {
    const MeterEvent = createMeterEventModel(conn);
    await MeterEvent.createCollection();
    if (withIndexes) await MeterEvent.syncIndexes();
    const rssEmpty = await settledRssMiB(pid);
    // Only the insertMany calls are timed (the queries at QUERY_AT are not).
    let insertSecondsFirst = 0;
    let insertSecondsLast = 0;
    let queries: MeterQueries | undefined;
    const lastFrom = Math.floor(EVENTS * 0.9);
    for (let from = 0; from < EVENTS; from += BATCH) {
      const docs = Array.from({ length: Math.min(BATCH, EVENTS - from) }, (_, k) => meterEvent(from + k));
      const started = process.hrtime.bigint();
      await MeterEvent.collection.insertMany(docs as never[], { ordered: false });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const done = from + docs.length;
      if (done <= QUERY_AT) insertSecondsFirst += seconds;
      if (from >= lastFrom) insertSecondsLast += seconds;
      if (done === QUERY_AT && withIndexes) queries = await meterQueries(MeterEvent, done);
      if (done % 100_000 === 0) process.stderr.write(`  ${withIndexes ? 'with' : 'without'} indexes: ${done.toLocaleString('en-US')} events, store RSS ${Math.round(currentRssMiB(pid))} MiB\n`);
    }
    const rateFirst = QUERY_AT / insertSecondsFirst;
    const rateLast = (EVENTS - lastFrom) / insertSecondsLast;
    const rssFull = await settledRssMiB(pid);
    process.stderr.write(`  insertMany events/s: first ${QUERY_AT}: ${Math.round(rateFirst)}, last 10%: ${Math.round(rateLast)}; RSS empty ${Math.round(rssEmpty)} MiB, full ${Math.round(rssFull)} MiB\n`);
    const queriesFull = withIndexes ? await meterQueries(MeterEvent, EVENTS, EVENTS <= QUERY_AT) : queries!;
    return { rateFirst, rateLast, queries: queries ?? queriesFull, queriesFull, rssEmpty, rssFull };
  } finally {
    await conn.close();
  }
}

async function meterSection(): Promise<{ body: string; ok: boolean }> {
  installCleanup();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-db-'));
  const journal = path.join(dir, 'journal.bson');
  try {
    process.stderr.write(`meter: ${EVENTS.toLocaleString('en-US')} events, store in its own process (journal ${journal})\n`);
    const first = await startStoreProcess(journal);
    const indexed = await fillMeter(first.uri, first.child.pid, true);
    await first.child.stop(120_000);
    const journalBytes = fs.statSync(journal).size;

    const empty = await startStoreProcess(undefined);
    const emptyStart = empty.readySeconds;
    await empty.child.stop();
    const replayed = await startStoreProcess(journal);
    const rssReplayed = await settledRssMiB(replayed.child.pid);
    await replayed.child.stop(120_000);
    const replaySeconds = replayed.readySeconds - emptyStart;
    process.stderr.write(`  replay: ready after ${replayed.readySeconds.toFixed(1)} s (empty start ${emptyStart.toFixed(1)} s), RSS ${Math.round(rssReplayed)} MiB\n`);

    const bare = await startStoreProcess(undefined);
    const unindexed = await fillMeter(bare.uri, bare.child.pid, false);
    await bare.child.stop();

    const mib = (n: number) => `${Math.round(n).toLocaleString('en-US')} MiB`;
    const perEvent = (rss: number, base: number) => Math.round(((rss - base) * 2 ** 20) / EVENTS).toLocaleString('en-US');
    const docsMiB = unindexed.rssFull - unindexed.rssEmpty;
    const indexMiB = indexed.rssFull - indexed.rssEmpty - docsMiB;
    const q = (x: MeterQueries, k: keyof MeterQueries) => (Number.isNaN(x[k]) ? '—' : x[k].toFixed(1));
    const ok = indexed.rssFull <= RSS_TARGET_MIB && replaySeconds < REPLAY_TARGET_S;
    const n = EVENTS.toLocaleString('en-US');
    const body = [
      `**Meter events.** The real \`MeterEvent\` model (server/metering/metering.models.ts: unique \`requestId\`,`,
      '`{workspaceId, month, timestamp}`, `{agentId, month, timestamp}`), realistic events inserted with',
      `\`insertMany\` in batches of ${BATCH} (like the meter's batch writer), against a store started by`,
      '`scripts/wire-store-server.ts` in its own process, so RSS (`VmRSS`, 2 s after the last write) is the store\'s own.',
      '',
      '| measure | value | target |',
      '| --- | ---: | ---: |',
      `| store RSS, empty collection | ${mib(indexed.rssEmpty)} | |`,
      `| store RSS with ${n} events + indexes | ${mib(indexed.rssFull)} | ≤ ${mib(RSS_TARGET_MIB)} |`,
      `| bytes per stored event (RSS growth ÷ events), with indexes | ${perEvent(indexed.rssFull, indexed.rssEmpty)} | |`,
      `| … documents only (same events, no secondary index) | ${perEvent(unindexed.rssFull, unindexed.rssEmpty)} (${mib(docsMiB)}) | |`,
      `| … the three secondary indexes (difference) | ${Math.round((indexMiB * 2 ** 20) / EVENTS).toLocaleString('en-US')} (${mib(indexMiB)}) | |`,
      `| journal size | ${mib(journalBytes / 2 ** 20)} | |`,
      `| start with the ${n}-event journal (replay), minus an empty start (${emptyStart.toFixed(1)} s) | ${replaySeconds.toFixed(1)} s | < ${REPLAY_TARGET_S} s |`,
      `| store RSS after that replay | ${mib(rssReplayed)} | |`,
      '',
      `| at | insertMany events/s | export month (find workspace+month, sort) ms | agent breakdown (aggregate agentId+month) ms | month reconcile (aggregate, full scan) ms | price events (bulkWrite 1000 \`$set\` by requestId) ms |`,
      '| ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${QUERY_AT.toLocaleString('en-US')} events | ${Math.round(indexed.rateFirst).toLocaleString('en-US')} | ${q(indexed.queries, 'exportMonth')} | ${q(indexed.queries, 'agentBreakdown')} | ${q(indexed.queries, 'monthReconcile')} | ${q(indexed.queries, 'priceEvents')} |`,
      `| ${n} events | ${Math.round(indexed.rateLast).toLocaleString('en-US')} (last 10%) | ${q(indexed.queriesFull, 'exportMonth')} | ${q(indexed.queriesFull, 'agentBreakdown')} | ${q(indexed.queriesFull, 'monthReconcile')} | ${q(indexed.queriesFull, 'priceEvents')} |`,
      '',
      `The export returns ${Math.round(QUERY_AT / WORKSPACES.length).toLocaleString('en-US')} events at ${QUERY_AT.toLocaleString('en-US')} (1 of ${WORKSPACES.length} workspaces), the breakdown ${Math.round(QUERY_AT / AGENTS.length).toLocaleString('en-US')} (1 of ${AGENTS.length} agents); the reconcile groups every event of the month.`,
    ].join('\n');
    return { body, ok };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const usage = await usageRates();
  const meter = await meterSection();
  const body = [
    'Built-in wire store (in-memory), through mongoose 8 over TCP on localhost. Each row: a fresh collection',
    'filled with `insertMany`, then the measured operations. The upsert is the usage-rollup pattern',
    '(`findOneAndUpdate` on a unique key with `$inc` + `$setOnInsert`, `upsert: true, new: true`).',
    '',
    ...usage.lines,
    '',
    'Slow-down from 1k to 100k documents (target: at most 2×):',
    '',
    ...usage.ratios,
    '',
    meter.body,
  ].join('\n');
  writeBenchmarkSection('db', 'npm run bench:db', body);
  process.stdout.write(`${body}\n`);
  if (usage.worst > 2) {
    process.stdout.write(`\nWARNING: a rate at 100k documents is ${usage.worst.toFixed(2)}× slower than at 1k (target ≤ 2×)\n`);
    process.exitCode = 1;
  }
  if (!meter.ok) {
    process.stdout.write(`\nWARNING: the meter targets (RSS ≤ ${RSS_TARGET_MIB} MiB at ${EVENTS} events, replay < ${REPLAY_TARGET_S} s) are not met\n`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
