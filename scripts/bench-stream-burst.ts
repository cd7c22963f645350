// Bursts of streams, for `npm run bench`: N streamed chat completions started at the same moment, each on its own
// connection, against one target (direct to the fake provider, or Agent Host /v1). Per stream: time from the burst's
// start to its first content delta, the largest gap between two deltas, and whether it completed ([DONE]).
import http from 'node:http';
import os from 'node:os';
import { cpuTimeMs, markdownTable, percentile, sortedCopy } from './bench-support';

export interface BurstOptions {
  url: string;
  headers: Record<string, string>;
  streams: number;
  /** Deltas each stream is expected to carry (the fake's setting), to check none was lost. */
  deltas: number;
  timeoutMs: number;
  /** The server process whose CPU time over the burst is reported (utime + stime). */
  serverPid?: number;
}

export interface BurstResult {
  streams: number;
  completed: number;
  failed: number;
  /** Streams that carried fewer content deltas than expected. */
  short: number;
  firstDeltaP50Ms: number;
  firstDeltaP99Ms: number;
  firstDeltaMaxMs: number;
  /** The largest gap between two consecutive deltas of any stream. */
  largestGapMs: number;
  /** Streams with at least one gap over 250 ms. */
  stalledStreams: number;
  wallSeconds: number;
  /** CPU time of `serverPid` over the burst ÷ streams (NaN without a pid): stable where the shared machine's latencies are not. */
  serverCpuMsPerStream: number;
  /** The machine's 1-minute load average as the burst started (other engineers' work shares it). */
  loadAverage: number;
}

const STALL_MS = 250;
const WARMUP_STREAMS = 50;
const CONTENT_MARKER = '"content":"word';

interface StreamOutcome {
  ok: boolean;
  firstDeltaAt: number;
  largestGap: number;
  deltas: number;
}

function oneStream(options: BurstOptions, startedAt: number, body: string, agent: http.Agent): Promise<StreamOutcome> {
  return new Promise((resolve) => {
    const outcome: StreamOutcome = { ok: false, firstDeltaAt: Number.NaN, largestGap: 0, deltas: 0 };
    let lastDeltaAt = 0;
    let pending = '';
    const timer = setTimeout(() => request.destroy(new Error('timeout')), options.timeoutMs);
    const request = http.request(options.url, { method: 'POST', agent, headers: { ...options.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (response) => {
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        const now = performance.now();
        pending += chunk;
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          if (line.includes(CONTENT_MARKER)) {
            if (outcome.deltas === 0) outcome.firstDeltaAt = now - startedAt;
            else outcome.largestGap = Math.max(outcome.largestGap, now - lastDeltaAt);
            lastDeltaAt = now;
            outcome.deltas += 1;
          } else if (line.startsWith('data: [DONE]')) outcome.ok = response.statusCode === 200;
        }
      });
      response.on('end', () => {
        clearTimeout(timer);
        resolve(outcome);
      });
      response.on('error', () => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
    request.on('error', () => {
      clearTimeout(timer);
      resolve(outcome);
    });
    request.end(body);
  });
}

export async function runStreamBurst(options: BurstOptions): Promise<BurstResult> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Tell me a long story' }], stream: true, stream_options: { include_usage: true } });
  const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
  const cpuBefore = options.serverPid ? cpuTimeMs(options.serverPid) : Number.NaN;
  const loadAverage = os.loadavg()[0]!;
  const startedAt = performance.now();
  const outcomes = await Promise.all(Array.from({ length: options.streams }, () => oneStream(options, startedAt, body, agent)));
  const wallSeconds = (performance.now() - startedAt) / 1000;
  agent.destroy();
  const serverCpuMsPerStream = options.serverPid ? (cpuTimeMs(options.serverPid) - cpuBefore) / options.streams : Number.NaN;
  const firstDeltas = sortedCopy(outcomes.filter((outcome) => outcome.deltas > 0).map((outcome) => outcome.firstDeltaAt));
  return {
    streams: options.streams,
    completed: outcomes.filter((outcome) => outcome.ok).length,
    failed: outcomes.filter((outcome) => !outcome.ok).length,
    short: outcomes.filter((outcome) => outcome.deltas < options.deltas).length,
    firstDeltaP50Ms: percentile(firstDeltas, 50),
    firstDeltaP99Ms: percentile(firstDeltas, 99),
    firstDeltaMaxMs: firstDeltas.length > 0 ? firstDeltas[firstDeltas.length - 1]! : Number.NaN,
    largestGapMs: Math.max(0, ...outcomes.map((outcome) => outcome.largestGap)),
    stalledStreams: outcomes.filter((outcome) => outcome.largestGap > STALL_MS).length,
    wallSeconds,
    serverCpuMsPerStream,
    loadAverage,
  };
}

export interface BurstSectionOptions {
  sizes: number[];
  deltas: number;
  intervalMs: number;
  direct: { url: string; headers: Record<string, string>; serverPid?: number };
  /** The node:http streaming floor (scripts/bench-floor-forwarder.ts) in front of the same fake: what any JS gateway costs at least. */
  floor?: { url: string; headers: Record<string, string>; serverPid?: number };
  agentHost: { url: string; headers: Record<string, string>; serverPid?: number };
  /** Waits until the meter has written one event per completed Agent Host stream. */
  meteredExactly(completed: number): Promise<boolean>;
}

const FLOOR_LABEL = 'node:http floor';

/** Runs direct, the floor, then Agent Host at each size and returns the markdown of the "bursts of streams" section. */
export async function streamBurstSection(options: BurstSectionOptions, log: (message: string) => void): Promise<string[]> {
  const rows: string[][] = [];
  const targets: string[] = [];
  // Warm-up (not measured): a small burst against each target first, as the gateway cases warm up, so the first size
  // does not also measure the server's first connections and JIT. Its streams are metered too.
  const warmup = { streams: WARMUP_STREAMS, deltas: options.deltas, timeoutMs: 60_000 + options.deltas * options.intervalMs * 4 };
  await runStreamBurst({ ...options.direct, ...warmup });
  if (options.floor) await runStreamBurst({ ...options.floor, ...warmup });
  const warmed = await runStreamBurst({ ...options.agentHost, ...warmup });
  if (!(await options.meteredExactly(warmed.completed))) log('warm-up burst: the meter did not write exactly one event per stream');
  for (const streams of options.sizes) {
    const timeoutMs = 60_000 + options.deltas * options.intervalMs * 4;
    const direct = await runStreamBurst({ ...options.direct, streams, deltas: options.deltas, timeoutMs });
    const floor = options.floor ? await runStreamBurst({ ...options.floor, streams, deltas: options.deltas, timeoutMs }) : undefined;
    const viaAgentHost = await runStreamBurst({ ...options.agentHost, streams, deltas: options.deltas, timeoutMs });
    const metered = await options.meteredExactly(viaAgentHost.completed);
    const cases: Array<readonly [string, BurstResult]> = [['direct to fake', direct], ...(floor ? [[FLOOR_LABEL, floor] as const] : []), ['Agent Host BYOK', viaAgentHost]];
    for (const [label, result] of cases) {
      log(`streams ${streams} ${label}: first delta p50 ${result.firstDeltaP50Ms.toFixed(0)} p99 ${result.firstDeltaP99Ms.toFixed(0)} ms, largest gap ${result.largestGapMs.toFixed(0)} ms, stalled ${result.stalledStreams}, completed ${result.completed}/${streams}, server CPU ${result.serverCpuMsPerStream.toFixed(1)} ms/stream`);
      rows.push([
        String(streams), label, result.firstDeltaP50Ms.toFixed(0), result.firstDeltaP99Ms.toFixed(0), result.firstDeltaMaxMs.toFixed(0), result.largestGapMs.toFixed(0),
        String(result.stalledStreams), `${result.completed}/${streams}`, String(result.short), label !== 'Agent Host BYOK' ? '—' : metered ? 'yes' : '**NO**', result.wallSeconds.toFixed(1),
        Number.isNaN(result.serverCpuMsPerStream) ? '—' : result.serverCpuMsPerStream.toFixed(1),
        result.loadAverage.toFixed(1),
      ]);
    }
    const ratio = viaAgentHost.firstDeltaP99Ms / direct.firstDeltaP99Ms;
    const againstFloor = floor
      ? `; against the floor: CPU ${(viaAgentHost.serverCpuMsPerStream / floor.serverCpuMsPerStream).toFixed(1)}× (${viaAgentHost.serverCpuMsPerStream.toFixed(1)} vs ${floor.serverCpuMsPerStream.toFixed(1)} ms/stream), first-delta p99 ${(viaAgentHost.firstDeltaP99Ms / floor.firstDeltaP99Ms).toFixed(2)}× the floor's (the floor itself ${(floor.firstDeltaP99Ms / direct.firstDeltaP99Ms).toFixed(2)}× direct, largest gap ${floor.largestGapMs.toFixed(0)} ms)`
      : '';
    targets.push(
      `- ${streams} streams: first-delta p99 ${ratio.toFixed(2)}× direct (target ≤ 2×: ${ratio <= 2 ? '**met**' : '**missed**'}); largest gap ${viaAgentHost.largestGapMs.toFixed(0)} ms (target ≤ 250: ${viaAgentHost.largestGapMs <= 250 ? '**met**' : '**missed**'}); metered exactly once: ${metered ? '**yes**' : '**NO**'}${againstFloor}`,
    );
    if (floor) log(`streams ${streams}: Agent Host ÷ floor CPU ${(viaAgentHost.serverCpuMsPerStream / floor.serverCpuMsPerStream).toFixed(2)}×, first-delta p99 AH ÷ floor ${(viaAgentHost.firstDeltaP99Ms / floor.firstDeltaP99Ms).toFixed(2)}×, AH ÷ direct ${ratio.toFixed(2)}×`);
  }
  return [
    `N streamed calls (\`stream: true\`, \`include_usage\`) started at the same moment, each on its own connection; the fake answers`,
    `each with ${options.deltas} content deltas, one every ${options.intervalMs} ms (first at once). First delta = time from the burst's start to the`,
    'stream\'s first content delta; gap = time between two consecutive deltas of one stream (stall: a gap over 250 ms).',
    'Agent Host meters every stream: after each burst the benchmark checks one meter event per completed stream.',
    ...(options.floor
      ? [
          `The floor ("${FLOOR_LABEL}", scripts/bench-floor-forwarder.ts) is a bare \`node:http\` forwarder in front of the same fake, keep-alive`,
          'upstream: it parses the request\'s JSON, reads the upstream\'s events, parses each event\'s JSON and re-serializes it to the',
          'client, one write per event. Nothing else (no auth, no metering): what any JS gateway that looks at the deltas costs at least.',
        ]
      : []),
    `Before the first size, a warm-up burst of ${WARMUP_STREAMS} streams against each target (not measured; metered and checked too).`,
    'Server CPU = utime + stime of the server process (the fake for "direct", the forwarder for the floor, Agent Host for "Agent Host") over the burst ÷ N:',
    'unlike the latencies it does not move much with the other load on this shared machine. Load avg = the machine\'s 1-minute',
    'load average as the burst started (2 cores; other engineers\' builds and tests run beside it): compare Agent Host with',
    'the direct run of the same moment, never with another run\'s.',
    '',
    markdownTable(
      ['N', 'case', 'first delta p50 ms', 'p99 ms', 'max ms', 'largest gap ms', 'stalled streams', 'completed', 'short', 'metered once', 'wall s', 'server CPU ms/stream', 'load avg'],
      ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l', 'r', 'r', 'r'],
      rows,
    ),
    '',
    ...targets,
    '',
  ];
}
