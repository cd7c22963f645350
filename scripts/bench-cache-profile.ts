// The response cache's cost per call, looked at closely (a helper of the feature-costs part of `npm run bench`):
// one Agent Host from dist/ under `--cpu-prof`, its database connection through a counting TCP proxy, then for each
// case (plain, cache miss, cache hit) a warm-up and a measured window at c1 and c10: main-thread CPU per call from
// the profile's samples in the window, the top self-time functions, and the database commands sent per call (every
// request message the driver wrote, meter batches and background work included, divided by the calls answered), and
// the store process's CPU per call (utime+stime over the window, meter writes included).
// Usage: npx tsx scripts/bench-cache-profile.ts [--seconds=5] [--top=25] [--cases=plain,cache-miss,cache-hit] [--c=1,10]
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cpuTimeMs, EXIT_WITH_PARENT_IMPORT, installCleanup, log, runLoad, sleep, stopAllChildren, waitForHttp } from './bench-support';
import { freePort, nodeChild, ROOT, SERVE, setFakeDelay, startStack } from './bench-stack';
import { registerUser, createAgent, createAgentKey } from './bench-http-setup';
import { createFeatureCases, type FeatureCase } from './bench-feature-costs';
import { newestCpuProfile, profileMarkdown, summarizeCpuProfile } from './bench-gateway';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.find((value) => value.startsWith(`--${name}=`))?.slice(name.length + 3);
const SECONDS = Number(flag('seconds') ?? 5);
const TOP = Number(flag('top') ?? 25);
const CASES = (flag('cases') ?? 'plain,plain-unique,cache-miss,cache-hit').split(',');
const CONCURRENCIES = (flag('c') ?? '1,10').split(',').map(Number);

/** A TCP proxy in front of the store that counts the wire-protocol messages the client sends (one per command). */
async function countingProxy(target: { host: string; port: number }): Promise<{ port: number; messages: () => number; close: () => void }> {
  let messages = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    let pending = Buffer.alloc(0);
    client.on('data', (chunk) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const length = pending.readInt32LE(0);
        if (pending.length < length) break;
        messages += 1;
        pending = pending.subarray(length);
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as net.AddressInfo).port, messages: () => messages, close: () => server.close() };
}

async function main(): Promise<void> {
  installCleanup();
  const stack = await startStack();
  await setFakeDelay(stack, 0);
  const owner = await registerUser(stack.agentHostUrl, 'Cache profile owner');
  const plainAgent = await createAgent(stack.agentHostUrl, owner, 'Plain agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-fake-bench-byok-0123456789abcdef' });
  const plainKey = await createAgentKey(stack.agentHostUrl, owner, plainAgent);
  const cases = (await createFeatureCases(stack.agentHostUrl, owner, plainKey)).filter((target) => CASES.includes(target.id));

  const storeUrl = new URL(stack.storeUri.replace(/^mongodb:/, 'http:'));
  const proxy = await countingProxy({ host: storeUrl.hostname, port: Number(storeUrl.port) });
  const proxiedUri = stack.storeUri.replace(`${storeUrl.hostname}:${storeUrl.port}`, `127.0.0.1:${proxy.port}`);
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-cache-prof-'));
  const port = await freePort();
  const child = nodeChild('agent host (profiled)', [EXIT_WITH_PARENT_IMPORT, ...SERVE.nodeFlags, '--cpu-prof', `--cpu-prof-dir=${directory}`, '--cpu-prof-interval=250', SERVE.script], {
    ...stack.agentHostEnv,
    MONGODB_URI: proxiedUri,
    PORT: String(port),
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, 60_000, child);
  const windows: Array<{ label: string; fromUs: number; toUs: number; ok: number; messages: number; rps: number; storeMs: number }> = [];
  const load = (target: FeatureCase, connections: number, durationSeconds: number) => {
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${target.key}` };
    return typeof target.body === 'string'
      ? runLoad({ url: `${url}/v1/chat/completions`, headers, body: target.body, connections, durationSeconds })
      : runLoad({ url: `${url}/v1/chat/completions`, headers, body: target.body(), makeBody: target.body, connections, durationSeconds });
  };
  for (const connections of CONCURRENCIES) {
    for (const target of cases) {
      await load(target, connections, 2);
      await sleep(300);
      const before = proxy.messages();
      const storeBefore = cpuTimeMs(stack.store.pid);
      const fromUs = Number(process.hrtime.bigint() / 1000n);
      const result = await load(target, connections, SECONDS);
      const toUs = Number(process.hrtime.bigint() / 1000n);
      await sleep(400); // the meter's last batch of the window
      const storeMs = (cpuTimeMs(stack.store.pid) - storeBefore) / Math.max(1, result.ok);
      windows.push({ label: `c${connections} ${target.id}`, fromUs, toUs, ok: result.ok, messages: proxy.messages() - before, rps: result.requestsPerSecond, storeMs });
      log(`c${connections} ${target.id}: ${result.ok} ok, ${result.requestsPerSecond.toFixed(0)} req/s, ${((proxy.messages() - before) / Math.max(1, result.ok)).toFixed(2)} db commands per call, store CPU ${storeMs.toFixed(3)} ms per call`);
    }
  }
  await child.stop(30_000);
  const file = newestCpuProfile(directory);
  if (!file) throw new Error('no .cpuprofile written');
  const keep = flag('keep-profile');
  if (keep) fs.copyFileSync(file, path.resolve(keep));
  for (const window of windows) {
    const summary = summarizeCpuProfile(file, window, window.ok, ROOT, TOP);
    process.stdout.write(`\n## ${window.label}: ${window.rps.toFixed(0)} req/s, ${(summary.busyMs / Math.max(1, window.ok)).toFixed(3)} ms main-thread CPU per call, ${(window.messages / Math.max(1, window.ok)).toFixed(2)} db commands per call, store CPU ${window.storeMs.toFixed(3)} ms per call\n`);
    process.stdout.write(`${profileMarkdown(summary)}\n`);
  }
  proxy.close();
  await stopAllChildren();
  process.exit(0);
}

main().catch(async (error) => {
  console.error(error);
  await stopAllChildren();
  process.exit(1);
});
