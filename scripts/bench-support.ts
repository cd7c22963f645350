// Shared helpers for scripts/bench.ts: child processes that never outlive the benchmark, /proc metrics, HTTP, stats.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import autocannon from 'autocannon';

// ---------------------------------------------------------------- child processes

export interface Child {
  name: string;
  pid: number;
  process: ChildProcess;
  /** Every stdout line so far. */
  lines: string[];
  /** The last stderr/stdout lines, for error messages. */
  tail: string[];
  /** Resolves with the first stdout line (past or future) that satisfies `match`. */
  waitForLine(match: (line: string) => boolean, timeoutMs: number): Promise<string>;
  exited: Promise<number | null>;
  isRunning(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

const children = new Set<Child>();

/**
 * Makes a process exit when its parent (this benchmark) goes away, even if the benchmark is killed with SIGKILL:
 * preloaded with `--import` into processes whose code we do not own (the platform build, Portkey).
 */
export const EXIT_WITH_PARENT_IMPORT = `--import=data:text/javascript,${encodeURIComponent(
  "const p=process.ppid;setInterval(()=>{if(process.ppid!==p)process.kill(process.pid,'SIGTERM')},500).unref();",
)}`;

export function startChild(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Child {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const lines: string[] = [];
  const tail: string[] = [];
  const waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  const remember = (line: string) => {
    tail.push(line);
    if (tail.length > 80) tail.shift();
  };
  let stdoutRest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    stdoutRest += chunk;
    const parts = stdoutRest.split('\n');
    stdoutRest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > 10_000) lines.splice(0, 5_000);
      remember(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i]!.match(line)) waiters.splice(i, 1)[0]!.resolve(line);
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    for (const line of chunk.split('\n')) if (line.trim()) remember(line);
  });
  let running = true;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      running = false;
      children.delete(handle);
      resolve(code ?? (signal ? -1 : null));
    }),
  );
  const handle: Child = {
    name,
    pid: child.pid,
    process: child,
    lines,
    tail,
    exited,
    isRunning: () => running,
    waitForLine(match, timeoutMs) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name} did not become ready in ${timeoutMs} ms; last output:\n${tail.join('\n')}`)), timeoutMs);
        const waiter = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        waiters.push(waiter);
        void exited.then((code) => {
          clearTimeout(timer);
          reject(new Error(`${name} exited (code ${code}) before it was ready; last output:\n${tail.join('\n')}`));
        });
      });
    },
    async stop(graceMs = 10_000) {
      if (!running) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
  children.add(handle);
  return handle;
}

export async function stopAllChildren(): Promise<void> {
  await Promise.all([...children].map((child) => child.stop(5_000).catch(() => undefined)));
}

let cleanupInstalled = false;

/** Whatever happens (normal end, error, Ctrl-C, SIGTERM), no child process outlives the benchmark. */
export function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  process.on('exit', () => {
    for (const child of children) {
      try {
        child.process.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping child processes\n`);
      void stopAllChildren().finally(() => process.exit(130));
    });
  }
}

// ---------------------------------------------------------------- /proc metrics (Linux)

const CLOCK_TICKS = (() => {
  const result = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const value = Number(result.stdout?.trim());
  return Number.isFinite(value) && value > 0 ? value : 100;
})();

/** Peak resident set size (VmHWM) in MiB since start or since the last resetPeakRss. */
export function peakRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

export function currentRssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /VmRSS:\s+(\d+) kB/.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}

/** Resets VmHWM to the current RSS (`echo 5 > /proc/<pid>/clear_refs`); false where the kernel refuses. */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** User + system CPU time of a process, in ms (clock-tick resolution, usually 10 ms). */
export function cpuTimeMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

// ---------------------------------------------------------------- HTTP

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  text: string;
}

export async function jsonRequest<T = any>(method: string, url: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(url, { method, headers, body: options.body === undefined ? undefined : JSON.stringify(options.body) });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: response.status, body: body as T, text };
}

export async function expectStatus<T = any>(expected: number, what: string, response: Promise<JsonResponse<T>>): Promise<T> {
  const result = await response;
  if (result.status !== expected) throw new Error(`${what}: expected HTTP ${expected}, got ${result.status}: ${result.text.slice(0, 500)}`);
  return result.body;
}

export async function waitForHttp(url: string, timeoutMs: number, child?: Child): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      return;
    } catch {
      if (child && !child.isRunning()) throw new Error(`${child.name} exited; last output:\n${child.tail.join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms${child ? `; last output:\n${child.tail.join('\n')}` : ''}`);
      await sleep(100);
    }
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------- load generation (autocannon)

export interface LoadResult {
  /** 2xx responses in the measured window. */
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  requestsPerSecond: number;
  /** Per-response latency in ms (2xx only), sub-millisecond (autocannon's own histogram rounds to whole ms). */
  latencies: Float64Array;
}

export interface LoadOptions {
  url: string;
  headers: Record<string, string>;
  body: string;
  /** A new body per request instead of `body` (e.g. every call a cache miss). */
  makeBody?: () => string;
  connections: number;
  durationSeconds: number;
}

export function runLoad(options: LoadOptions): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    let non2xx = 0;
    const started = process.hrtime.bigint();
    const instance = autocannon(
      {
        url: options.url,
        method: 'POST',
        headers: options.headers,
        body: options.body,
        ...(options.makeBody ? { requests: [{ setupRequest: (request: autocannon.Request) => ({ ...request, body: options.makeBody!() }) }] } : {}),
        connections: options.connections,
        pipelining: 1,
        duration: options.durationSeconds,
        timeout: 30,
      },
      (error, result) => {
        if (error) return reject(error);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const measuredSeconds = Math.min(seconds, options.durationSeconds + 1);
        resolve({
          ok: latencies.length,
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          seconds: measuredSeconds,
          requestsPerSecond: latencies.length / options.durationSeconds,
          latencies: Float64Array.from(latencies).sort(),
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
      else non2xx += 1;
    });
  });
}

// ---------------------------------------------------------------- statistics and formatting

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function sortedCopy(values: readonly number[]): Float64Array {
  return Float64Array.from(values).sort();
}

export const fmt = {
  int: (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—'),
  ms: (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : '—'),
  signedMs: (value: number, digits = 2) => (Number.isFinite(value) ? `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}` : '—'),
  mib: (value: number) => (Number.isFinite(value) ? value.toFixed(0) : '—'),
};

export function markdownTable(header: string[], align: Array<'l' | 'r'>, rows: string[][]): string {
  return [
    `| ${header.join(' | ')} |`,
    `| ${align.map((a) => (a === 'r' ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n');
}

export function log(message: string): void {
  process.stdout.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}
