// `npm run bench`: one command, one run, every case. Builds the server, starts each server in its own process
// (built-in store, fake LLM provider, Agent Host from dist/, Portkey), measures, and writes the sections
// "gateway overhead" and "meter and usage" of docs/BENCHMARKS.md. Flags:
//   --quick        a short smoke run (fewer and shorter cases, smaller data); numbers are not meaningful and are
//                  only printed (add --write to write them to docs/BENCHMARKS.md anyway)
//   --skip-build   use the existing dist/ (default: `npm run build:server` first)
//   --only=a,b     run only some parts: gateway, profile, streams, features, workers, usage, meter, live (sections are
//                  written only when complete)
//   --no-write     print, do not touch docs/BENCHMARKS.md
//   --profile-c=<n>  concurrency of the profiled run (default 10)
//   --profile-case=byok|managed  which agent the profiled run calls (default byok)
//   --keep-profile=<file>  keep the raw .cpuprofile of the profiled Agent Host (open it in Chrome DevTools)
//   --delays=0,50 --concurrencies=1,10,50 --duration=<s>  narrow the gateway cases (printed only unless --write)
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { loadCatalog } from '../server/catalog/catalog.service';
import { describeMachine, writeBenchmarkSection } from './benchmark-report';
import {
  EXIT_WITH_PARENT_IMPORT,
  expectStatus,
  fmt,
  jsonRequest,
  installCleanup,
  log,
  markdownTable,
  peakRssMiB,
  currentRssMiB,
  runLoad,
  sleep,
  startChild,
  stopAllChildren,
  waitForHttp,
  type Child,
} from './bench-support';
import {
  CHAT_BODY,
  TOOLS_BODY,
  gatewayTables,
  gatewayTargetsSummary,
  newestCpuProfile,
  profileMarkdown,
  runGatewayCases,
  summarizeCpuProfile,
  type GatewayTarget,
  type ProfileSummary,
} from './bench-gateway';
import { streamBurstSection } from './bench-stream-burst';
import { createFeatureCases, featureCostSection, workersSection } from './bench-feature-costs';
import { findFreePort, startRedis } from '../test/support/redis-server';
import { benchLiveUpdates, benchMeterPipeline, benchUsageQuery, createAgent, createAgentKey, registerUser } from './bench-usage';

const ROOT = path.resolve(__dirname, '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const SKIP_BUILD = argv.includes('--skip-build');
// A smoke run does not replace the measured sections unless asked to (--write).
const listFlag = (name: string): number[] | undefined => argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3).split(',').map(Number);
const NARROWED = ['delays', 'concurrencies', 'duration'].some((name) => argv.some((value) => value.startsWith(`--${name}=`)));
const NO_WRITE = argv.includes('--no-write') || ((QUICK || NARROWED) && !argv.includes('--write'));
const ONLY = new Set((argv.find((value) => value.startsWith('--only='))?.slice(7) ?? 'gateway,profile,streams,features,workers,usage,meter,live').split(',').filter(Boolean));
const PROFILE_CONCURRENCY = Number(argv.find((value) => value.startsWith('--profile-c='))?.slice('--profile-c='.length) ?? 10);
const PROFILE_CASE = argv.find((value) => value.startsWith('--profile-case='))?.slice('--profile-case='.length) === 'managed' ? 'managed' : 'byok';
const COMMAND = `npm run bench${QUICK ? ' -- --quick' : ''}`;

const PLAN = QUICK
  ? { delays: [0, 50], concurrencies: [1, 10], warmupSeconds: 0.5, durationSeconds: 1, profileSeconds: 2, usageAgents: 100, syntheticEvents: 200_000, materializeEvery: 10, usageRequests: 50, meterEvents: 10_000, liveCalls: 20, streamSizes: [50], streamDeltas: 20, featureRounds: 2, featureSeconds: 1 }
  : { delays: [0, 50], concurrencies: [1, 10, 50], warmupSeconds: 3, durationSeconds: 4, profileSeconds: 6, usageAgents: 1_000, syntheticEvents: 10_000_000, materializeEvery: 10, usageRequests: 300, meterEvents: 100_000, liveCalls: 200, streamSizes: [100, 500, 1_000], streamDeltas: 100, featureRounds: 5, featureSeconds: 3 };

if (NARROWED) {
  Object.assign(PLAN, {
    delays: listFlag('delays') ?? PLAN.delays,
    concurrencies: listFlag('concurrencies') ?? PLAN.concurrencies,
    durationSeconds: listFlag('duration')?.[0] ?? PLAN.durationSeconds,
  });
}

/**
 * Agent Host runs exactly as `npm run serve` (and the Procfile) runs it in production: the same environment settings
 * and node flags, read from package.json so the benchmark cannot drift from what is deployed.
 */
function serveCommand(): { env: Record<string, string>; nodeFlags: string[]; script: string } {
  const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts.serve ?? '').trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  if (words.shift() !== 'node' || words.length === 0) throw new Error('package.json scripts.serve must be "[NAME=value ...] node [flags] <script>"');
  const script = words.pop()!;
  return { env, nodeFlags: words, script };
}
const SERVE = serveCommand();

const STORE_DB = 'agent_host';

const GATEWAY_NOTES = [
  'Reading these numbers:',
  '',
  '- At delay 50 ms every gateway, Portkey included, adds 1.5–3.5 ms at c1: each hop waits for an idle vCPU of this VM to wake',
  '  up. The barest proxy pays it too: in an isolated test (same fake at 50 ms, c1, 8 s) a node:http server forwarding with',
  '  undici `request()` and no SDK added +1.60 ms p50, with the `openai` SDK +2.18 ms. So the c1 overhead target can only',
  '  be judged at delay 0. At delay 50 ms req/s is bounded by the delay for every case (at most 20 × c); "1.5× Portkey"',
  '  cannot apply there and is judged at delay 0.',
  '- "server CPU ms/req" at low rates includes work that is not per request (timers, the previous case\'s garbage, the',
  '  meter\'s batch writes), so it is higher at c1 than at c10/c50 for both gateways.',
  '- Agent Host does more per call than a proxy: agent-key lookup (cached 5 s), opening the sealed key (libsodium), the',
  '  template prompt, limits, and the meter event (written off the response path in batches to the store, which runs in',
  '  its own process on the same 2 cores). Portkey here only forwards.',
  '- Peak RSS is the server process started the production way (`npm run serve`: `MALLOC_ARENA_MAX=2 node',
  '  --max-semi-space-size=6 --heap-growing-percent=40`). Without these settings V8 lets the old generation grow to about four',
  '  times the live heap under load: 245–262 MiB at delay 50 ms / c50 in the same kind of run.',
  '',
  'Changes made to the server with this benchmark (2026-11-23, same machine and method), in order:',
  '',
  '1. `server/llm/keep-alive-fetch.ts`: the SDKs\' `fetch` runs their plain calls on undici `request()` (same keep-alive',
  '   pool); JSON answers are read whole before the Response is built. SDK + fetch per call: 526 → 226 µs CPU.',
  '2. `server/llm/llm-router.ts`: the per-attempt signal is released when the attempt ends (it kept every finished call',
  '   reachable for a minute: heap that grew with the request rate).',
  '3. Provider SDKs other than OpenAI\'s, the Redis adapter, the built-in store and the simulator load only when used.',
  '4. `server/metering/alert.service.ts`: the agent\'s name is read only when a batch crosses an alert threshold.',
  '5. `server/vault/password-hashing.ts`: Argon2id runs in a worker thread that exits after 3 s idle (its 64 MiB go with it).',
  '6. `agents/agent-runner.ts`: calls are routed with a tokenizer-free upper bound of the prompt; the tokenizer (~65 MB)',
  '   loads only when a count must be exact.',
  '7. `server/metering/meter.service.ts`: the flush loop kept writing while calls arrived, so at c1 nearly every call was',
  '   its own batch (an insert and a rollup round trip per call: 1,424 inserts in 4 s at ~850 calls/s). It now writes at',
  '   most once per `METER_FLUSH_INTERVAL_MS` (100 ms), the first event after a quiet interval at once. In back-to-back',
  '   runs with 8 already in: c1 p50 1.07 → 0.74 ms (Pro). With 7–9, c50 went from 1,500–1,600 to ~2,900 req/s.',
  '8. `server/http/openai-compatible-api.ts`: `/v1` is served on node:http before Express (no router walk or middleware',
  '   chain; helmet\'s headers captured once, one `writeHead`). Express + helmet + pino-http + body parser cost ~0.27 ms',
  '   p50 at c1 in an isolated test with the SDK call alone.',
  '9. `server/llm/providers/openai/openai.adapter.ts`: one SDK client per endpoint, the key in each request\'s own',
  '   Authorization header (no client per call; no key held by a client).',
  '10. `server/metering/usage-live-publisher.ts`: no usage reads for workspaces nobody is watching (single instance).',
  '11. `package.json` `serve` / `Procfile`: the memory settings above (peak RSS 250–350 → 125–141 MiB). The growing',
  '    percentage trades memory against the usage query (an allocation-heavy request): at 25, peak RSS ~134 MiB but the',
  '    usage query\'s p95 rose to 57–59 ms after the gateway cases; at 40, ~140 MiB and ~47–50 ms; at 60, ~148 MiB.',
  '12. `server/llm/keep-alive-fetch.ts`: a JSON answer is a `BufferedResponse` (an undici Response whose `json()`/`text()`',
  '    read the bytes directly; a web stream is made only if `.body` is asked for). Building a Response over a body',
  '    creates a web ReadableStream and a FinalizationRegistry entry per call: CPU, and every answer kept alive until',
  '    the next full GC. Isolated test (SDK + fetch on node:http, c1): 0.57–0.61 → 0.49 ms CPU per call.',
  '13. `server/metering/meter.service.ts`: after a batch of 50 or more events the next waits `METER_BUSY_FLUSH_INTERVAL_MS`',
  '    (250 ms) instead of 100. Per-request timing inside the server showed the slowest 1.5% of calls at c1 were mostly',
  '    the ones overlapping a batch write (its encoding on the event loop, the store busy on the other core); a light',
  '    load still gets every event written within 100 ms.',
  '14. `server/vault/vault.service.ts`: the nonce and ciphertext of a sealed key are decoded once per cached agent (public',
  '    bytes only; the key is still opened per call, never cached): 20 → 15 µs per BYOK call inside the server.',
  '15. `serve`: `--max-semi-space-size` 8 → 6. At 4 peak RSS was ~8 MiB lower at the same req/s, but the usage query (an',
  '    allocation-heavy request) rose to p95 49 ms after the gateway cases; at 6 it is 34 ms with peak RSS ≤ 140 MiB.',
  '',
  'Method change (same session): every case now gets a 3 s warm-up (was 1 s), and before a server\'s first case each of',
  'its cases gets the long warm-up, followed by the same pause every later case gets. With 1 s, CPU per call was still',
  '10–30% above steady state for ~2 s after each pause (measured at 0.5 s resolution inside the server), and the case',
  'that ran first (BYOK) measured 5–10% fewer req/s than the same case run again later in the same process.',
  '',
  'Before 7–11 (previous full run, same method): c1 overhead p50 +1.56 (BYOK) / +1.39 (Pro) ms, p99 +7.51 / +5.09 ms;',
  'c50 1,507 / 1,603 req/s (1.40× / 1.48× Portkey); peak RSS 340 MiB. Before 1–4: c1 348 req/s, peak RSS 741 MiB.',
  '',
  'Floor on this box (an isolated test, c1, delay 0, same fake): a bare node:http proxy on the same fetch without any SDK',
  'adds +0.29 ms p50; with the `openai` SDK call (shared client) +0.50 ms; with Express + helmet + pino-http +0.82 ms.',
  'What Agent Host adds above the SDK floor (key lookup, prompt, limits, routing, meter) is ~0.15–0.2 ms at p50. Inside',
  'the server at c1 each small step costs 10–40× its microbenchmark (the request touches too much code to stay in the',
  'CPU caches): e.g. the key hash 10.8 µs, the body\'s zod check 11.7 µs, the client-abort signal 8.2 µs per call.',
];

const PROFILE_NOTES = [
  'At the time of writing (2026-11-23) the largest single item is the kernel\'s `writev` (loopback TCP writes, which wake',
  'the peer\'s vCPU); after it undici and the openai SDK (request building, header objects, formatting its debug-log',
  'details even with logging off). The meter\'s database writes (mongodb + bson) are a few percent; Agent Host\'s own',
  'code (key lookup, prompt, router, meter) is each below the areas listed.',
];

const METER_NOTES = [
  'Usage query changes (2026-11-23, second session): the month context is computed once per request instead of per row;',
  'agents are read through the driver with a row projection (the built-in store now picks dotted inclusion projections',
  'directly); and a workspace\'s agent list is reused for 2 s on a single instance (every local agent change drops it).',
  'The usage query allocates ~10 MB per request (BSON decoding), so it is sensitive to the server\'s GC settings',
  '(`npm run serve`): with `--heap-growing-percent=25` its p95 after the gateway cases was 57–59 ms.',
  '',
  'The usage query\'s tail (p95/p99) moves from run to run with the built-in store\'s garbage collection: holding the',
  'event documents, its heap is several GB (store RSS above), and it shares the 2 cores with the server and the client.',
  'Its median is mostly the store (two indexed finds of 1,000 documents each) and BSON decoding in the server.',
  '',
  'Changes made with this benchmark (2026-11-23):',
  '',
  '- `server/auth/token.service.ts`, `authenticate.middleware.ts`: the JWT secret is a `KeyObject` made once. Given a',
  '  string, jsonwebtoken tried to parse it as a public key (and caught the error) on every verify: 332 → 7 µs per',
  '  verify, i.e. ~0.3–0.6 ms off every authenticated `/api` request and socket handshake.',
  '- `server/db/wire-store/commands/projection.ts`: plain inclusion projections (`{ a: 1, b: 1 }`, what the usage reads send) are',
  '  picked directly instead of through mingo\'s general `$project` (that was ~20 µs per document). Usage query before:',
  '  p50 64.1, p95 81.2, p99 96.0 ms.',
  '- `server/realtime/realtime.server.ts`: the coalescer\'s default interval 250 → 150 ms, below the live publisher\'s',
  '  200 ms per-workspace throttle, so the two throttles no longer add up (the publisher still pushes at most 5 times a',
  '  second per workspace; the coalescer caps emits at one per 150 ms). Call → `usage:update` before: p50 241, p95 394,',
  '  p99 426 ms (3.8 updates/s).',
];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function nodeChild(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  return startChild(name, process.execPath, args, { cwd: ROOT, env });
}

function parseJsonLine(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

interface Stack {
  store: Child;
  storeUri: string;
  fake: Child;
  fakeUrl: string;
  agentHostEnv: NodeJS.ProcessEnv;
  agentHost: Child;
  agentHostUrl: string;
}

async function startStack(): Promise<Stack> {
  // 1. The built-in store (own process; a large heap for the 10M-event month).
  const store = nodeChild('wire store', ['--max-old-space-size=16384', '--import', 'tsx', 'scripts/wire-store-server.ts', '--port', '0', '--exit-with-parent'], {
    ...process.env,
    LOG_LEVEL: 'warn',
  });
  const storeUri = String(parseJsonLine(await store.waitForLine((line) => line.startsWith('{"uri"'), 30_000)).uri);
  // 2. The fake provider.
  const fake = nodeChild('fake provider', ['--import', 'tsx', 'scripts/bench-fake-provider.ts']);
  const fakePort = Number(parseJsonLine(await fake.waitForLine((line) => line.startsWith('{"port"'), 30_000)).port);
  const fakeUrl = `http://127.0.0.1:${fakePort}`;
  log(`store ${storeUri}, fake provider ${fakeUrl}`);

  // 3. Agent Host from the build, production settings, its primary OpenAI backend and BYOK base URL on the fake.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-bench-'));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const agentHostEnv: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    MONGODB_URI: storeUri,
    JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
    VAULT_KEYS: `bench1:${crypto.randomBytes(32).toString('base64')}`,
    DATA_DIR: dataDir,
    OPENAI_BASE_URL: `${fakeUrl}/v1`,
    OPENAI_POOL_KEYS: 'sk-bench-pool',
    // Passed through for experiments (e.g. METER_FLUSH_INTERVAL_MS=50 npm run bench -- --concurrencies=1).
    ...(process.env.METER_FLUSH_INTERVAL_MS ? { METER_FLUSH_INTERVAL_MS: process.env.METER_FLUSH_INTERVAL_MS } : {}),
    ...(process.env.METER_BUSY_FLUSH_INTERVAL_MS ? { METER_BUSY_FLUSH_INTERVAL_MS: process.env.METER_BUSY_FLUSH_INTERVAL_MS } : {}),
    ...SERVE.env,
    ...(process.env.AGENT_HOST_NODE_OPTIONS ? { NODE_OPTIONS: process.env.AGENT_HOST_NODE_OPTIONS } : {}),
  };
  const migrate = nodeChild('migrations', ['dist/migrations/run-migrations.js'], agentHostEnv);
  const migrated = await migrate.exited;
  if (migrated !== 0) throw new Error(`migrations failed (exit ${migrated}):\n${migrate.tail.join('\n')}`);
  const agentHost = nodeChild('agent host', [EXIT_WITH_PARENT_IMPORT, ...SERVE.nodeFlags, SERVE.script], agentHostEnv);
  const agentHostUrl = `http://127.0.0.1:${port}`;
  await waitForHttp(`${agentHostUrl}/health`, 60_000, agentHost);
  log(`Agent Host ${agentHostUrl} (pid ${agentHost.pid}, NODE_ENV=production, LOG_LEVEL=warn)`);
  return { store, storeUri, fake, fakeUrl, agentHostEnv, agentHost, agentHostUrl };
}

/**
 * The floors: a bare node:http JSON forwarder to the fake (scripts/bench-floor-forwarder.ts), and the same with the
 * call made through the official openai SDK (scripts/bench-sdk-floor.ts), with the server's memory flags.
 */
async function startFloorForwarder(fakeUrl: string, script = 'scripts/bench-floor-forwarder.ts'): Promise<{ child: Child; url: string }> {
  const child = nodeChild(script, [...SERVE.nodeFlags, '--import', 'tsx', script], { PATH: process.env.PATH, UPSTREAM: fakeUrl });
  const port = Number(parseJsonLine(await child.waitForLine((line) => line.startsWith('{"port"'), 30_000)).port);
  return { child, url: `http://127.0.0.1:${port}` };
}

async function setFakeDelay(stack: Stack, ms: number): Promise<void> {
  const response = await fetch(`${stack.fakeUrl}/__bench/delay?ms=${ms}`, { method: 'POST' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`fake provider: could not set delay (${response.status})`);
}

async function startPortkey(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = nodeChild('portkey', [EXIT_WITH_PARENT_IMPORT, 'node_modules/@portkey-ai/gateway/build/start-server.js', '--headless', `--port=${port}`], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 60_000, child);
  log(`Portkey gateway ${url} (pid ${child.pid})`);
  return { child, url };
}

/** Waits until the platform's meter has written every event of the calls made so far (it runs off the response path). */
function meterWatcher(storeUri: string, databaseName = STORE_DB) {
  let expected = 0;
  let client: MongoClient | undefined;
  return {
    async caughtUp(okCalls: number): Promise<void> {
      expected += okCalls;
      client ??= await MongoClient.connect(storeUri, { maxPoolSize: 1 });
      const collection = client.db(databaseName).collection('token_meter');
      const started = Date.now();
      for (;;) {
        const count = await collection.estimatedDocumentCount();
        if (count >= expected) break;
        if (Date.now() - started > 120_000) throw new Error(`meter did not catch up: ${count} events written, ${expected} calls answered`);
        await sleep(100);
      }
      const waited = Date.now() - started;
      if (waited > 500) log(`(waited ${(waited / 1000).toFixed(1)} s for the meter to write ${fmt.int(expected)} events)`);
      await sleep(200);
    },
    /** After `caughtUp`: true when there is exactly one event per answered call so far (none lost, none twice). */
    async exactly(okCalls: number): Promise<boolean> {
      await this.caughtUp(okCalls);
      return (await client!.db(databaseName).collection('token_meter').countDocuments()) === expected;
    },
    async close() {
      await client?.close();
    },
  };
}

async function profileAgentHost(stack: Stack, agentKey: string): Promise<ProfileSummary> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-prof-'));
  const port = await freePort();
  const child = nodeChild('agent host (profiled)', [EXIT_WITH_PARENT_IMPORT, ...SERVE.nodeFlags, '--cpu-prof', `--cpu-prof-dir=${directory}`, '--cpu-prof-interval=250', SERVE.script], {
    ...stack.agentHostEnv,
    PORT: String(port),
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`, 60_000, child);
    await setFakeDelay(stack, 0);
    const common = { url: `${url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${agentKey}` }, body: CHAT_BODY, connections: PROFILE_CONCURRENCY };
    await runLoad({ ...common, durationSeconds: 2 });
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const load = await runLoad({ ...common, durationSeconds: PLAN.profileSeconds });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    await child.stop(30_000);
    const file = newestCpuProfile(directory);
    if (!file) throw new Error('no .cpuprofile written');
    const keep = argv.find((value) => value.startsWith('--keep-profile='))?.slice('--keep-profile='.length);
    if (keep) fs.copyFileSync(file, path.resolve(keep));
    return summarizeCpuProfile(file, { fromUs, toUs }, load.ok, ROOT);
  } finally {
    await child.stop();
    fs.rmSync(directory, { recursive: true, force: true });
  }
}

function write(name: string, body: string): void {
  process.stdout.write(`\n${body}\n\n`);
  if (NO_WRITE) return;
  writeBenchmarkSection(name, COMMAND, body);
  log(`wrote section "${name}" to docs/BENCHMARKS.md`);
}

async function main(): Promise<void> {
  installCleanup();
  log(`${COMMAND} on ${describeMachine()}`);
  if (!SKIP_BUILD) {
    log('npm run build:server');
    const build = spawnSync('npm', ['run', 'build:server'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) {
      if (!fs.existsSync(path.join(ROOT, 'dist', 'server', 'main.js'))) throw new Error('build failed and there is no dist/server/main.js');
      log('WARNING: the type check reported errors (tsc still emitted dist/); benchmarking the emitted build');
    }
  }
  const catalog = loadCatalog();
  const stack = await startStack();
  const meter = meterWatcher(stack.storeUri);

  // Accounts, agents and keys for the /v1 cases, over HTTP as a user would.
  const owner = await registerUser(stack.agentHostUrl, 'Bench owner');
  const byokAgent = await createAgent(stack.agentHostUrl, owner, 'BYOK agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-fake-bench-byok-0123456789abcdef' });
  const managedAgent = await createAgent(stack.agentHostUrl, owner, 'Managed agent', { mode: 'managed', plan: 'pro' });
  const byokKey = await createAgentKey(stack.agentHostUrl, owner, byokAgent);
  const managedKey = await createAgentKey(stack.agentHostUrl, owner, managedAgent);

  if (ONLY.has('gateway') || ONLY.has('profile')) {
    let gatewayBody = '';
    if (ONLY.has('gateway')) {
      const portkey = await startPortkey();
      const floor = await startFloorForwarder(stack.fakeUrl);
      const sdkFloor = await startFloorForwarder(stack.fakeUrl, 'scripts/bench-sdk-floor.ts');
      const targets: GatewayTarget[] = [
        { id: 'direct', label: '(a) direct to fake', url: `${stack.fakeUrl}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' }, metered: false },
        { id: 'floor', label: '(e) node:http floor', url: `${floor.url}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' }, serverPid: floor.child.pid, metered: false },
        { id: 'sdk-floor', label: '(f) SDK floor (node:http + openai SDK)', url: `${sdkFloor.url}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' }, serverPid: sdkFloor.child.pid, metered: false },
        { id: 'byok', label: '(b) Agent Host BYOK', url: `${stack.agentHostUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${byokKey}` }, serverPid: stack.agentHost.pid, metered: true },
        { id: 'managed', label: '(c) Agent Host Pro plan', url: `${stack.agentHostUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${managedKey}` }, serverPid: stack.agentHost.pid, metered: true },
        { id: 'tools', label: '(b′) Agent Host BYOK, 5 tools → tool call', url: `${stack.agentHostUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${byokKey}` }, serverPid: stack.agentHost.pid, metered: true, body: TOOLS_BODY },
        {
          id: 'portkey',
          label: '(d) Portkey gateway',
          url: `${portkey.url}/v1/chat/completions`,
          headers: { authorization: 'Bearer sk-bench-direct', 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${stack.fakeUrl}/v1` },
          serverPid: portkey.child.pid,
          metered: false,
        },
      ];
      const agentHostIdleRss = currentRssMiB(stack.agentHost.pid);
      const portkeyIdleRss = currentRssMiB(portkey.child.pid);
      const rows = await runGatewayCases({
        targets,
        delays: PLAN.delays,
        concurrencies: PLAN.concurrencies,
        warmupSeconds: PLAN.warmupSeconds,
        firstWarmupSeconds: QUICK ? PLAN.warmupSeconds : 5,
        durationSeconds: PLAN.durationSeconds,
        setFakeDelay: (ms) => setFakeDelay(stack, ms),
        afterMeteredCase: (okCalls) => meter.caughtUp(okCalls),
      });
      await portkey.child.stop();
      await floor.child.stop();
      await sdkFloor.child.stop();
      gatewayBody = [
        'Method. Four processes on this one machine: the fake provider (a minimal `node:http` OpenAI chat-completions server,',
        'fixed JSON body with `usage`, fixed delay), Agent Host from the build (`node dist/server/main.js`, `NODE_ENV=production`,',
        '`LOG_LEVEL=warn`, `OPENAI_BASE_URL` and `OPENAI_POOL_KEYS` pointing the BYOK agent and the Pro plan\'s primary backend at',
        'the fake), the built-in MongoDB-compatible store (in memory, own process), and the Portkey gateway',
        '(`@portkey-ai/gateway` `build/start-server.js --headless`, routed with `x-portkey-provider: openai` and',
        '`x-portkey-custom-host`). autocannon runs in the benchmark process. Body:',
        `\`${CHAT_BODY}\`. The floor (e) is a bare \`node:http\` forwarder (scripts/bench-floor-forwarder.ts: parse + re-serialize the`,
        'request and the answer, keep-alive upstream, nothing else): what any JSON gateway costs at least on this machine.',
        'The SDK floor (f) is the same with the call made through the official `openai` SDK on the platform\'s keep-alive fetch',
        '(scripts/bench-sdk-floor.ts): what a gateway that must call providers through their SDK costs at least. Both floors run',
        'with the server\'s node flags (`npm run serve`).',
        'For each fake delay and concurrency the cases run one after another',
        `(${PLAN.warmupSeconds} s warm-up; before a server's first case, ${QUICK ? PLAN.warmupSeconds : 5} s of each of its cases and a pause; then ${PLAN.durationSeconds} s measured). Latencies are every 2xx response's own time`,
        '(sub-millisecond; autocannon\'s histogram rounds to whole ms), percentiles nearest-rank. Overhead = the case\'s',
        'percentile − the direct case\'s percentile at the same delay and concurrency (at c10/c50 it includes queueing on 2 cores).',
        'Peak RSS = `VmHWM` of the server process, reset (`clear_refs`) before each case; for Agent Host only the Node server',
        'process (not the store). Server CPU = utime+stime of the server process over the measured window ÷ 2xx responses',
        '(10 ms tick resolution). Agent Host meters every call; between cases the benchmark waits until every event is',
        'written. Both gateways are preloaded with a tiny `--import` that makes them exit with the benchmark. Portkey\'s',
        'postinstall (`patch-package`) did not run in this install; its built `start-server.js` runs without it.',
        `Idle RSS before the cases: Agent Host ${fmt.mib(agentHostIdleRss)} MiB, Portkey ${fmt.mib(portkeyIdleRss)} MiB.`,
        'Caveat: load generator, fake, gateway and store share 2 cores, so req/s at c10/c50 are CPU-bound for everyone',
        'and absolute numbers are this box\'s; at delay 50 ms and c1 req/s is bounded by the delay for every case.',
        '',
        gatewayTables(rows),
        'Against the targets (measured, not asserted):',
        '',
        ...gatewayTargetsSummary(rows),
        '',
        ...GATEWAY_NOTES,
      ].join('\n');
    }
    if (ONLY.has('profile')) {
      log(`profiling Agent Host /v1 ${PROFILE_CASE} at c${PROFILE_CONCURRENCY}, delay 0`);
      const summary = await profileAgentHost(stack, PROFILE_CASE === 'managed' ? managedKey : byokKey);
      await meter.caughtUp(0).catch(() => undefined);
      gatewayBody += [
        '',
        '',
        `### CPU profile of the /v1 ${PROFILE_CASE === 'managed' ? 'managed (Pro plan)' : 'BYOK'} path`,
        '',
        `A second Agent Host process with \`node --cpu-prof --cpu-prof-interval=250\`, c${PROFILE_CONCURRENCY}, fake delay 0, 2 s warm-up then ${PLAN.profileSeconds} s`,
        'measured; only samples inside the measured window count (start-up and shut-down excluded).',
        '',
        profileMarkdown(summary),
        '',
        ...PROFILE_NOTES,
      ].join('\n');
    }
    if (ONLY.has('gateway')) write('gateway overhead', gatewayBody);
    else process.stdout.write(`${gatewayBody}\n`);
  }

  if (ONLY.has('streams')) {
    await setFakeDelay(stack, 0);
    await expectStatus(204, 'fake stream shape', jsonRequest('POST', `${stack.fakeUrl}/__bench/stream?deltas=${PLAN.streamDeltas}&intervalMs=50`));
    log(`bursts of streams: ${PLAN.streamSizes.join(', ')} streams of ${PLAN.streamDeltas} deltas`);
    const body = await streamBurstSection({
      sizes: PLAN.streamSizes,
      deltas: PLAN.streamDeltas,
      intervalMs: 50,
      direct: { url: `${stack.fakeUrl}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' } },
      agentHost: { url: `${stack.agentHostUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${byokKey}` } },
      meteredExactly: (completed) => meter.exactly(completed),
    }, log);
    write('bursts of streams', body.join('\n'));
  }

  if (ONLY.has('features')) {
    await setFakeDelay(stack, 0);
    log('feature costs: tools, routing, cache off and on');
    const cases = await createFeatureCases(stack.agentHostUrl, owner, byokKey);
    const body = await featureCostSection({
      url: stack.agentHostUrl,
      serverPid: stack.agentHost.pid,
      cases,
      concurrencies: QUICK ? [1] : [1, 10],
      rounds: PLAN.featureRounds,
      secondsPerRound: PLAN.featureSeconds,
      afterCalls: (okCalls) => meter.caughtUp(okCalls),
      log,
    });
    write('feature costs', body.join('\n'));
  }

  if (ONLY.has('workers')) {
    await setFakeDelay(stack, 0);
    const redisPort = await findFreePort();
    const redis = await startRedis(redisPort);
    try {
      const port = await freePort();
      const cluster = nodeChild('agent host, 2 workers', [EXIT_WITH_PARENT_IMPORT, ...SERVE.nodeFlags, SERVE.script], {
        ...stack.agentHostEnv,
        PORT: String(port),
        WEB_CONCURRENCY: '2',
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-bench-workers-')),
      });
      const clusterUrl = `http://127.0.0.1:${port}`;
      await waitForHttp(`${clusterUrl}/health`, 60_000, cluster);
      log(`Agent Host with 2 workers ${clusterUrl} (primary pid ${cluster.pid})`);
      const afterCalls = (okCalls: number) => meter.caughtUp(okCalls);
      const body = await workersSection({
        targets: [
          { workers: 1, url: stack.agentHostUrl, key: byokKey, rootPid: stack.agentHost.pid, afterCalls },
          { workers: 2, url: clusterUrl, key: byokKey, rootPid: cluster.pid, afterCalls },
        ],
        concurrencies: QUICK ? [10] : [10, 50],
        rounds: PLAN.featureRounds,
        secondsPerRound: PLAN.featureSeconds,
        log,
      });
      await cluster.stop();
      write('workers', body.join('\n'));
    } finally {
      redis.kill('SIGKILL');
    }
  }

  // Live updates and the meter pipeline first, the bulk month of events last: the in-memory store's heap grows to
  // several GB with it, and its garbage collection would then be measured in the other cases too.
  const meterParts: { usage?: string[]; meter?: string[]; live?: string[] } = {};
  if (ONLY.has('live')) {
    await setFakeDelay(stack, 0);
    log(`live updates: ${PLAN.liveCalls} calls, 150 ms apart`);
    const result = await benchLiveUpdates({ baseUrl: stack.agentHostUrl, calls: PLAN.liveCalls, spacingMs: 150 });
    log(`live updates: p50 ${fmt.ms(result.p50)} p95 ${fmt.ms(result.p95)} p99 ${fmt.ms(result.p99)} ms, ${result.updates} updates`);
    meterParts.live = [
      '### Metered call → `usage:update`',
      '',
      'A socket.io-client (websocket, JWT in `auth.token`) joined to a fresh workspace\'s room; one BYOK agent; `/v1` calls',
      `(fake delay 0) started ${result.spacingMs} ms apart. Latency of call k = arrival of the first \`usage:update\` whose`,
      '`totals.requests` ≥ k − the moment call k\'s HTTP response was complete (the meter writes off the response path, then the',
      'live publisher and the per-workspace coalescer throttle the pushes).',
      '',
      markdownTable(
        ['calls', 'updates received', 'updates/s', 'missed', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'target p99'],
        ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l'],
        [[String(result.calls), String(result.updates), fmt.ms(result.updatesPerSecond, 1), String(result.missed), fmt.ms(result.p50, 1), fmt.ms(result.p95, 1), fmt.ms(result.p99, 1), fmt.ms(result.max, 1), `≤ 250 ms: **${result.p99 <= 250 ? 'met' : 'missed'}**`]],
      ),
      '',
    ];
  }
  if (ONLY.has('meter')) {
    log(`meter pipeline: ${fmt.int(PLAN.meterEvents)} events over 100 agents`);
    const result = await benchMeterPipeline({ storeUri: stack.storeUri, databaseName: 'bench_meter', events: PLAN.meterEvents, agents: 100, catalog });
    log(`meter pipeline: ${fmt.int(result.eventsPerSecond)} events/s, zero loss ${result.zeroLoss}`);
    meterParts.meter = [
      '### Sustained meter pipeline',
      '',
      `\`MeterService.record\` (in the benchmark process, as in the server: queue → batched \`insertMany\` of events → one guarded`,
      `\`$inc\` per agent-month rollup) for ${fmt.int(result.events)} events over ${result.agents} agents (¾ managed, ¼ BYOK), produced as fast`,
      `as the queue accepts (yielding every 500 events), then \`drain()\`; the built-in store runs in its own process. Rate = events ÷`,
      'time from the first `record` to the end of `drain()`. Zero loss = events in the DB == N, Σ event tokens == Σ rollup tokens ==',
      'Σ produced tokens, Σ rollup requests == N.',
      '',
      markdownTable(
        ['events', 'enqueue s', 'total s', 'events/s', 'max queued', 'events in DB', 'Σ event tokens', 'Σ rollup tokens', 'Σ rollup requests', 'zero loss', 'target ≥ 5,000/s'],
        ['r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'l'],
        [[
          fmt.int(result.events), fmt.ms(result.enqueueSeconds), fmt.ms(result.totalSeconds), fmt.int(result.eventsPerSecond), fmt.int(result.maxPending), fmt.int(result.eventsInDb),
          fmt.int(result.eventTokens), fmt.int(result.rollupTokens), fmt.int(result.rollupRequests), result.zeroLoss ? 'yes' : '**NO**', result.eventsPerSecond >= 5000 ? '**met**' : '**missed**',
        ]],
      ),
      '',
    ];
  }
  if (ONLY.has('usage')) {
    log(`usage query: ${fmt.int(PLAN.usageAgents)} agents, ${fmt.int(PLAN.syntheticEvents)} events in the month`);
    const result = await benchUsageQuery({
      baseUrl: stack.agentHostUrl,
      storeUri: stack.storeUri,
      databaseName: STORE_DB,
      agents: PLAN.usageAgents,
      syntheticEvents: PLAN.syntheticEvents,
      materializeEvery: PLAN.materializeEvery,
      requests: PLAN.usageRequests,
      catalog,
      storeRss: () => currentRssMiB(stack.store.pid),
    });
    meterParts.usage = [
      '### Workspace usage query (`GET /api/workspaces/:id/usage`)',
      '',
      `One workspace with ${fmt.int(result.agents)} agents created over the API (¾ on Starter/Pro/Ultra, ¼ BYOK) and a month of`,
      `${fmt.int(result.syntheticEvents)} synthetic meter events (skewed over agents, days 1..today), generated one by one and`,
      'aggregated in memory into each agent\'s `usage_monthly` rollup exactly as the meter would have (tokens, requests, costs,',
      `daily, byModel, overage). Of those events, every ${PLAN.materializeEvery}th — **${fmt.int(result.eventDocuments)} real \`token_meter\` documents** — was`,
      `inserted with \`insertMany\` (5,000 per batch) straight through the driver (${fmt.int(result.insertRate)} documents/s; all 10M would need`,
      `well over 10 GB in the in-memory store: store RSS with ${fmt.int(result.eventDocuments)} is ${fmt.mib(result.storeRssMiB)} MiB). The usage API reads only`,
      'the rollups and the agents, never the events. Measured over HTTP with the owner\'s JWT, sequentially, after a 3 s pause and 50',
      'warm-up requests;',
      `each response lists ${fmt.int(result.agents)} agents (${fmt.int(result.responseBytes / 1024)} KiB) with totals.requests = ${fmt.int(result.totalsRequests)}.`,
      '',
      markdownTable(['requests', 'p50 ms', 'p95 ms', 'p99 ms', 'target p95'], ['r', 'r', 'r', 'r', 'l'], [
        [String(result.requests), fmt.ms(result.p50), fmt.ms(result.p95), fmt.ms(result.p99), `≤ 50 ms: **${result.p95 <= 50 ? 'met' : 'missed'}**`],
      ]),
      '',
    ];
  }
  const orderedParts = [meterParts.usage, meterParts.meter, meterParts.live].filter((part): part is string[] => part !== undefined);
  if (orderedParts.length > 0) {
    const body = [...orderedParts.flat(), ...(orderedParts.length === 3 ? METER_NOTES : [])].join('\n');
    if (ONLY.has('usage') && ONLY.has('meter') && ONLY.has('live')) write('meter and usage', body);
    else process.stdout.write(`${body}\n`);
  }
  log(`peak RSS over the run: Agent Host ${fmt.mib(peakRssMiB(stack.agentHost.pid))} MiB (since last reset), store ${fmt.mib(peakRssMiB(stack.store.pid))} MiB`);
  await meter.close();
  await stopAllChildren();
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
