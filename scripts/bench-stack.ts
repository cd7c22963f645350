// The processes `npm run bench` measures and how it starts them: the built-in store, the fake provider and Agent Host
// from dist/ run exactly as `npm run serve` runs it in production; the bare node:http floor and Portkey beside them;
// the fake's delay; and a watcher that waits until the meter has written every answered call.
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { serveCommand } from './serve-command';
import { EXIT_WITH_PARENT_IMPORT, fmt, log, sleep, startChild, waitForHttp, type Child } from './bench-support';

export const ROOT = path.resolve(__dirname, '..');

/** Agent Host runs exactly as `npm run serve` (and the Procfile) runs it in production (scripts/serve-command.ts). */
export const SERVE = serveCommand();

export const STORE_DB = 'agent_host';

/**
 * The environment every benchmark gives Agent Host: production mode, its own secrets, the store, and the OpenAI
 * backend (BYOK base URL and the Pro plan's pool) on the fake provider. Add PORT and the settings of `npm run serve`.
 */
export function benchServerEnv(options: { storeUri: string; fakeUrl: string; dataDir: string }): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn',
    MONGODB_URI: options.storeUri,
    JWT_SECRET: crypto.randomBytes(48).toString('base64url'),
    VAULT_KEYS: `bench1:${crypto.randomBytes(32).toString('base64')}`,
    DATA_DIR: options.dataDir,
    OPENAI_BASE_URL: `${options.fakeUrl}/v1`,
    OPENAI_POOL_KEYS: 'sk-bench-pool',
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export function nodeChild(name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  return startChild(name, process.execPath, args, { cwd: ROOT, env });
}

export function parseJsonLine(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

/** A temporary DATA_DIR for one benchmark's Agent Host, removed when the benchmark exits. */
export function benchDataDir(prefix: string): string {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
  return dataDir;
}

export interface Backends {
  store: Child;
  storeUri: string;
  fake: Child;
  fakeUrl: string;
}

/** The built-in store and the fake provider, each in its own process; `storeFlags` are the store's node flags. */
export async function startBackends(storeFlags: string[] = []): Promise<Backends> {
  const store = nodeChild('wire store', [...storeFlags, '--import', 'tsx', 'scripts/wire-store-server.ts', '--port', '0', '--exit-with-parent'], {
    ...process.env,
    LOG_LEVEL: 'warn',
  });
  const storeUri = String(parseJsonLine(await store.waitForLine((line) => line.startsWith('{"uri"'), 30_000)).uri);
  const fake = nodeChild('fake provider', ['--import', 'tsx', 'scripts/bench-fake-provider.ts']);
  const fakePort = Number(parseJsonLine(await fake.waitForLine((line) => line.startsWith('{"port"'), 30_000)).port);
  return { store, storeUri, fake, fakeUrl: `http://127.0.0.1:${fakePort}` };
}

/** Runs the migrations from the build (dist/) with Agent Host's environment. */
export async function runMigrations(env: NodeJS.ProcessEnv): Promise<void> {
  const migrate = nodeChild('migrations', ['dist/migrations/run-migrations.js'], env);
  const migrated = await migrate.exited;
  if (migrated !== 0) throw new Error(`migrations failed (exit ${migrated}):\n${migrate.tail.join('\n')}`);
}

/**
 * Starts Agent Host on `port` (a free one when not given) with `env` plus PORT, and waits for its /health. It runs as
 * `npm run serve` runs it (SERVE's node flags and script, from dist/) after `flags`; `command` replaces SERVE's flags
 * and script (e.g. `--import tsx server/main.ts`, from source).
 */
export async function startAgentHost(options: { env: NodeJS.ProcessEnv; port?: number; flags?: string[]; command?: string[]; startTimeoutMs?: number }): Promise<{ child: Child; url: string }> {
  const port = options.port ?? (await freePort());
  const command = options.command ?? [...SERVE.nodeFlags, SERVE.script];
  const child = nodeChild('agent host', [EXIT_WITH_PARENT_IMPORT, ...(options.flags ?? []), ...command], { ...options.env, PORT: String(port) });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/health`, options.startTimeoutMs ?? 90_000, child);
  return { child, url };
}

export interface Stack {
  store: Child;
  storeUri: string;
  fake: Child;
  fakeUrl: string;
  agentHostEnv: NodeJS.ProcessEnv;
  agentHost: Child;
  agentHostUrl: string;
}

export async function startStack(): Promise<Stack> {
  // 1. The built-in store (own process; a large heap for the 10M-event month), 2. the fake provider.
  const { store, storeUri, fake, fakeUrl } = await startBackends(['--max-old-space-size=16384']);
  log(`store ${storeUri}, fake provider ${fakeUrl}`);

  // 3. Agent Host from the build, production settings, its primary OpenAI backend and BYOK base URL on the fake.
  const dataDir = benchDataDir('agent-host-bench-');
  const port = await freePort();
  const agentHostEnv: NodeJS.ProcessEnv = {
    ...benchServerEnv({ storeUri, fakeUrl, dataDir }),
    PORT: String(port),
    // Passed through for experiments (e.g. METER_FLUSH_INTERVAL_MS=50 npm run bench -- --concurrencies=1).
    ...(process.env.METER_FLUSH_INTERVAL_MS ? { METER_FLUSH_INTERVAL_MS: process.env.METER_FLUSH_INTERVAL_MS } : {}),
    ...(process.env.METER_BUSY_FLUSH_INTERVAL_MS ? { METER_BUSY_FLUSH_INTERVAL_MS: process.env.METER_BUSY_FLUSH_INTERVAL_MS } : {}),
    ...SERVE.env,
    ...(process.env.AGENT_HOST_NODE_OPTIONS ? { NODE_OPTIONS: process.env.AGENT_HOST_NODE_OPTIONS } : {}),
  };
  await runMigrations(agentHostEnv);
  const { child: agentHost, url: agentHostUrl } = await startAgentHost({ env: agentHostEnv, port, startTimeoutMs: 60_000 });
  log(`Agent Host ${agentHostUrl} (pid ${agentHost.pid}, NODE_ENV=production, LOG_LEVEL=warn)`);
  return { store, storeUri, fake, fakeUrl, agentHostEnv, agentHost, agentHostUrl };
}

/**
 * The floors: a bare node:http JSON forwarder to the fake (scripts/bench-floor-forwarder.ts), and the same with the
 * call made through the official openai SDK (scripts/bench-sdk-floor.ts), with the server's memory flags.
 */
export async function startFloorForwarder(fakeUrl: string, script = 'scripts/bench-floor-forwarder.ts'): Promise<{ child: Child; url: string }> {
  const child = nodeChild(script, [...SERVE.nodeFlags, '--import', 'tsx', script], { PATH: process.env.PATH, UPSTREAM: fakeUrl });
  const port = Number(parseJsonLine(await child.waitForLine((line) => line.startsWith('{"port"'), 30_000)).port);
  return { child, url: `http://127.0.0.1:${port}` };
}

export async function setFakeDelay(stack: Stack, ms: number): Promise<void> {
  const response = await fetch(`${stack.fakeUrl}/__bench/delay?ms=${ms}`, { method: 'POST' });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`fake provider: could not set delay (${response.status})`);
}

export async function startPortkey(): Promise<{ child: Child; url: string }> {
  const port = await freePort();
  const child = nodeChild('portkey', [EXIT_WITH_PARENT_IMPORT, 'node_modules/@portkey-ai/gateway/build/start-server.js', '--headless', `--port=${port}`], {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHttp(`${url}/`, 60_000, child);
  log(`Portkey gateway ${url} (pid ${child.pid})`);
  return { child, url };
}

/** Waits until the platform's meter has written every event of the calls made so far (it runs off the response path). */
export function meterWatcher(storeUri: string, databaseName = STORE_DB) {
  let expected = 0;
  let client: MongoClient | undefined;
  return {
    async caughtUp(okCalls: number): Promise<void> {
      expected += okCalls;
      client ??= await MongoClient.connect(storeUri, { maxPoolSize: 1 });
      const collection = client.db(databaseName).collection('token_meter');
      const started = Date.now();
      for (;;) {
        const count = await collection.estimatedDocumentCount();
        if (count >= expected) break;
        if (Date.now() - started > 120_000) throw new Error(`meter did not catch up: ${count} events written, ${expected} calls answered`);
        await sleep(100);
      }
      const waited = Date.now() - started;
      if (waited > 500) log(`(waited ${(waited / 1000).toFixed(1)} s for the meter to write ${fmt.int(expected)} events)`);
      await sleep(200);
    },
    /**
     * After calls the benchmark did not count (a second, profiled Agent Host on the same database): waits until the
     * count stops moving and takes it as the new base, so `exactly` keeps checking only the calls counted after it.
     */
    async settle(): Promise<void> {
      client ??= await MongoClient.connect(storeUri, { maxPoolSize: 1 });
      const collection = client.db(databaseName).collection('token_meter');
      let last = -1;
      for (let stable = 0; stable < 5; ) {
        const count = await collection.countDocuments();
        stable = count === last ? stable + 1 : 0;
        last = count;
        await sleep(200);
      }
      expected = last;
    },
    /** After `caughtUp`: true when there is exactly one event per answered call so far (none lost, none twice). */
    async exactly(okCalls: number): Promise<boolean> {
      await this.caughtUp(okCalls);
      return (await client!.db(databaseName).collection('token_meter').countDocuments()) === expected;
    },
    async close() {
      await client?.close();
    },
  };
}

