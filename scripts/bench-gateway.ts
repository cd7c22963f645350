// Gateway overhead: direct to the fake provider vs Agent Host /v1 (BYOK, managed) vs the Portkey gateway, with
// autocannon, side by side in one run; plus a CPU profile of Agent Host's /v1 BYOK path. Used by scripts/bench.ts.
import fs from 'node:fs';
import path from 'node:path';
import { cpuTimeMs, fmt, log, markdownTable, peakRssMiB, percentile, resetPeakRss, runLoad, sleep, type LoadResult } from './bench-support';

export const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 16 });

/** The tools case: a BYOK call offering 5 function tools, answered by the fake with a tool call (cf. the plain BYOK case). */
export const TOOLS_BODY = JSON.stringify({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
  max_tokens: 16,
  tools: ['get_weather', 'get_time', 'search_docs', 'create_ticket', 'send_email'].map((name) => ({
    type: 'function',
    function: {
      name,
      description: `The ${name.replace(/_/g, ' ')} tool`,
      parameters: { type: 'object', properties: { query: { type: 'string' }, limit: { type: 'integer', minimum: 1 } }, required: ['query'] },
    },
  })),
});

export type GatewayCaseId = 'direct' | 'floor' | 'sdk-floor' | 'byok' | 'managed' | 'portkey' | 'tools';

export interface GatewayTarget {
  id: GatewayCaseId;
  label: string;
  url: string;
  headers: Record<string, string>;
  /** The server process whose RSS and CPU are measured (none for direct). */
  serverPid?: number;
  /** Agent Host cases meter every call: wait for the meter to catch up before the next case. */
  metered: boolean;
  /** The request body (default CHAT_BODY). */
  body?: string;
}

export interface GatewayRow {
  delayMs: number;
  concurrency: number;
  target: GatewayTarget;
  load: LoadResult;
  p50: number;
  p99: number;
  peakRss: number;
  cpuMsPerRequest: number;
}

export interface GatewayOptions {
  targets: GatewayTarget[];
  delays: number[];
  concurrencies: number[];
  warmupSeconds: number;
  /** Warm-up of each server's first case. */
  firstWarmupSeconds: number;
  durationSeconds: number;
  setFakeDelay(ms: number): Promise<void>;
  /** Called after a metered case with the number of 2xx calls it made (warm-up included). */
  afterMeteredCase(okCalls: number): Promise<void>;
}

export async function runGatewayCases(options: GatewayOptions): Promise<GatewayRow[]> {
  const rows: GatewayRow[] = [];
  // Before a server's first case, every case of that server is warmed up longer (JIT, the first pass through each
  // path), followed by the same pause every later case gets after the previous one. Warming only the case about to
  // run left the server's other case a first pass of its own (for the BYOK case: the vault's first decrypts, the
  // key's first status write) inside its measured run, and whichever case came first still settling: 5–10% fewer
  // req/s than the same case run later.
  const warmedServers = new Set<string>();
  const serverOf = (target: GatewayTarget) => (target.serverPid ? `pid ${target.serverPid}` : target.id);
  const warmUpServer = async (target: GatewayTarget, concurrency: number) => {
    const server = serverOf(target);
    if (warmedServers.has(server)) return;
    warmedServers.add(server);
    for (const sibling of options.targets.filter((candidate) => serverOf(candidate) === server)) {
      const first = await runLoad({ url: sibling.url, headers: { 'content-type': 'application/json', ...sibling.headers }, body: sibling.body ?? CHAT_BODY, connections: concurrency, durationSeconds: options.firstWarmupSeconds });
      if (sibling.metered) await options.afterMeteredCase(first.ok);
      else await sleep(200);
    }
  };
  for (const delayMs of options.delays) {
    await options.setFakeDelay(delayMs);
    for (const concurrency of options.concurrencies) {
      for (const target of options.targets) {
        const pid = target.serverPid;
        await warmUpServer(target, concurrency);
        if (pid) resetPeakRss(pid);
        const common = { url: target.url, headers: { 'content-type': 'application/json', ...target.headers }, body: target.body ?? CHAT_BODY, connections: concurrency };
        const warm = await runLoad({ ...common, durationSeconds: options.warmupSeconds });
        const cpuBefore = pid ? cpuTimeMs(pid) : NaN;
        const load = await runLoad({ ...common, durationSeconds: options.durationSeconds });
        const cpuAfter = pid ? cpuTimeMs(pid) : NaN;
        const peakRss = pid ? peakRssMiB(pid) : NaN;
        const row: GatewayRow = {
          delayMs,
          concurrency,
          target,
          load,
          p50: percentile(load.latencies, 50),
          p99: percentile(load.latencies, 99),
          peakRss,
          cpuMsPerRequest: pid ? (cpuAfter - cpuBefore) / Math.max(1, load.ok) : NaN,
        };
        rows.push(row);
        log(
          `delay ${delayMs} ms c${concurrency} ${target.id.padEnd(7)} ${fmt.int(load.requestsPerSecond).padStart(6)} req/s p50 ${fmt.ms(row.p50)} p99 ${fmt.ms(row.p99)} ms` +
            `${pid ? ` peak RSS ${fmt.mib(peakRss)} MiB cpu ${fmt.ms(row.cpuMsPerRequest, 3)} ms/req` : ''}${load.non2xx + load.errors > 0 ? ` non-2xx ${load.non2xx} errors ${load.errors}` : ''}`,
        );
        if (target.metered) await options.afterMeteredCase(warm.ok + load.ok);
        else await sleep(200);
      }
    }
  }
  return rows;
}

export function gatewayTables(rows: GatewayRow[]): string {
  const parts: string[] = [];
  for (const delayMs of [...new Set(rows.map((row) => row.delayMs))]) {
    const tableRows: string[][] = [];
    for (const row of rows.filter((candidate) => candidate.delayMs === delayMs)) {
      const direct = rows.find((candidate) => candidate.delayMs === delayMs && candidate.concurrency === row.concurrency && candidate.target.id === 'direct');
      const isDirect = row.target.id === 'direct';
      tableRows.push([
        String(row.concurrency),
        row.target.label,
        fmt.int(row.load.requestsPerSecond),
        fmt.ms(row.p50),
        fmt.ms(row.p99),
        isDirect || !direct ? '—' : fmt.signedMs(row.p50 - direct.p50),
        isDirect || !direct ? '—' : fmt.signedMs(row.p99 - direct.p99),
        isDirect ? '—' : fmt.mib(row.peakRss),
        isDirect ? '—' : fmt.ms(row.cpuMsPerRequest, 3),
        String(row.load.non2xx + row.load.errors),
      ]);
    }
    parts.push(
      `**Fake provider delay ${delayMs} ms**`,
      '',
      markdownTable(
        ['c', 'case', 'req/s', 'p50 ms', 'p99 ms', 'p50 overhead', 'p99 overhead', 'peak RSS MiB', 'server CPU ms/req', 'non-2xx+errors'],
        ['r', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
        tableRows,
      ),
      '',
    );
  }
  return parts.join('\n');
}

export function gatewayTargetsSummary(rows: GatewayRow[]): string[] {
  const lines: string[] = [];
  const find = (delayMs: number, concurrency: number, id: GatewayCaseId) =>
    rows.find((row) => row.delayMs === delayMs && row.concurrency === concurrency && row.target.id === id);
  const verdict = (ok: boolean) => (ok ? '**met**' : '**missed**');
  for (const delayMs of [...new Set(rows.map((row) => row.delayMs))]) {
    const direct = find(delayMs, 1, 'direct');
    if (!direct) continue;
    for (const id of ['floor', 'sdk-floor', 'byok', 'managed', 'portkey'] as const) {
      const row = find(delayMs, 1, id);
      if (!row) continue;
      const d50 = row.p50 - direct.p50;
      const d99 = row.p99 - direct.p99;
      const target = id === 'byok' || id === 'managed' ? ` — target p99 ≤ 2 ms: ${verdict(d99 <= 2)}` : '';
      lines.push(`- c1, delay ${delayMs} ms, ${row.target.label}: overhead p50 ${fmt.signedMs(d50)} ms, p99 ${fmt.signedMs(d99)} ms${target}`);
    }
  }
  const ratios: string[] = [];
  for (const row of rows.filter((candidate) => candidate.target.id === 'byok' || candidate.target.id === 'managed')) {
    const portkey = find(row.delayMs, row.concurrency, 'portkey');
    if (!portkey) continue;
    ratios.push(`${row.target.id} d${row.delayMs}/c${row.concurrency} ${(row.load.requestsPerSecond / portkey.load.requestsPerSecond).toFixed(2)}×`);
  }
  if (ratios.length) lines.push(`- req/s ÷ Portkey's req/s: ${ratios.join(', ')}`);
  const cpuRatios: string[] = [];
  for (const row of rows.filter((candidate) => candidate.target.id === 'byok' || candidate.target.id === 'managed')) {
    const floor = find(row.delayMs, row.concurrency, 'floor');
    if (!floor || !(floor.cpuMsPerRequest > 0)) continue;
    const ratio = row.cpuMsPerRequest / floor.cpuMsPerRequest;
    cpuRatios.push(`${row.target.id} d${row.delayMs}/c${row.concurrency} ${ratio.toFixed(2)}× ${ratio <= 2.5 ? '(met)' : '(missed)'}`);
  }
  if (cpuRatios.length) lines.push(`- server CPU per call ÷ the node:http floor's (target ≤ 2.5×): ${cpuRatios.join(', ')}`);
  // The same against the SDK floor: what the official SDK costs is in both, so this is Agent Host's own work.
  const sdkRatios: string[] = [];
  for (const row of rows.filter((candidate) => candidate.target.id === 'byok' || candidate.target.id === 'managed' || candidate.target.id === 'sdk-floor')) {
    const floor = find(row.delayMs, row.concurrency, 'floor');
    const sdkFloor = find(row.delayMs, row.concurrency, 'sdk-floor');
    if (!floor || !sdkFloor || !(floor.cpuMsPerRequest > 0) || !(sdkFloor.cpuMsPerRequest > 0)) continue;
    sdkRatios.push(
      row.target.id === 'sdk-floor'
        ? `SDK floor d${row.delayMs}/c${row.concurrency} ${(row.cpuMsPerRequest / floor.cpuMsPerRequest).toFixed(2)}× the node:http floor`
        : `${row.target.id} d${row.delayMs}/c${row.concurrency} ${(row.cpuMsPerRequest / sdkFloor.cpuMsPerRequest).toFixed(2)}× the SDK floor`,
    );
  }
  if (sdkRatios.length) lines.push(`- the official SDK's share: ${sdkRatios.join(', ')}`);
  const peak = (ids: GatewayCaseId[]) => Math.max(...rows.filter((row) => ids.includes(row.target.id)).map((row) => row.peakRss));
  const agentHostPeak = peak(['byok', 'managed']);
  lines.push(`- peak RSS of the Agent Host server process over all cases: ${fmt.mib(agentHostPeak)} MiB (target ≤ 150 MiB: ${verdict(agentHostPeak <= 150)}); Portkey: ${fmt.mib(peak(['portkey']))} MiB`);
  return lines;
}

// ---------------------------------------------------------------- CPU profile summary

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  windowMs: number;
  busyMs: number;
  requests: number;
  topFunctions: Array<{ name: string; where: string; ms: number; share: number }>;
  byArea: Array<{ area: string; ms: number; share: number }>;
}

function shortUrl(url: string, projectRoot: string): string {
  if (!url) return '';
  let clean = url.replace(/^file:\/\//, '');
  if (clean.startsWith(projectRoot)) clean = clean.slice(projectRoot.length + 1);
  const modules = clean.lastIndexOf('node_modules/');
  if (modules >= 0) clean = clean.slice(modules + 'node_modules/'.length);
  return clean;
}

function areaOf(url: string, functionName: string, projectRoot: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native / V8 builtins)';
  if (url.startsWith('node:')) {
    const module = url.slice(5).split('/').slice(0, 2).join('/');
    return `node:${module.replace(/^internal\//, 'internal/')}`;
  }
  const clean = url.replace(/^file:\/\//, '');
  const modules = clean.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = clean.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const relative = clean.startsWith(projectRoot) ? clean.slice(projectRoot.length + 1) : clean;
  return `agent-host ${relative.replace(/^dist\//, '').replace(/\.js$/, '')}`;
}

/**
 * Self time per function from a V8 .cpuprofile, counting only samples taken between `fromUs` and `toUs`
 * (the measured window, on the same monotonic clock as process.hrtime) so that start-up and shut-down do not count.
 */
export function summarizeCpuProfile(file: string, window: { fromUs: number; toUs: number }, requests: number, projectRoot: string, top = 20): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let time = profile.startTime;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const delta = profile.timeDeltas[i] ?? 0;
    time += delta;
    if (time < window.fromUs || time > window.toUs) continue;
    // A sample's weight is the interval until the next sample.
    const weight = profile.timeDeltas[i + 1] ?? delta;
    windowUs += weight;
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + weight);
  }
  const byFunction = new Map<string, { name: string; where: string; us: number }>();
  const byArea = new Map<string, number>();
  let busyUs = 0;
  for (const [id, us] of selfUs) {
    const frame = nodes.get(id)!.callFrame;
    const name = frame.functionName || '(anonymous)';
    if (name === '(idle)') continue;
    busyUs += us;
    const where = frame.url ? `${shortUrl(frame.url, projectRoot)}:${frame.lineNumber + 1}` : '';
    const key = `${name}|${where}`;
    const entry = byFunction.get(key) ?? { name, where, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    const area = areaOf(frame.url, name, projectRoot);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
  }
  return {
    windowMs: windowUs / 1000,
    busyMs: busyUs / 1000,
    requests,
    topFunctions: [...byFunction.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({ name: entry.name, where: entry.where, ms: entry.us / 1000, share: entry.us / Math.max(1, busyUs) })),
    byArea: [...byArea.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([area, us]) => ({ area, ms: us / 1000, share: us / Math.max(1, busyUs) })),
  };
}

export function profileMarkdown(summary: ProfileSummary): string {
  const perRequestUs = (ms: number) => ((ms * 1000) / Math.max(1, summary.requests)).toFixed(1);
  return [
    `Samples in the measured window: ${fmt.ms(summary.windowMs / 1000, 1)} s, of which busy (not idle) ${fmt.ms(summary.busyMs / 1000, 2)} s over ${fmt.int(summary.requests)} requests ` +
      `= **${fmt.ms(summary.busyMs / Math.max(1, summary.requests), 3)} ms of main-thread CPU per request** (profiler on; its own overhead included).`,
    '',
    'Top self time by function:',
    '',
    markdownTable(
      ['function', 'where', 'self ms', 'share', 'µs/request'],
      ['l', 'l', 'r', 'r', 'r'],
      summary.topFunctions.map((entry) => [`\`${entry.name.replace(/\|/g, '\\|')}\``, entry.where ? `\`${entry.where}\`` : '', fmt.ms(entry.ms, 1), `${(entry.share * 100).toFixed(1)}%`, perRequestUs(entry.ms)]),
    ),
    '',
    'Self time by package / area:',
    '',
    markdownTable(
      ['area', 'self ms', 'share', 'µs/request'],
      ['l', 'r', 'r', 'r'],
      summary.byArea.map((entry) => [`\`${entry.area}\``, fmt.ms(entry.ms, 1), `${(entry.share * 100).toFixed(1)}%`, perRequestUs(entry.ms)]),
    ),
  ].join('\n');
}

export function newestCpuProfile(directory: string): string | undefined {
  const files = fs
    .readdirSync(directory)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => path.join(directory, name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return files[0];
}
