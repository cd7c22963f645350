// Two parts of `npm run bench` (scripts/bench.ts, `--only=features,workers`):
// - what each feature costs per call: the same BYOK call with tools, routing and the response cache off and on,
//   CPU per call of the server process in interleaved rounds (the order alternates, so drift and a neighbour's load
//   fall on every case alike), each case against the plain call;
// - 1 vs 2 workers (`WEB_CONCURRENCY`): req/s and CPU per call of the whole process tree at c10 and c50.
import fs from 'node:fs';
import { cpuTimeMs, fmt, jsonRequest, expectStatus, markdownTable, percentile, runLoad, sleep, type LoadResult } from './bench-support';
import { createAgent, createAgentKey, type BenchUser } from './bench-usage';
import { CHAT_BODY, TOOLS_BODY } from './bench-gateway';
import { CACHE_FEATURE_NOTES } from './bench-notes';

export interface FeatureCase {
  id: string;
  label: string;
  key: string;
  /** A fixed body, or one made per request (unique bodies: every call a cache miss). */
  body: string | (() => string);
  /** The case it is compared with (its feature off). */
  against?: string;
  /** A floor case (the same bodies through the node:http or SDK floor, #20): its own server, nothing metered. */
  floor?: { url: string; serverPid: number };
}

interface CaseResult {
  cpu: number[];
  rps: number[];
  p50: number[];
  p99: number[];
  failed: number;
}

function recordRound(result: CaseResult, load: LoadResult, cpuMsPerCall: number): void {
  result.cpu.push(cpuMsPerCall);
  result.rps.push(load.requestsPerSecond);
  result.p50.push(percentile(load.latencies, 50));
  result.p99.push(percentile(load.latencies, 99));
  result.failed += load.non2xx + load.errors;
}

let uniqueCounter = 0;
/** The plain chat body with a question that never repeats. */
export const uniqueChatBody = (): string =>
  JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Hello, this is question number ${(uniqueCounter += 1)}` }], max_tokens: 16 });

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor(sorted.length / 2)]!;
};

/** Sets up the agents of the feature cases on a running Agent Host (BYOK OpenAI on the fake, whose base URL the server has). */
export async function createFeatureCases(baseUrl: string, owner: BenchUser, plainKey: string): Promise<FeatureCase[]> {
  const api = (method: string, path: string, body: unknown) =>
    expectStatus(200, `${method} ${path}`, jsonRequest(method, `${baseUrl}/api/workspaces/${owner.workspaceId}${path}`, { token: owner.token, body }));
  const routed = await createAgent(baseUrl, owner, 'Routed agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-fake-bench-routed-0123456789abcdef' });
  await api('PUT', `/agents/${routed}/llm/light`, { provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-fake-bench-light-0123456789abcdef' });
  await api('PUT', `/agents/${routed}/routing`, { setting: 'balanced' });
  const cached = await createAgent(baseUrl, owner, 'Cached agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-fake-bench-cached-0123456789abcdef' });
  await api('PUT', `/agents/${cached}/cache`, { mode: 'exact' });
  const routedKey = await createAgentKey(baseUrl, owner, routed);
  const cachedKey = await createAgentKey(baseUrl, owner, cached);
  return [
    { id: 'plain', label: 'plain call (features off)', key: plainKey, body: CHAT_BODY },
    { id: 'tools', label: '5 tools offered → tool call', key: plainKey, body: TOOLS_BODY, against: 'plain' },
    { id: 'routing', label: 'routing on (balanced; "Hello" → light model)', key: routedKey, body: CHAT_BODY, against: 'plain' },
    { id: 'plain-unique', label: 'plain call, every question new', key: plainKey, body: uniqueChatBody },
    { id: 'cache-miss', label: 'exact cache on, every call a miss (lookup + store)', key: cachedKey, body: uniqueChatBody, against: 'plain-unique' },
    { id: 'cache-hit', label: 'exact cache on, every call a hit', key: cachedKey, body: CHAT_BODY, against: 'plain' },
  ];
}

function loadCase(hostUrl: string, target: FeatureCase, connections: number, durationSeconds: number): Promise<LoadResult> {
  const url = target.floor ? `${target.floor.url}/v1/chat/completions` : hostUrl;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${target.key}` };
  return typeof target.body === 'string'
    ? runLoad({ url, headers, body: target.body, connections, durationSeconds })
    : runLoad({ url, headers, body: target.body(), makeBody: target.body, connections, durationSeconds });
}

export interface FeatureCostOptions {
  url: string;
  serverPid: number;
  cases: FeatureCase[];
  concurrencies: number[];
  rounds: number;
  secondsPerRound: number;
  /** Waits until the meter has written every event of the calls so far. */
  afterCalls(okCalls: number): Promise<void>;
  log(message: string): void;
}

export async function featureCostSection(options: FeatureCostOptions): Promise<string[]> {
  const url = `${options.url}/v1/chat/completions`;
  const tableRows: string[][] = [];
  const verdicts: string[] = [];
  const floorLines: string[] = [];
  for (const concurrency of options.concurrencies) {
    const results = new Map<string, CaseResult>(options.cases.map((target) => [target.id, { cpu: [], rps: [], p50: [], p99: [], failed: 0 }]));
    // A floor case meters nothing: there is no meter to wait for.
    const settle = (target: FeatureCase, okCalls: number) => (target.floor ? sleep(0) : options.afterCalls(okCalls));
    for (const target of options.cases) await settle(target, (await loadCase(url, target, concurrency, 2)).ok);
    for (let round = 0; round < options.rounds; round += 1) {
      const order = round % 2 === 0 ? options.cases : [...options.cases].reverse();
      for (const target of order) {
        const pid = target.floor?.serverPid ?? options.serverPid;
        const warm = await loadCase(url, target, concurrency, 1);
        const before = cpuTimeMs(pid);
        const load = await loadCase(url, target, concurrency, options.secondsPerRound);
        const cpu = (cpuTimeMs(pid) - before) / Math.max(1, load.ok);
        recordRound(results.get(target.id)!, load, cpu);
        await settle(target, warm.ok + load.ok);
        await sleep(200);
      }
    }
    for (const target of options.cases) {
      const result = results.get(target.id)!;
      const cpu = median(result.cpu);
      const reference = target.against ? median(results.get(target.against)!.cpu) : NaN;
      const extra = target.against ? (cpu / reference - 1) * 100 : NaN;
      tableRows.push([
        String(concurrency),
        target.label,
        fmt.int(median(result.rps)),
        fmt.ms(median(result.p50)),
        fmt.ms(median(result.p99)),
        fmt.ms(cpu, 3),
        result.cpu.map((value) => fmt.ms(value, 3)).join(' / '),
        target.against ? `${extra >= 0 ? '+' : ''}${extra.toFixed(1)} % vs ${target.against}` : '—',
        String(result.failed),
      ]);
      if (target.against && target.id !== 'cache-hit' && !target.floor) verdicts.push(`c${concurrency} ${target.id} ${extra >= 0 ? '+' : ''}${extra.toFixed(1)} % (${extra <= 5 ? 'met' : 'missed'})`);
      options.log(`features c${concurrency} ${target.id.padEnd(16)} cpu ${fmt.ms(cpu, 3)} ms/call${target.against ? ` (${extra.toFixed(1)} % vs ${target.against})` : ''}`);
    }
    const floorLine = toolsThroughFloors(concurrency, (id) => (results.has(id) ? median(results.get(id)!.cpu) : undefined));
    if (floorLine) floorLines.push(floorLine);
  }
  return [
    `Each case is the BYOK \`/v1\` call on the fake provider at delay 0, the same Agent Host process; ${options.rounds} interleaved`,
    `rounds of ${options.secondsPerRound} s (1 s warm-up each, order reversed every other round); CPU per call = utime+stime of the`,
    'server process over the round ÷ 2xx answers, the median of the rounds (every round in the next column). "every question',
    'new" bodies differ per request (a counter in the question), so each call is a cache miss: the cache\'s lookup and its store',
    'of the answer are both paid. The meter writes every event between rounds.',
    '',
    markdownTable(
      ['c', 'case', 'req/s', 'p50 ms', 'p99 ms', 'CPU ms/call (median)', 'rounds', 'extra CPU', 'non-2xx+errors'],
      ['r', 'l', 'r', 'r', 'r', 'r', 'l', 'r', 'r'],
      tableRows,
    ),
    '',
    `Target "on costs ≤ 5 % more" (measured, not asserted): ${verdicts.join(', ')}.`,
    ...(floorLines.length
      ? [
          '',
          'Tools on vs the same two bodies through the floors (not the target\'s measure: what of the tools case\'s extra CPU the',
          'bigger request and answer cost any gateway — JSON parse and re-serialization, the SDK, the sockets — and what is',
          "Agent Host's own: its extra minus the SDK floor's extra, as a share of its plain call):",
          '',
          ...floorLines.map((line) => `- ${line}`),
        ]
      : []),
    '',
    ...CACHE_FEATURE_NOTES,
  ];
}

/** The floor cases beside the tools case (#20): the plain and tools bodies through the node:http and the SDK floor. */
export function floorFeatureCases(floor: { url: string; serverPid: number }, sdkFloor: { url: string; serverPid: number }): FeatureCase[] {
  return [
    { id: 'floor-plain', label: '(floor) node:http floor, plain body', key: 'sk-bench-direct', body: CHAT_BODY, floor },
    { id: 'floor-tools', label: '(floor) node:http floor, tools body → tool call', key: 'sk-bench-direct', body: TOOLS_BODY, against: 'floor-plain', floor },
    { id: 'sdk-floor-plain', label: '(floor) SDK floor, plain body', key: 'sk-bench-direct', body: CHAT_BODY, floor: sdkFloor },
    { id: 'sdk-floor-tools', label: '(floor) SDK floor, tools body → tool call', key: 'sk-bench-direct', body: TOOLS_BODY, against: 'sdk-floor-plain', floor: sdkFloor },
  ];
}

function toolsThroughFloors(concurrency: number, cpuOf: (id: string) => number | undefined): string | undefined {
  const [plain, tools, floorPlain, floorTools, sdkPlain, sdkTools] = ['plain', 'tools', 'floor-plain', 'floor-tools', 'sdk-floor-plain', 'sdk-floor-tools'].map(cpuOf);
  if ([plain, tools, floorPlain, floorTools, sdkPlain, sdkTools].some((value) => value === undefined)) return undefined;
  const host = tools! - plain!;
  const floor = floorTools! - floorPlain!;
  const sdk = sdkTools! - sdkPlain!;
  const own = host - sdk;
  const percent = (ms: number, of: number) => `${fmt.signedMs((ms / of) * 100, 1)} %`;
  return (
    `c${concurrency}: tools add ${fmt.signedMs(host, 3)} ms/call on Agent Host (${percent(host, plain!)}), ${fmt.signedMs(floor, 3)} on the node:http floor ` +
    `(${percent(floor, floorPlain!)}), ${fmt.signedMs(sdk, 3)} on the SDK floor (${percent(sdk, sdkPlain!)}) → Agent Host's own ${fmt.signedMs(own, 3)} ms/call (${percent(own, plain!)} of its plain call)`
  );
}

// ---------------------------------------------------------------- 1 vs 2 workers

/** utime+stime of a process and all its descendants (the cluster primary and its workers), in ms. */
export function cpuTimeTreeMs(rootPid: number): number {
  const parents = new Map<number, number>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const tree = [rootPid];
  for (let index = 0; index < tree.length; index += 1) for (const [pid, parent] of parents) if (parent === tree[index]) tree.push(pid);
  let total = 0;
  for (const pid of tree) {
    try {
      total += cpuTimeMs(pid);
    } catch {
      // exited meanwhile
    }
  }
  return total;
}

export interface WorkerTarget {
  workers: number;
  url: string;
  key: string;
  rootPid: number;
  /** Waits until this server's meter has written every event of the calls so far. */
  afterCalls(okCalls: number): Promise<void>;
}

export async function workersSection(options: { targets: WorkerTarget[]; concurrencies: number[]; rounds: number; secondsPerRound: number; log(message: string): void }): Promise<string[]> {
  const rows: string[][] = [];
  const summary: string[] = [];
  for (const concurrency of options.concurrencies) {
    const results = new Map<number, CaseResult>(options.targets.map((target) => [target.workers, { cpu: [], rps: [], p50: [], p99: [], failed: 0 }]));
    const run = (target: WorkerTarget, seconds: number) =>
      runLoad({ url: `${target.url}/v1/chat/completions`, headers: { 'content-type': 'application/json', authorization: `Bearer ${target.key}` }, body: CHAT_BODY, connections: concurrency, durationSeconds: seconds });
    for (const target of options.targets) await target.afterCalls((await run(target, 2)).ok);
    for (let round = 0; round < options.rounds; round += 1) {
      for (const target of round % 2 === 0 ? options.targets : [...options.targets].reverse()) {
        const warm = await run(target, 1);
        const before = cpuTimeTreeMs(target.rootPid);
        const load = await run(target, options.secondsPerRound);
        recordRound(results.get(target.workers)!, load, (cpuTimeTreeMs(target.rootPid) - before) / Math.max(1, load.ok));
        await target.afterCalls(warm.ok + load.ok);
        await sleep(200);
      }
    }
    const one = results.get(1);
    for (const target of options.targets) {
      const result = results.get(target.workers)!;
      rows.push([String(concurrency), String(target.workers), fmt.int(median(result.rps)), result.rps.map((value) => fmt.int(value)).join(' / '), fmt.ms(median(result.p50)), fmt.ms(median(result.p99)), fmt.ms(median(result.cpu), 3), String(result.failed)]);
      options.log(`workers ${target.workers} c${concurrency}: ${fmt.int(median(result.rps))} req/s, cpu ${fmt.ms(median(result.cpu), 3)} ms/call`);
    }
    const two = results.get(2);
    if (one && two) summary.push(`c${concurrency}: 2 workers ${(median(two.rps) / median(one.rps)).toFixed(2)}× the req/s of 1`);
  }
  return [
    'The same BYOK call, one Agent Host with `WEB_CONCURRENCY=1` (a single process) and one with `WEB_CONCURRENCY=2` (a primary',
    'and two workers sharing the port, Socket.IO over a local `redis-server`), on the same store and fake; interleaved rounds.',
    'CPU per call counts the whole process tree (primary + workers). The load generator (autocannon, in the benchmark',
    'process), the fake provider and the store run on the same 2 cores, so a second worker competes with them: this',
    'measures what a second worker buys on this box, not on a machine where the gateway has the cores to itself.',
    '',
    markdownTable(['c', 'workers', 'req/s (median)', 'rounds', 'p50 ms', 'p99 ms', 'CPU ms/call (tree)', 'non-2xx+errors'], ['r', 'r', 'r', 'l', 'r', 'r', 'r', 'r'], rows),
    '',
    `Result: ${summary.join('; ')}.`,
  ];
}
