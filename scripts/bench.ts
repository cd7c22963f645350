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
//   --stream-sizes=100,500,1000  the burst sizes of the streams part (printed only unless --write)
//   --stream-deltas=100  content deltas per stream (1: what starting a stream costs; printed only unless --write)
//   --stream-profile=<n>  after the bursts, one burst of n streams against a second, profiled Agent Host (printed;
//                  --keep-profile=<file> keeps its .cpuprofile)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
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
  stopAllChildren,
  waitForHttp,
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
import { runStreamBurst, streamBurstSection } from './bench-stream-burst';
import { createFeatureCases, featureCostSection, floorFeatureCases, workersSection } from './bench-feature-costs';
import { findFreePort, startRedis } from '../test/support/redis-server';
import { benchLiveUpdates, benchMeterPipeline, benchUsageQuery, createAgent, createAgentKey, registerUser } from './bench-usage';
import { freePort, meterWatcher, nodeChild, ROOT, SERVE, setFakeDelay, startFloorForwarder, startPortkey, startStack, STORE_DB, type Stack } from './bench-stack';
import { FEATURE_NOTES, GATEWAY_NOTES, METER_NOTES, PROFILE_NOTES, STREAM_NOTES } from './bench-notes';

const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const SKIP_BUILD = argv.includes('--skip-build');
// A smoke run does not replace the measured sections unless asked to (--write).
const listFlag = (name: string): number[] | undefined => argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3).split(',').map(Number);
const NARROWED = ['delays', 'concurrencies', 'duration', 'stream-sizes', 'stream-deltas'].some((name) => argv.some((value) => value.startsWith(`--${name}=`)));
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
    streamSizes: listFlag('stream-sizes') ?? PLAN.streamSizes,
    streamDeltas: listFlag('stream-deltas')?.[0] ?? PLAN.streamDeltas,
  });
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

/** One burst of `streams` streams against a second Agent Host process under `--cpu-prof` (the stream path's profile). */
async function profileStreamBurst(stack: Stack, agentKey: string, streams: number): Promise<{ summary: ProfileSummary; completed: number }> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-stream-prof-'));
  const port = await freePort();
  const child = nodeChild('agent host (profiled, streams)', [EXIT_WITH_PARENT_IMPORT, ...SERVE.nodeFlags, '--cpu-prof', `--cpu-prof-dir=${directory}`, '--cpu-prof-interval=500', SERVE.script], {
    ...stack.agentHostEnv,
    PORT: String(port),
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/health`, 60_000, child);
    const target = { url: `${url}/v1/chat/completions`, headers: { authorization: `Bearer ${agentKey}` }, deltas: PLAN.streamDeltas, timeoutMs: 120_000 };
    const warm = await runStreamBurst({ ...target, streams: 20 });
    await sleep(1000);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    const result = await runStreamBurst({ ...target, streams });
    const toUs = Number(process.hrtime.bigint() / 1000n);
    log(`profiled burst ${streams}: first delta p50 ${result.firstDeltaP50Ms.toFixed(0)} p99 ${result.firstDeltaP99Ms.toFixed(0)} ms, largest gap ${result.largestGapMs.toFixed(0)} ms, stalled ${result.stalledStreams}, completed ${result.completed}/${streams}`);
    await child.stop(30_000);
    const file = newestCpuProfile(directory);
    if (!file) throw new Error('no .cpuprofile written');
    const keep = argv.find((value) => value.startsWith('--keep-profile='))?.slice('--keep-profile='.length);
    if (keep) fs.copyFileSync(file, path.resolve(keep));
    return { summary: summarizeCpuProfile(file, { fromUs, toUs }, result.completed, ROOT, 30), completed: warm.completed + result.completed };
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
      // The profiled process meters into the same database: its calls become the new base.
      await meter.settle();
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
    const streamFloor = await startFloorForwarder(stack.fakeUrl);
    const body = await streamBurstSection({
      sizes: PLAN.streamSizes,
      deltas: PLAN.streamDeltas,
      intervalMs: 50,
      direct: { url: `${stack.fakeUrl}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' }, serverPid: stack.fake.pid },
      floor: { url: `${streamFloor.url}/v1/chat/completions`, headers: { authorization: 'Bearer sk-bench-direct' }, serverPid: streamFloor.child.pid },
      agentHost: { url: `${stack.agentHostUrl}/v1/chat/completions`, headers: { authorization: `Bearer ${byokKey}` }, serverPid: stack.agentHost.pid },
      meteredExactly: (completed) => meter.exactly(completed),
    }, log);
    await streamFloor.child.stop();
    write('bursts of streams', [...body, ...STREAM_NOTES].join('\n'));
    const profiled = Number(argv.find((value) => value.startsWith('--stream-profile='))?.slice('--stream-profile='.length) ?? 0);
    if (profiled > 0) {
      const { summary, completed } = await profileStreamBurst(stack, byokKey, profiled);
      await meter.settle();
      process.stdout.write(`\n### CPU profile of a burst of ${profiled} streams (per stream)\n\n${profileMarkdown(summary)}\n\n`);
    }
  }

  if (ONLY.has('features')) {
    await setFakeDelay(stack, 0);
    log('feature costs: tools, routing, cache off and on');
    // The tools case's two bodies through the floors too (#20): what the bigger request and answer cost any gateway.
    const floor = await startFloorForwarder(stack.fakeUrl);
    const sdkFloor = await startFloorForwarder(stack.fakeUrl, 'scripts/bench-sdk-floor.ts');
    const floors = floorFeatureCases({ url: floor.url, serverPid: floor.child.pid }, { url: sdkFloor.url, serverPid: sdkFloor.child.pid });
    const cases = [...(await createFeatureCases(stack.agentHostUrl, owner, byokKey)), ...floors];
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
    await floor.child.stop();
    await sdkFloor.child.stop();
    write('feature costs', [...body, ...FEATURE_NOTES].join('\n'));
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
