// Prints the files of ours that one /v1 chat completion passes through, from HTTP to the meter, measured by running
// one: V8's precise coverage counts every function that ran during a single warmed-up call.
//   npm run request-path            (non-streaming)      npm run request-path -- --stream
// "Passes through" = some function of that file ran while the call was served. The provider simulator (the network
// edge), the meter's later batch write and the live dashboard push (off the response path) are not part of it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import inspector from 'node:inspector/promises';
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
    if (!script.url.startsWith('file://')) continue;
    const file = path.relative(ROOT, fileURLToPath(script.url));
    if (file.startsWith('..') || file.includes('node_modules') || !/\.ts$/.test(file)) continue;
    if (/^(scripts|test)\//.test(file) || file.startsWith('server/llm/simulator/')) continue;
    if (script.functions.some((fn) => fn.ranges.some((range) => range.count > 0))) files.add(file);
  }
  return [...files].sort();
}

let session: inspector.Session;
async function takeCoverage() {
  return (await session.post('Profiler.takePreciseCoverage')).result;
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

  console.log(`One ${stream ? 'streaming' : 'non-streaming'} /v1/chat/completions call, HTTP to the meter: ${files.length} files of ours`);
  for (const file of files) console.log(`  ${file}`);
  await platform.stop();
  await simulator.close();
  await store.close();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
