// bench:cache — the semantic response cache: hit rate and wrong-hit rate on the shipped paraphrase set
// (scripts/bench-data/cache-paraphrases.json, its rule written in the file) at several thresholds, with the embeddings
// the sandbox uses (the simulator's hashed bag of words, through the OpenAI SDK); lookup time of the in-process vector
// index at 1k / 10k / 100k entries per agent; memory per entry. Writes its section into docs/BENCHMARKS.md.
// Usage: npm run bench:cache
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { startProviderSimulator } from '../server/llm/simulator';
import { cosineSimilarity, embed, EMBEDDING_MODELS } from '../server/llm/embeddings/embeddings';
import { InProcessVectorIndex } from '../agents/vector-index';
import { writeBenchmarkSection } from './benchmark-report';
import { seededRandom as seeded } from './bench-seeded-random';

const THRESHOLDS = [0.8, 0.85, 0.9, 0.95, 0.98];
const SIZES = [1_000, 10_000, 100_000];
const QUERIES = 200;
const DIMENSIONS = EMBEDDING_MODELS.openai!.dimensions!;

interface ParaphraseSet {
  rule: string;
  same: Array<[string, string]>;
  different: Array<[string, string]>;
}

function randomVector(next: () => number): number[] {
  const vector = Array.from({ length: DIMENSIONS }, () => next() * 2 - 1);
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return vector.map((value) => value / norm);
}

const quantileOf = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

async function qualityAtThresholds(set: ParaphraseSet): Promise<string> {
  const simulator = await startProviderSimulator();
  try {
    const options = { apiKey: 'sk-bench', baseUrl: simulator.baseUrls.openai, signal: new AbortController().signal, timeoutMs: 10_000 };
    const similarities = async (pairs: Array<[string, string]>) => {
      const texts = pairs.flat();
      const { vectors } = await embed('openai', texts, options);
      return pairs.map((_, index) => cosineSimilarity(vectors[2 * index]!, vectors[2 * index + 1]!));
    };
    const same = await similarities(set.same);
    const different = await similarities(set.different);
    const rows = THRESHOLDS.map((threshold) => {
      const hits = same.filter((value) => value >= threshold).length;
      const wrong = different.filter((value) => value >= threshold).length;
      const precision = hits + wrong > 0 ? wrong / (hits + wrong) : 0;
      return `| ${threshold.toFixed(2)} | ${hits} / ${same.length} (${((hits / same.length) * 100).toFixed(0)} %) | ${wrong} / ${different.length} (${((wrong / different.length) * 100).toFixed(0)} %) | ${(precision * 100).toFixed(0)} % |`;
    });
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
    return [
      `Paraphrase set: ${set.same.length} pairs that should share an answer, ${set.different.length} that must not (\`scripts/bench-data/cache-paraphrases.json\`).`,
      `Rule: ${set.rule}`,
      '',
      `Embeddings: the sandbox's (the provider simulator's hashed bag of words, ${DIMENSIONS} dimensions, through the OpenAI SDK). Median cosine: should-share pairs ${median(same).toFixed(3)}, must-not pairs ${median(different).toFixed(3)}. A real embeddings model gives other numbers: rerun with it before choosing a threshold in production.`,
      '',
      '| threshold | hit rate (should-share pairs answered from the cache) | wrong-hit rate (must-not pairs answered from the cache) | share of hits that are wrong |',
      '|---|---|---|---|',
      ...rows,
    ].join('\n');
  } finally {
    await simulator.close();
  }
}

async function lookupTimes(): Promise<string> {
  const rows: string[] = [];
  let memoryPerEntry = '';
  for (const size of SIZES) {
    const next = seeded(size);
    global.gc?.();
    const before = process.memoryUsage();
    const index = new InProcessVectorIndex({ maxPerAgent: size });
    const expiresAt = new Date(Date.now() + 3_600_000);
    for (let entry = 0; entry < size; entry += 1) index.add('agent', { id: `e${entry}`, scope: 'scope', vector: randomVector(next), expiresAt });
    global.gc?.();
    const after = process.memoryUsage();
    const bytesPerEntry = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / size;
    const queries = Array.from({ length: QUERIES }, () => randomVector(next));
    const times: number[] = [];
    const cpuBefore = process.cpuUsage();
    for (const query of queries) {
      const started = performance.now();
      // A threshold no random vector reaches: every lookup scans the whole scope (the worst case, a miss).
      await index.nearest('agent', 'scope', query, 0.999);
      times.push(performance.now() - started);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const cpuPerLookupMs = (cpu.user + cpu.system) / 1000 / queries.length;
    times.sort((a, b) => a - b);
    rows.push(`| ${size.toLocaleString('en-US')} | ${cpuPerLookupMs.toFixed(2)} ms | ${quantileOf(times, 0.5).toFixed(2)} ms | ${quantileOf(times, 0.99).toFixed(2)} ms | ${(bytesPerEntry / 1024).toFixed(2)} KiB |`);
    if (size === SIZES[SIZES.length - 1]) memoryPerEntry = `${(bytesPerEntry / 1024).toFixed(2)} KiB`;
  }
  return [
    `In-process vector index (\`agents/vector-index.ts\`), one agent, one scope (every single-turn question of an agent shares one), ${DIMENSIONS}-dimension vectors, ${QUERIES} lookups that miss (a full scan: the worst case). Memory: heap + array buffers after the entries were added, per entry (vector as Float32Array, id, scope, expiry). Atlas Vector Search is not measured here (no Atlas in this environment).`,
    '',
    `Load average while it ran: ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')} on ${os.cpus().length} cores — wall times on a shared machine are inflated by the other processes; the CPU time per lookup is the steadier number.`,
    '',
    '| entries per agent | CPU time per lookup | wall p50 | wall p99 | memory per entry |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `At 100,000 entries an agent's index holds about ${memoryPerEntry} per entry; the default bound is 10,000 entries per agent (least recently used go first).`,
  ].join('\n');
}

async function main(): Promise<void> {
  const set = JSON.parse(fs.readFileSync(path.join(__dirname, 'bench-data', 'cache-paraphrases.json'), 'utf8')) as ParaphraseSet;
  const quality = await qualityAtThresholds(set);
  const lookups = await lookupTimes();
  const body = ['### Hit rate and wrong-hit rate by threshold', '', quality, '', '### Lookup time and memory', '', lookups].join('\n');
  writeBenchmarkSection('cache', 'npm run bench:cache', body);
  process.stdout.write(`${body}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
