// Benchmarks the built-in wire store through mongoose: insert rate and `$inc`-upsert rate (the usage
// rollup pattern) with 1k and 100k documents already present, sequential and with concurrency 10.
// Writes its table into docs/BENCHMARKS.md. Usage: npm run bench:db
import mongoose from 'mongoose';
import { startWireStore } from '../server/db/wire-store';
import { writeBenchmarkSection } from './benchmark-report';

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

async function main(): Promise<void> {
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
  const body = [
    'Built-in wire store (in-memory), through mongoose 8 over TCP on localhost. Each row: a fresh collection',
    'filled with `insertMany`, then the measured operations. The upsert is the usage-rollup pattern',
    '(`findOneAndUpdate` on a unique key with `$inc` + `$setOnInsert`, `upsert: true, new: true`).',
    '',
    ...lines,
    '',
    'Slow-down from 1k to 100k documents (target: at most 2×):',
    '',
    ...ratios,
  ].join('\n');
  writeBenchmarkSection('db', 'npm run bench:db', body);
  process.stdout.write(`${body}\n`);
  if (worst > 2) {
    process.stdout.write(`\nWARNING: a rate at 100k documents is ${worst.toFixed(2)}× slower than at 1k (target ≤ 2×)\n`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
