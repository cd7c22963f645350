// `npm run soak [-- --minutes 3] [-- --rate 20] [-- --write]`: a bounded, loopback-only soak of the platform as a child
// process. Mixed JSON / streamed /v1 traffic at a steady rate, provider faults from the simulator (5xx, 429 with
// retry-after, timeouts, cut streams), one database pause (TCP fault proxy) and one SIGKILL + restart in the middle.
// Then: requests sent / answered / failed by kind, meter events vs answered calls (by request id: must be equal),
// rollup drift (usage-reconcile: must be 0), RSS of the platform at start / peak / end. --write puts the report into
// docs/BENCHMARKS.md (section `soak`).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { Agent, request } from 'undici';
import { POOLED_PROVIDER_IDS, providerEnvName } from '../server/config/provider-ids';
import { startWireStore } from '../server/db/wire-store';
import { startProviderSimulator } from '../server/llm/simulator';
import { createMeteringModels } from '../server/metering/metering.models';
import { monthOf } from '../server/metering/pricing';
import { reconcileUsage } from '../server/metering/usage-reconcile.service';
import { startFaultProxy } from '../test/support/tcp-fault-proxy';
import { findFreePort } from '../test/support/redis-server';
import { currentRssMiB, installCleanup, log, markdownTable, startChild, type Child } from './bench-support';
import { createAgent, createAgentKey, registerUser } from './bench-usage';
import { describeMachine, writeBenchmarkSection } from './benchmark-report';

function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

const minutes = numberArgument('minutes', 3);
const ratePerSecond = numberArgument('rate', 20);
const durationMs = minutes * 60_000;
const STREAM_SHARE = 0.3;
const ATTEMPT_TIMEOUT_MS = 2_000;
const DATABASE_PAUSE_MS = 5_000; // 3 s before the kill, 2 s after

type Outcome = 'answered' | 'answered (stream cut after output)' | 'refused' | 'connection failed (platform down)' | 'cut by the SIGKILL';

interface CallRecord {
  requestId: string | undefined;
  outcome: Outcome;
  status: number;
  /** Whether the platform counts it as a request: an answer, or a stream that had sent output before it was cut. */
  counted: boolean;
}

async function main(): Promise<void> {
  installCleanup();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-soak-'));
  const store = await startWireStore({ port: 0 });
  const proxy = await startFaultProxy(store.uri);
  const simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0 });
  const port = await findFreePort();
  const databaseName = `soak_${crypto.randomBytes(4).toString('hex')}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    MONGODB_URI: proxy.uri,
    PLATFORM_DATABASE_NAME: databaseName,
    DATA_DIR: path.join(work, 'data'),
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    VAULT_KEYS: `soak1:${crypto.randomBytes(32).toString('base64')}`,
    LOG_LEVEL: 'warn',
    // Managed plans run on pooled keys against this process's simulator, so the soak can script its faults.
    LLM_SANDBOX: 'off',
    PLATFORM_FAST_RETRIES: 'true',
    PLATFORM_ATTEMPT_TIMEOUT_MS: String(ATTEMPT_TIMEOUT_MS),
    ...Object.fromEntries(POOLED_PROVIDER_IDS.flatMap((id) => [[`${providerEnvName(id)}_BASE_URL`, simulator.baseUrls[id]], [`${providerEnvName(id)}_POOL_KEYS`, `sk-soak-${id}-1,sk-soak-${id}-2`]])),
  };
  const startPlatformChild = async (): Promise<Child> => {
    // The V8 and malloc settings of `npm run serve`, so the RSS is the production one.
    const child = startChild('platform', process.execPath, ['--max-semi-space-size=6', '--heap-growing-percent=40', '--import', 'tsx', path.join(__dirname, '..', 'test', 'support', 'platform-child.ts')], {
      env: { ...env, MALLOC_ARENA_MAX: '2' },
    });
    await child.waitForLine((line) => line.startsWith('{"url"'), 120_000);
    return child;
  };

  log(`soak: ${minutes} min at ${ratePerSecond} calls/s (${Math.round(STREAM_SHARE * 100)} % streamed); work dir ${work}`);
  let platform = await startPlatformChild();
  const url = `http://127.0.0.1:${port}`;
  const owner = await registerUser(url, 'Soak Owner');
  const agents = [
    await createAgent(url, owner, 'pro one', { mode: 'managed', plan: 'pro' }),
    await createAgent(url, owner, 'pro two', { mode: 'managed', plan: 'pro' }),
    await createAgent(url, owner, 'starter', { mode: 'managed', plan: 'starter' }),
    await createAgent(url, owner, 'own key', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-soak-byok-key' }),
  ];
  const keys = await Promise.all(agents.map((agentId) => createAgentKey(url, owner, agentId)));

  // Provider faults throughout: 5 % 5xx on OpenAI, 5 % 429 (retry-after 1 s) on Anthropic, 3 % 503 on Mistral, and
  // every few seconds a cut stream / a timeout scripted for the next request.
  simulator.faults.setRate('openai', { status: 500, probability: 0.05 });
  simulator.faults.setRate('anthropic', { status: 429, probability: 0.05, retryAfterSeconds: 1 });
  simulator.faults.setRate('mistral', { status: 503, probability: 0.03 });
  simulator.faults.setRate('minimax', { status: 502, probability: 0.03 });
  let faultTick = 0;
  const faultTimer = setInterval(() => {
    faultTick += 1;
    simulator.faults.script('openai', [{ kind: 'cut', afterChunks: 3 }]);
    if (faultTick % 3 === 0) simulator.faults.script('minimax', [{ kind: 'timeout', delayMs: ATTEMPT_TIMEOUT_MS + 1_000 }]);
    if (faultTick % 4 === 0) simulator.faults.script('anthropic', [{ kind: 'cut', afterChunks: 1 }]);
  }, 2_000);

  const dispatcher = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  const records: CallRecord[] = [];
  let killedAt = 0;
  let restartedAt = 0;
  let inFlight = 0;

  const call = async (index: number): Promise<void> => {
    const stream = Math.random() < STREAM_SHARE;
    const key = keys[index % keys.length]!;
    const startedAt = Date.now();
    inFlight += 1;
    try {
      const response = await request(`${url}/v1/chat/completions`, {
        method: 'POST',
        dispatcher,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'agent', stream, messages: [{ role: 'user', content: `soak question ${index}: what are your opening hours?` }], max_tokens: 60 }),
        headersTimeout: 60_000,
        bodyTimeout: 60_000,
      });
      const requestId = response.headers['x-request-id'] as string | undefined;
      let text = '';
      try {
        text = await response.body.text();
      } catch {
        // The connection went while the body was arriving.
        const cutByKill = killedAt > 0 && startedAt <= killedAt;
        records.push({ requestId, outcome: cutByKill ? 'cut by the SIGKILL' : 'connection failed (platform down)', status: response.statusCode, counted: false });
        return;
      }
      if (response.statusCode !== 200) records.push({ requestId, outcome: 'refused', status: response.statusCode, counted: false });
      else if (!stream || text.includes('data: [DONE]')) records.push({ requestId, outcome: 'answered', status: 200, counted: true });
      else records.push({ requestId, outcome: 'answered (stream cut after output)', status: 200, counted: true });
    } catch {
      // Sent before the kill: in flight when the process died. Sent after: the platform was not listening yet.
      const cutByKill = killedAt > 0 && startedAt <= killedAt;
      records.push({ requestId: undefined, outcome: cutByKill ? 'cut by the SIGKILL' : 'connection failed (platform down)', status: 0, counted: false });
    } finally {
      inFlight -= 1;
    }
  };

  const rss = { start: currentRssMiB(platform.pid), peak: 0, end: 0, secondStart: 0, secondPeak: 0 };
  let first = true;
  const rssTimer = setInterval(() => {
    try {
      const value = currentRssMiB(platform.pid);
      if (!Number.isFinite(value)) return;
      if (first) rss.peak = Math.max(rss.peak, value);
      else rss.secondPeak = Math.max(rss.secondPeak, value);
    } catch {
      // between the kill and the restart
    }
  }, 500);

  // The events of the run: at 1/2 the database becomes unreachable, and 3 s into that pause (meter events waiting in
  // the queue and the spool) the platform is killed with SIGKILL and restarted; the database comes back 2 s later.
  const started = Date.now();
  const timeline: string[] = [];
  const killAt = started + durationMs / 2;
  const pauseAt = killAt - 3_000;
  let paused = false;
  let killed = false;
  const pending = new Set<Promise<void>>();
  let sent = 0;
  const interval = 1000 / ratePerSecond;
  while (Date.now() - started < durationMs) {
    const due = started + sent * interval;
    if (Date.now() < due) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
    if (!paused && Date.now() >= pauseAt) {
      paused = true;
      await proxy.cut();
      timeline.push(`${((Date.now() - started) / 1000).toFixed(0)} s: database unreachable for ${DATABASE_PAUSE_MS / 1000} s`);
      setTimeout(() => void proxy.restore(), DATABASE_PAUSE_MS);
    }
    if (!killed && Date.now() >= killAt) {
      killed = true;
      rss.end = currentRssMiB(platform.pid);
      killedAt = Date.now();
      const inFlightAtKill = inFlight;
      platform.process.kill('SIGKILL');
      await platform.exited;
      timeline.push(`${((killedAt - started) / 1000).toFixed(0)} s: platform killed (SIGKILL) with ${inFlightAtKill} calls in flight; restarted`);
      first = false;
      // Calls keep being sent while it restarts (they fail to connect): the start is not waited for.
      void startPlatformChild().then((child) => {
        platform = child;
        restartedAt = Date.now();
        rss.secondStart = currentRssMiB(child.pid);
        const recovered = child.tail.find((line) => line.includes('meter spool recovered'));
        if (recovered) timeline.push(`the new process replayed ${(JSON.parse(recovered) as { items: number }).items} meter events from the killed one's spool`);
        timeline.push(`${((restartedAt - started) / 1000).toFixed(0)} s: platform listening again (${((restartedAt - killedAt) / 1000).toFixed(1)} s after the kill)`);
      });
    }
    const index = sent++;
    const promise = call(index).finally(() => pending.delete(promise));
    pending.add(promise);
  }
  await Promise.all(pending);
  clearInterval(faultTimer);
  simulator.faults.clear();
  while (!restartedAt) await new Promise((resolve) => setTimeout(resolve, 100));
  const secondEnd = currentRssMiB(platform.pid);
  clearInterval(rssTimer);
  await platform.stop(30_000); // graceful: flushes the meter
  await dispatcher.close();

  // Meter events vs answered calls, by request id (a retried call's later attempts are `<id>:<attempt>`).
  const connection = await mongoose.createConnection(store.uri, { dbName: databaseName }).asPromise();
  const models = createMeteringModels(connection);
  const events = await models.MeterEvent.find({}, { requestId: 1, countedAsRequest: 1, status: 1 }).lean();
  const countedIds = new Map<string, number>();
  for (const event of events) if (event.countedAsRequest) countedIds.set(event.requestId.split(':')[0]!, (countedIds.get(event.requestId.split(':')[0]!) ?? 0) + 1);
  const answered = records.filter((record) => record.counted);
  const answeredIds = new Set(answered.map((record) => record.requestId!));
  const answeredUnmetered = answered.filter((record) => !countedIds.has(record.requestId!)).length;
  const meteredTwice = [...countedIds.values()].filter((count) => count > 1).length;
  const meteredUnanswered = [...countedIds.keys()].filter((id) => !answeredIds.has(id)).length;
  const drift = await reconcileUsage(models, { month: monthOf(new Date()), fix: false });
  await connection.close();

  const byOutcome = new Map<string, number>();
  for (const record of records) {
    const kind = record.outcome.startsWith('refused') ? `refused with ${record.status}` : record.outcome;
    byOutcome.set(kind, (byOutcome.get(kind) ?? 0) + 1);
  }
  const answeredCount = answered.length;
  const meteredCount = [...countedIds.keys()].length;
  const body = [
    `${minutes} min of \`/v1/chat/completions\` at ${ratePerSecond} calls/s over 4 agents (2 Pro, 1 Starter, 1 BYOK OpenAI),`,
    `${Math.round(STREAM_SHARE * 100)} % streamed, against the platform as a child process (\`test/support/platform-child.ts\`, the built-in store`,
    'behind the TCP fault proxy, managed plans on pooled keys pointed at the provider simulator). Faults all along: 5 % 500 on',
    'OpenAI, 5 % 429 + `retry-after: 1` on Anthropic, 3 % 503 on Mistral, 3 % 502 on MiniMax, a cut stream scripted every 2 s,',
    `a MiniMax timeout every 6 s (attempt timeout ${ATTEMPT_TIMEOUT_MS / 1000} s). The platform runs its TypeScript through tsx with the`,
    '`npm run serve` V8/malloc settings (tsx keeps the compiled sources in memory, so RSS is above that of the built `dist/`). Timeline:',
    '',
    ...timeline.map((line) => `- ${line}`),
    '',
    markdownTable(
      ['requests', 'count'],
      ['l', 'r'],
      [['sent', String(sent)], ...[...byOutcome.entries()].sort().map(([outcome, count]) => [outcome, String(count)]), ['provider requests the simulator answered (retries and failover included)', String(simulator.requestCount())]],
    ),
    '',
    markdownTable(
      ['meter check', 'value'],
      ['l', 'r'],
      [
        ['answered calls (counted as requests)', String(answeredCount)],
        ['meter events counted as requests (distinct request ids)', String(meteredCount)],
        ['answered calls without their meter event (must be 0)', String(answeredUnmetered)],
        ['request ids metered as a request twice (must be 0)', String(meteredTwice)],
        ['metered calls the client never saw answered (in flight at the SIGKILL)', String(meteredUnanswered)],
        ['meter events in all (incl. attempts that failed after output)', String(events.length)],
        ['rollup drift, usage:reconcile (must be 0)', String(drift.drifts.length)],
      ],
    ),
    '',
    markdownTable(
      ['platform RSS (MiB)', 'start', 'peak', 'end'],
      ['l', 'r', 'r', 'r'],
      [
        ['first process (until the SIGKILL)', rss.start.toFixed(0), rss.peak.toFixed(0), rss.end.toFixed(0)],
        ['second process (after the restart)', rss.secondStart.toFixed(0), rss.secondPeak.toFixed(0), secondEnd.toFixed(0)],
      ],
    ),
  ].join('\n');
  process.stdout.write(`\n${body}\n\n${describeMachine()}\n`);
  if (process.argv.includes('--write')) writeBenchmarkSection('soak', `npm run soak -- --minutes ${minutes} --rate ${ratePerSecond} --write`, body);

  await simulator.close();
  await proxy.close();
  await store.close();
  fs.rmSync(work, { recursive: true, force: true });
  const ok = answeredUnmetered === 0 && meteredTwice === 0 && drift.drifts.length === 0;
  if (!ok) process.stderr.write('SOAK FAILED: an answered call without its meter event, a double count, or rollup drift\n');
  process.exit(ok ? 0 : 1);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exit(1);
});
