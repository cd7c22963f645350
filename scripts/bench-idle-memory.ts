// `npm run bench:memory`: the Agent Host server's memory, started the production way (`npm run serve`: its node flags
// and environment, NODE_ENV=production, LOG_LEVEL=warn, the built-in store in its own process, the benchmarks' fake
// provider). Reports
//   - idle RSS after start-up settles, and again after the first API calls (register, agents, keys) have settled
//     (the password-hashing worker has exited): VmRSS, the V8 heap used, external and array-buffer memory;
//   - peak RSS (VmHWM, reset after the idle readings) over a short load: /v1 BYOK, Pro plan and tools calls at c10 and
//     c50, and dashboard usage queries alongside;
//   - with --modules, a second process (same flags plus --expose-gc) that attributes the heap and RSS each package
//     keeps from its first load (scripts/memory-probe.cjs): the top packages and the project's own directories.
// Flags:
//   --skip-build   use the existing dist/ (default: `npm run build:server` first)
//   --modules      also print the per-package table (adds ~30 s)
//   --seconds=<n>  seconds per load case (default 4)
//   --write        write the section "memory" of docs/BENCHMARKS.md (the measured tables and the notes below)
import { benchDataDir, benchServerEnv, runMigrations, startAgentHost, startBackends } from './bench-stack';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { describeMachine, writeBenchmarkSection } from './benchmark-report';
import {
  currentRssMiB,
  fmt,
  installCleanup,
  jsonRequest,
  log,
  markdownTable,
  peakRssMiB,
  resetPeakRss,
  runLoad,
  sleep,
  stopAllChildren,
  type Child,
} from './bench-support';
import { CHAT_BODY, TOOLS_BODY } from './bench-gateway';
import { createAgent, createAgentKey, registerUser } from './bench-usage';
import { serveCommand } from './serve-command';

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const SKIP_BUILD = argv.includes('--skip-build');
const WITH_MODULES = argv.includes('--modules');
const WRITE = argv.includes('--write');
const CASE_SECONDS = Number(argv.find((value) => value.startsWith('--seconds='))?.slice('--seconds='.length) ?? 4);
const COMMAND = `npm run bench:memory${WITH_MODULES ? ' -- --modules' : ''}`;
const SERVE = serveCommand(ROOT);
const PROBE = path.join(ROOT, 'scripts', 'memory-probe.cjs');

const MiB = 1024 * 1024;

/** What each change bought (hand-kept; the table above them is rewritten by each --write run). */
const NOTES = [
  'Where the memory of an idle server is (2026-12-01, before the changes below; `--modules` and /proc/<pid>/smaps):',
  '',
  '- ~51 MiB of RSS is the node binary\'s own pages (file-backed: its code, the built-in modules\' sources, ICU data); a',
  '  bare `node -e` has 34 MiB of them. ~6 MiB of the difference was ICU data read by the first `Intl.DateTimeFormat`.',
  '- The V8 heap: ~40 MiB used, ~58 MiB committed right after start-up, of which the young generation 13.8 MiB',
  '  committed with ~2 MiB in use: start-up grows it to 2 × `--max-semi-space-size`, and V8\'s memory reducer shrank it',
  '  only ~100 s later (RSS 120 → 107 MiB at that moment, seen with `--trace-gc`). About a third of the used heap is the',
  '  source text of the ~1,470 loaded modules (kept for lazy compilation).',
  '- `external` ~25 MiB is mostly bson\'s 17 MiB serialization buffer (allocated zeroed, only touched pages resident)',
  '  and libsodium\'s WebAssembly memory; they count little in RSS.',
  '- "At once" after the first API calls (~180–197 MiB) is the password-hashing worker (Argon2id, 64 MiB, plus its own',
  '  V8 isolate): it exits 3 s after its last hash (server/vault/password-hashing.ts) and RSS comes back. The old',
  '  "idle RSS 184 MiB" of `npm run bench` was read at that moment.',
  '',
  'Changes (same machine, `npm run bench:memory`; idle after start-up / after the first API calls / after the load, all',
  'settled; peak under load):',
  '',
  '0. Before (main at 3d73d63; first version of this script, which read "settled" after 5 s of stable RSS, i.e. before',
  '   V8\'s own reduction): 116 / 122 / 140 MiB, peak 150 MiB.',
  '1. `server/idle-memory.ts` (wired in server/platform.ts, production only): when the process has used < 5 % CPU over',
  '   a 5 s interval after start-up or a busy interval, one full collection, and another ≥ 5.5 s later (V8 shrinks the',
  '   young generation at a collection only when the allocation rate of the 5 s before it was low), at most 3, then it',
  '   waits for the next busy interval. Young generation 13.8 → 1.0 MiB committed; alone ≈ −13 MiB at idle (121 → 108',
  '   in a what-if run). A collection costs 50–300 ms of CPU on this box and runs only after a whole quiet interval.',
  '2. Loaded on first use instead of at start-up: nodemailer (only with SMTP configured), handlebars (first prompt',
  '   render or template check), simple-statistics (experiment results), csv-stringify (CSV exports). What-if runs',
  '   (each package replaced by an empty stub, one process each, ±1 MiB): nodemailer −2.7, handlebars −3.4,',
  '   simple-statistics + csv-stringify −1.8 MiB. With 1: 99 / 103 / 117 MiB, peak 144 MiB.',
  '3. The `openai` SDK loads on the first call of an OpenAI-compatible provider (`lazyAdapter`, as the other SDKs',
  '   already did): −150 modules, what-if −2.5 MiB. With 1–2: 97 / 102 / 123 MiB, peak 145 MiB (the load case loads it).',
  '4. `server/metering/billing/statement-views.ts`: its two `Intl.DateTimeFormat`s are made on first use (the first one',
  '   in a process touches ~6 MiB of ICU data; nothing else at start-up used Intl). With 1–3: 90 / 95 / 141 MiB,',
  '   peak 155 MiB (the table above).',
  '',
  'Idle targets (≤ 100 MiB): met after start-up and after the first API calls. Not met: idle after a load goes back',
  'only to 117–141 MiB in these runs (young generation trimmed, but the old generation keeps 15 MiB of committed',
  'free pages and the load\'s compiled code). Peak under this short load: 144–155 MiB over four runs (150 before); it',
  'moves with the request rate the shared machine allows (13–141 req/s here, load average 10–18), so the changes',
  'above are not claimed to lower it; `npm run bench` measures it per case at full rate.',
  '',
  'Not changed, and why: the node flags of `npm run serve` stay (with the trim the young generation\'s maximum no',
  'longer shows at idle; `--max-semi-space-size` and `--heap-growing-percent` keep their measured trade-off with the',
  'usage query, items 11 and 15 of "gateway overhead"). The largest remaining single item is undici: the package',
  '(~1.1 MB of source, the keep-alive pool of the /v1 hot path) and, through `globalThis.Headers` in its cookies',
  'module, Node\'s own bundled copy of it (~+12 MiB RSS in a bare process for both). Loading it on first use needs',
  'server/llm/keep-alive-fetch.ts restructured (its BufferedResponse extends undici\'s Response at load), left to the hot-path',
  'owner. Socket.IO (~2.6 MiB) is attached at start-up to the HTTP server; mongoose/mongodb, zod, express and',
  'libsodium (the vault opens keys synchronously on the hot path, and libsodium only initializes asynchronously) are',
  'needed by the first request of any kind.',
];

interface ProbeLine {
  memoryUsage: NodeJS.MemoryUsage;
  /** [used, committed] bytes per V8 heap space. */
  heapSpaces: Record<string, [number, number]>;
  mallocedMemory: number;
  codeAndMetadata: { code_and_metadata_size: number; bytecode_and_metadata_size: number; external_script_source_size: number };
  modulesLoaded: number;
  packages?: Array<{ owner: string; heap: number; rss: number; modules: number }>;
}

interface Reading {
  rss: number;
  threads: number;
  probe: ProbeLine;
}

function threadsOf(pid: number): number {
  const match = /Threads:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : NaN;
}

/** Asks the probe in the server for a reading (SIGUSR2 → one JSON line appended to its file). */
async function probe(child: Child, file: string): Promise<ProbeLine> {
  const before = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0;
  process.kill(child.pid, 'SIGUSR2');
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length > before) return JSON.parse(lines[lines.length - 1]!) as ProbeLine;
  }
  throw new Error('the memory probe did not answer');
}

/**
 * Idle: at least `minSeconds` without requests (the server's idle trim, server/idle-memory.ts, looks every 5 s), then
 * RSS has moved by at most 1 MiB over 10 s (at most `maxSeconds` in all), then reads.
 */
async function settledReading(child: Child, file: string, minSeconds = 30, maxSeconds = 120): Promise<Reading & { waitedSeconds: number }> {
  const samples: number[] = [];
  const started = Date.now();
  for (;;) {
    samples.push(currentRssMiB(child.pid));
    const last = samples.slice(-11);
    if (Date.now() - started >= minSeconds * 1000 && last.length === 11 && Math.max(...last) - Math.min(...last) <= 1) break;
    if (Date.now() - started > maxSeconds * 1000) break;
    await sleep(1_000);
  }
  const probeLine = await probe(child, file);
  return { rss: currentRssMiB(child.pid), threads: threadsOf(child.pid), probe: probeLine, waitedSeconds: (Date.now() - started) / 1000 };
}

interface Stack {
  store: Child;
  fakeUrl: string;
  env: NodeJS.ProcessEnv;
}

async function startMemoryBackends(): Promise<Stack> {
  const { store, storeUri, fakeUrl } = await startBackends();
  const dataDir = benchDataDir('agent-host-bench-memory-');
  // The same environment scripts/bench.ts gives the server.
  const env: NodeJS.ProcessEnv = {
    ...benchServerEnv({ storeUri, fakeUrl, dataDir }),
    ...SERVE.env,
  };
  await runMigrations(env);
  log(`store ${storeUri}, fake provider ${fakeUrl}`);
  return { store, fakeUrl, env };
}

/** Agent Host as `npm run serve` starts it, with the memory probe (scripts/memory-probe.cjs) loaded first. */
function startProbedAgentHost(stack: Stack, probeFile: string, extra: { flags?: string[]; env?: NodeJS.ProcessEnv; startTimeoutMs?: number } = {}): Promise<{ child: Child; url: string }> {
  return startAgentHost({
    env: { ...stack.env, MEMORY_PROBE_FILE: probeFile, ...extra.env },
    flags: ['--require', PROBE, ...(extra.flags ?? [])],
    startTimeoutMs: extra.startTimeoutMs,
  });
}

/** Dashboard traffic alongside the /v1 load: `concurrency` loops of the workspace usage query. */
async function usageQueries(url: string, token: string, workspaceId: string, seconds: number, concurrency: number): Promise<number> {
  const deadline = Date.now() + seconds * 1000;
  let count = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < deadline) {
        const response = await jsonRequest('GET', `${url}/api/workspaces/${workspaceId}/usage`, { token });
        if (response.status !== 200) throw new Error(`usage query: HTTP ${response.status} ${response.text.slice(0, 200)}`);
        count += 1;
      }
    }),
  );
  return count;
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

function readingRow(label: string, reading: Reading): string[] {
  const usage = reading.probe.memoryUsage;
  const code = reading.probe.heapSpaces.code_space?.[0] ?? 0;
  const newSpace = reading.probe.heapSpaces.new_space?.[1] ?? 0;
  return [
    label,
    fmt.mib(reading.rss),
    mib(usage.heapUsed),
    mib(usage.heapTotal),
    mib(newSpace),
    mib(code),
    mib(usage.external),
    mib(usage.arrayBuffers),
    mib(reading.probe.mallocedMemory),
    String(reading.probe.modulesLoaded),
    String(reading.threads),
  ];
}

const READING_HEADER = ['when', 'RSS MiB', 'heap used', 'heap total', 'young gen. committed', 'code space', 'external', 'array buffers', 'V8 malloc', 'modules', 'threads'];

async function moduleTable(stack: Stack): Promise<string> {
  const file = path.join(os.tmpdir(), `agent-host-memory-probe-modules-${process.pid}.jsonl`);
  fs.rmSync(file, { force: true });
  const server = await startProbedAgentHost(stack, file, { flags: ['--expose-gc'], env: { MEMORY_PROBE_MODULES: '1' }, startTimeoutMs: 400_000 });
  try {
    const reading = await settledReading(server.child, file, 5, 20);
    const packages = (reading.probe.packages ?? []).sort((a, b) => b.heap - a.heap);
    const top = packages.slice(0, 25);
    const rest = packages.slice(25);
    const rows = top.map((entry) => [entry.owner, mib(entry.heap), mib(entry.rss), String(entry.modules)]);
    rows.push([`(${rest.length} others)`, mib(rest.reduce((sum, entry) => sum + entry.heap, 0)), mib(rest.reduce((sum, entry) => sum + entry.rss, 0)), String(rest.reduce((sum, entry) => sum + entry.modules, 0))]);
    return [
      `What each package keeps from its first load, at start-up (a separate process with \`--expose-gc\`, collected before each`,
      `reading; "heap" is the V8 heap it keeps, "RSS" the resident growth, code and native allocations included; its own`,
      `imports are their own rows). Total heap used at this point: ${mib(reading.probe.memoryUsage.heapUsed)} MiB, RSS ${fmt.mib(reading.rss)} MiB.`,
      '',
      markdownTable(['package or own directory', 'heap MiB', 'RSS MiB', 'modules'], ['l', 'r', 'r', 'r'], rows),
    ].join('\n');
  } finally {
    await server.child.stop();
    fs.rmSync(file, { force: true });
  }
}

async function main(): Promise<void> {
  installCleanup();
  const load = os.loadavg().map((value) => value.toFixed(2)).join(', ');
  log(`${COMMAND} on ${describeMachine()}; load average ${load}`);
  if (!SKIP_BUILD) {
    log('npm run build:server');
    const build = spawnSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0 && !fs.existsSync(path.join(ROOT, 'dist', 'server', 'main.js'))) throw new Error('build failed and there is no dist/server/main.js');
  }
  const stack = await startMemoryBackends();
  const probeFile = path.join(os.tmpdir(), `agent-host-memory-probe-${process.pid}.jsonl`);
  fs.rmSync(probeFile, { force: true });
  process.on('exit', () => fs.rmSync(probeFile, { force: true }));

  const server = await startProbedAgentHost(stack, probeFile);
  const pid = server.child.pid;
  log(`Agent Host ${server.url} (pid ${pid}): ${SERVE.nodeFlags.join(' ')} ${Object.entries(SERVE.env).map(([name, value]) => `${name}=${value}`).join(' ')}`);
  await sleep(5_000);
  const startPeak = peakRssMiB(pid);
  const fiveSecondsAfterStart = { rss: currentRssMiB(pid), threads: threadsOf(pid), probe: await probe(server.child, probeFile) };
  const idleStart = await settledReading(server.child, probeFile);
  log(`idle after start-up: RSS ${fmt.mib(idleStart.rss)} MiB (settled after ${idleStart.waitedSeconds.toFixed(0)} s), heap used ${mib(idleStart.probe.memoryUsage.heapUsed)} MiB`);

  // The first API calls, as `npm run bench` makes them before its gateway cases.
  const owner = await registerUser(server.url, 'Memory bench owner');
  const byokAgent = await createAgent(server.url, owner, 'BYOK agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-fake-bench-byok-0123456789abcdef' });
  const managedAgent = await createAgent(server.url, owner, 'Managed agent', { mode: 'managed', plan: 'pro' });
  const byokKey = await createAgentKey(server.url, owner, byokAgent);
  const managedKey = await createAgentKey(server.url, owner, managedAgent);
  const rightAfterSetup = currentRssMiB(pid);
  const idleSetup = await settledReading(server.child, probeFile);
  log(`idle after the first API calls: RSS ${fmt.mib(rightAfterSetup)} MiB at once, ${fmt.mib(idleSetup.rss)} MiB settled`);

  // Short load: peak RSS from here (VmHWM reset, so the start-up peak does not count).
  const resetWorked = resetPeakRss(pid);
  const cases = [
    { label: 'BYOK c10', key: byokKey, body: CHAT_BODY, connections: 10 },
    { label: 'Pro plan c10', key: managedKey, body: CHAT_BODY, connections: 10 },
    { label: 'BYOK tools c10', key: byokKey, body: TOOLS_BODY, connections: 10 },
    { label: 'BYOK c50 + usage queries', key: byokKey, body: CHAT_BODY, connections: 50, usage: true },
    { label: 'Pro plan c50', key: managedKey, body: CHAT_BODY, connections: 50 },
  ];
  const caseRows: string[][] = [];
  for (const entry of cases) {
    const [result, queries] = await Promise.all([
      runLoad({ url: `${server.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${entry.key}` }, body: entry.body, connections: entry.connections, durationSeconds: CASE_SECONDS }),
      entry.usage ? usageQueries(server.url, owner.token, owner.workspaceId, CASE_SECONDS, 2) : Promise.resolve(0),
    ]);
    const peak = peakRssMiB(pid);
    log(`${entry.label}: ${fmt.int(result.requestsPerSecond)} req/s${queries ? `, ${queries} usage queries` : ''}, RSS ${fmt.mib(currentRssMiB(pid))} MiB, peak so far ${fmt.mib(peak)} MiB${result.non2xx + result.errors ? `, non-2xx ${result.non2xx} errors ${result.errors}` : ''}`);
    caseRows.push([entry.label, fmt.int(result.requestsPerSecond), queries ? String(queries) : '', fmt.mib(peak), String(result.non2xx + result.errors)]);
  }
  const peakLoad = peakRssMiB(pid);
  const afterLoad = await settledReading(server.child, probeFile);
  await server.child.stop();

  const parts = [
    `Agent Host started as \`npm run serve\` does (\`${Object.entries(SERVE.env).map(([name, value]) => `${name}=${value}`).join(' ')} node ${SERVE.nodeFlags.join(' ')}\`,`,
    'NODE_ENV=production, LOG_LEVEL=warn), the built-in store and the fake provider (delay 0) in their own processes;',
    `machine load average at the start ${load} (shared by several engineers). Memory in MiB (\`process.memoryUsage()\`,`,
    'V8 heap spaces, /proc/<pid>/status), read by scripts/memory-probe.cjs (preloaded; a few KB).',
    '',
    markdownTable(READING_HEADER, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'], [
      readingRow('5 s after start-up', fiveSecondsAfterStart),
      readingRow('idle after start-up (settled)', idleStart),
      readingRow('idle after the first API calls (settled)', idleSetup),
      readingRow('idle after the load (settled)', afterLoad),
    ]),
    '',
    `- RSS right after the first API calls (register + 2 agents + 2 keys, before settling; what \`npm run bench\` read as`,
    `  "idle" until now): ${fmt.mib(rightAfterSetup)} MiB. Peak during start-up (VmHWM before the first reset): ${fmt.mib(startPeak)} MiB.`,
    `- **Peak RSS under load** (VmHWM${resetWorked ? ', reset after the idle readings' : ', NOT reset: the kernel refused, includes start-up'}): **${fmt.mib(peakLoad)} MiB**; ` +
      `idle RSS **${fmt.mib(idleSetup.rss)} MiB** (targets ≤ 100 / ≤ 150: ${idleSetup.rss <= 100 ? 'idle met' : 'idle missed'}, ${peakLoad <= 150 ? 'peak met' : 'peak missed'}).`,
    '',
    markdownTable(['load case (' + CASE_SECONDS + ' s each, in order)', '/v1 req/s', 'usage queries', 'peak RSS so far', 'non-2xx+errors'], ['l', 'r', 'r', 'r', 'r'], caseRows),
  ];
  if (WITH_MODULES) {
    log('per-package attribution (a second process with --expose-gc)');
    parts.push('', await moduleTable(stack));
  }
  parts.push('', ...NOTES);
  const body = parts.join('\n');
  process.stdout.write(`\n${body}\n\n`);
  if (WRITE) {
    writeBenchmarkSection('memory', COMMAND, body);
    log('wrote section "memory" to docs/BENCHMARKS.md');
  }
  await stopAllChildren();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench:memory failed: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
