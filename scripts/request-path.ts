// Prints the files of ours that one /v1 chat completion passes through, from HTTP to the meter, by running one.
//   npm run request-path            (non-streaming)      npm run request-path -- --stream
// Two measures of one warmed-up call:
// - the path: the files on the call stack (V8 keeps awaited callers in Error.stack) where the call leaves for the
//   provider (undici creates the request) and where it reaches the meter (MeterService.record);
// - everything that ran: every file in which V8's precise coverage saw a function run during the call, helpers
//   consulted on the way included (catalog look-ups, pricing, token estimates...).
// The provider simulator (the network edge), the meter's later batch write and the dashboard push are not part of it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import inspector from 'node:inspector/promises';
import syncInspector from 'node:inspector';
import { Agent } from 'undici';
import { MeterService } from '../server/metering/meter.service';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../server/config/config';
import { startPlatform } from '../server/platform';
import { startProviderSimulator } from '../server/llm/simulator';
import { startWireStore } from '../server/db/wire-store';

const ROOT = path.resolve(__dirname, '..');
const stream = process.argv.includes('--stream');

async function json(method: string, url: string, body?: unknown, token?: string) {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${text}`);
  return text.startsWith('{') ? JSON.parse(text) : text;
}

/** Project source files (not tests, scripts, dependencies or the simulator) in which some function ran. */
function filesThatRan(coverage: Awaited<ReturnType<typeof takeCoverage>>): string[] {
  const files = new Set<string>();
  for (const script of coverage) {
    const file = ourFile(script.url);
    if (file && script.functions.some((fn) => fn.ranges.some((range) => range.count > 0))) files.add(file);
  }
  return [...files].sort();
}

/** A project source file of ours (not a test, script, dependency or the simulator), relative to the root. */
function ourFile(url: string): string | undefined {
  if (!url.startsWith('file://')) return undefined;
  const file = path.relative(ROOT, fileURLToPath(url));
  if (file.startsWith('..') || file.includes('node_modules') || !/\.ts$/.test(file)) return undefined;
  if (/^(scripts|test)\//.test(file) || file.startsWith('server/llm/simulator/') || file.endsWith('.simulator-wire.ts')) return undefined;
  return file;
}

let session: inspector.Session;
async function takeCoverage() {
  return (await session.post('Profiler.takePreciseCoverage')).result;
}

/**
 * Runs one call with the debugger stopping where it leaves for the provider (undici's Agent.dispatch) and where it
 * reaches the meter (MeterService.record); the files of every frame then on the stack, awaiting callers included.
 */
async function filesOnCallStacks(call: () => Promise<unknown>): Promise<string[]> {
  const debug = new syncInspector.Session();
  debug.connect();
  const post = (method: string, params: object = {}) =>
    new Promise<any>((resolve, reject) => debug.post(method, params, (error, result) => (error ? reject(error) : resolve(result))));
  const urls = new Map<string, string>();
  debug.on('Debugger.scriptParsed', (message) => urls.set(message.params.scriptId, message.params.url));
  const files: string[] = [];
  const add = (url: string | undefined) => {
    const file = url ? ourFile(url) : undefined;
    if (file && !files.includes(file)) files.push(file);
  };
  debug.on('Debugger.paused', (message) => {
    // Outermost first: the awaiting callers (oldest first), then the synchronous frames down to the breakpoint.
    const asyncFrames: string[] = [];
    for (let trace = message.params.asyncStackTrace; trace; trace = trace.parent) for (const frame of trace.callFrames) asyncFrames.push(frame.url);
    for (const url of asyncFrames.reverse()) add(url);
    for (const frame of [...message.params.callFrames].reverse()) add(urls.get(frame.location.scriptId));
    debug.post('Debugger.resume');
  });
  await post('Debugger.enable');
  await post('Debugger.setAsyncCallStackDepth', { maxDepth: 64 });
  (globalThis as Record<string, unknown>).requestPathProbes = [Agent.prototype.dispatch, MeterService.prototype.record];
  for (const index of [0, 1]) {
    const { result } = await post('Runtime.evaluate', { expression: `globalThis.requestPathProbes[${index}]` });
    await post('Debugger.setBreakpointOnFunctionCall', { objectId: result.objectId });
  }
  await call();
  await post('Debugger.disable');
  debug.disconnect();
  return files;
}

async function main() {
  const store = await startWireStore({ port: 0 });
  const simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0 });
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: store.uri,
    JWT_SECRET: crypto.randomBytes(32).toString('hex'),
    VAULT_KEYS: `path1:${crypto.randomBytes(32).toString('base64')}`,
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-path-')),
    LOG_LEVEL: 'warn',
  });
  // The meter writes its batch long after the call (hours here), so the window holds the call alone.
  const platform = await startPlatform({ config, logger: pino({ level: 'warn' }), simulator, databaseName: 'request_path', meterOptions: { flushIntervalMs: 3_600_000, busyFlushIntervalMs: 3_600_000 } });
  const api = platform.url;
  const { token, workspace } = await json('POST', `${api}/api/auth/register`, { email: `path-${Date.now()}@example.com`, password: 'a long enough password 1', name: 'Path' });
  const agents = `${api}/api/workspaces/${workspace.id}/agents`;
  const agent = await json('POST', agents, { name: 'Path', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'managed', plan: 'starter' } }, token);
  const { key } = await json('POST', `${agents}/${agent.id}/api-keys`, {}, token);

  const call = () => json('POST', `${api}/v1/chat/completions`, { model: agent.id, messages: [{ role: 'user', content: 'What are your hours?' }], stream }, key);
  for (let index = 0; index < 3; index += 1) await call(); // warm: lazy loads, caches and first-call set-up are not the path

  const onPath = await filesOnCallStacks(call);

  session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: false });
  await takeCoverage(); // resets the counts
  await call();
  await new Promise((resolve) => setImmediate(resolve));
  const files = filesThatRan(await takeCoverage());
  await session.post('Profiler.stopPreciseCoverage');
  session.disconnect();

  const kind = stream ? 'streaming' : 'non-streaming';
  console.log(`One ${kind} /v1/chat/completions call, HTTP to the meter — the path (files on its call stack): ${onPath.length} files of ours`);
  for (const file of onPath) console.log(`  ${file}`);
  const consulted = files.filter((file) => !onPath.includes(file));
  console.log(`Everything that ran during it: ${files.length} files; besides the path, ${consulted.length} consulted:`);
  for (const file of consulted) console.log(`  ${file}`);
  await platform.stop();
  await simulator.close();
  await store.close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
