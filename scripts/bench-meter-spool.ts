// The meter spool's cost on the hot path: CPU per /v1 call of an in-process platform with the spool off and under
// each sync policy (same process, same load, alternating rounds), plus the cost of one append alone. Usage:
//   npm run bench:meter-spool -- [--calls 3000] [--rounds 3] [--concurrency 8]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { createEventItem } from '../server/metering/meter-queue-items';
import { MeterSpool, type SpoolSyncPolicy } from '../server/metering/meter-spool';
import { createLogger } from '../server/logger';
import { createAgent, createAgentApiKey, registerUser, startTestPlatform } from '../test/support/test-platform';
import { meterEventFixture } from '../test/support/meter-events';
import { describeMachine, writeBenchmarkSection } from './benchmark-report';

function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? Number(process.argv[index + 1]) : fallback;
}

type Variant = 'off' | SpoolSyncPolicy;
const VARIANTS: Variant[] = ['off', 'never', 'batch', 'always'];

async function measureCalls(variant: Variant, calls: number, concurrency: number): Promise<{ cpuMicrosPerCall: number; callsPerSecond: number }> {
  const platform = await startTestPlatform({ meterSpool: variant === 'off' ? false : { sync: variant }, env: { LOG_LEVEL: 'warn' } });
  try {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const dispatcher = new Agent({ connections: concurrency });
    const body = JSON.stringify({ model: 'agent', messages: [{ role: 'user', content: 'What are your opening hours?' }], max_tokens: 30 });
    const call = async () => {
      const response = await request(`${platform.url}/v1/chat/completions`, { method: 'POST', dispatcher, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
      await response.body.text();
      if (response.statusCode !== 200) throw new Error(`status ${response.statusCode}`);
    };
    const run = async (count: number) => {
      let next = 0;
      await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next++ < count) await call();
      }));
      await platform.platform.meter.drain();
    };
    await run(300); // warm-up
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    await run(calls);
    const elapsedMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    await dispatcher.close();
    return { cpuMicrosPerCall: (cpu.user + cpu.system) / calls, callsPerSecond: (calls / elapsedMs) * 1000 };
  } finally {
    await platform.stop();
  }
}

function measureAppends(sync: SpoolSyncPolicy, count: number): number {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-bench-'));
  const spool = new MeterSpool({ directory, sync }, createLogger({ level: 'warn' }));
  const items = Array.from({ length: count }, (_, n) => createEventItem(meterEventFixture({ requestId: `req_bench_${n}`, agentId: '0'.repeat(24), workspaceId: '1'.repeat(24) })));
  const started = process.hrtime.bigint();
  for (const item of items) spool.append(item);
  const nanos = Number(process.hrtime.bigint() - started);
  spool.acknowledge(items);
  spool.close();
  fs.rmSync(directory, { recursive: true, force: true });
  return nanos / count / 1000;
}

async function main(): Promise<void> {
  const calls = numberArgument('calls', 3000);
  const rounds = numberArgument('rounds', 3);
  const concurrency = numberArgument('concurrency', 8);
  const results = new Map<Variant, Array<{ cpuMicrosPerCall: number; callsPerSecond: number }>>(VARIANTS.map((variant) => [variant, []]));
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of VARIANTS) {
      const result = await measureCalls(variant, calls, concurrency);
      results.get(variant)!.push(result);
      process.stderr.write(`round ${round + 1} ${variant}: ${result.cpuMicrosPerCall.toFixed(0)} µs CPU/call, ${result.callsPerSecond.toFixed(0)} calls/s\n`);
    }
  }
  const median = (values: number[]) => [...values].sort((left, right) => left - right)[Math.floor(values.length / 2)]!;
  const lowest = (values: number[]) => Math.min(...values);
  const offCpu = median(results.get('off')!.map((result) => result.cpuMicrosPerCall));
  const appends = Object.fromEntries((['never', 'batch', 'always'] as const).map((sync) => [sync, measureAppends(sync, sync === 'always' ? 2_000 : 20_000)]));
  const rows = VARIANTS.map((variant) => {
    const cpu = median(results.get(variant)!.map((result) => result.cpuMicrosPerCall));
    const best = lowest(results.get(variant)!.map((result) => result.cpuMicrosPerCall));
    const rate = median(results.get(variant)!.map((result) => result.callsPerSecond));
    const append = variant === 'off' ? '—' : `${appends[variant]!.toFixed(1)} µs`;
    return `| ${variant === 'off' ? 'no spool' : `spool, sync \`${variant}\``} | ${cpu.toFixed(0)} µs | ${best.toFixed(0)} µs | ${variant === 'off' ? '—' : `${cpu - offCpu >= 0 ? '+' : ''}${(cpu - offCpu).toFixed(0)} µs (${(((cpu - offCpu) / offCpu) * 100).toFixed(1)} %)`} | ${rate.toFixed(0)} | ${append} |`;
  });
  const body = [
    `One process runs the platform (built-in store, simulator) and the client: ${calls} JSON calls to \`/v1/chat/completions\` at`,
    `concurrency ${concurrency} after 300 warm-up calls, per variant and round (${rounds} rounds, variants alternating; medians shown).`,
    'CPU is the whole process (server, store, simulator and client), so the difference between rows is what the spool adds;',
    'the append column is `MeterSpool.append` alone (JSON line + `write(2)`, + `fdatasync` under `always`) on this disk.',
    'On a shared 2-core machine the whole-process rows move by tens of percent between rounds (compare the lowest round),',
    'more than the spool costs: the append column is the stable measure. Without a sync per event (`never`, `batch`, the',
    'default) the spool adds about one `write(2)` per call; `always` adds an `fdatasync` per call on the response path.',
    '',
    '| variant | CPU per call (median) | lowest round | median vs no spool | calls/s | one append (wall time) |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  process.stdout.write(`${body}\n\n${describeMachine()}\n`);
  if (process.argv.includes('--write')) writeBenchmarkSection('meter spool', 'npm run bench:meter-spool -- --write', body);
}

main().then(
  () => process.exit(0),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
