// Starts a real platform on loopback for a test: built-in store (or MONGODB_URI), its own provider simulator, logs captured.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { loadConfig } from '../../server/config/config';
import { POOLED_PROVIDER_IDS, providerEnvName } from '../../server/config/provider-ids';
import { createLogger } from '../../server/logger';
import { startPlatform, type Platform, type PlatformOptions } from '../../server/platform';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { getTestMongoUri, uniqueDatabaseName } from './test-database';

/** A provider key that must never appear in any response body or log line of the whole suite. */
export const CANARY_PROVIDER_KEY = 'sk-canary-0123456789abcdefCANARY9876';

/** Everything any test platform logged and every response body the api helper saw (checked after the suite). */
export const capturedLogLines: string[] = [];
export const capturedResponseBodies: string[] = [];

export const TEST_JWT_SECRET = 'test-jwt-secret-that-is-long-enough-0123456789';

export interface TestPlatform {
  platform: Platform;
  url: string;
  simulator: SimulatorHandle;
  logs: string[];
  stop(): Promise<void>;
}

export interface TestPlatformOptions extends Partial<Omit<PlatformOptions, 'config' | 'logger' | 'simulator'>> {
  env?: Record<string, string>;
  simulator?: SimulatorHandle;
}

export async function startTestPlatform(options: TestPlatformOptions = {}): Promise<TestPlatform> {
  const simulator = options.simulator ?? (await startProviderSimulator({ host: '127.0.0.1', port: 0 }));
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-test-'));
  const mongoUri = await getTestMongoUri();
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    PORT: '0',
    HOST: '127.0.0.1',
    MONGODB_URI: mongoUri,
    JWT_SECRET: TEST_JWT_SECRET,
    VAULT_KEYS: `test1:${crypto.randomBytes(32).toString('base64')}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'info',
    ...Object.fromEntries(POOLED_PROVIDER_IDS.map((id) => [`${providerEnvName(id)}_BASE_URL`, simulator.baseUrls[id]])),
    ...options.env,
  };
  const config = loadConfig(env);
  const logs: string[] = [];
  // The production logger factory (its redaction is what the suite checks), writing into the captured lines.
  const logger = createLogger({
    level: config.logLevel,
    destination: {
      write(line: string) {
        logs.push(line);
        capturedLogLines.push(line);
      },
    },
  });
  const platform = await startPlatform({
    config,
    logger,
    simulator,
    databaseName: options.databaseName ?? uniqueDatabaseName('test'),
    authRateLimits: { loginFailuresPerWindow: 1000, registrationsPerWindow: 10_000, ...options.authRateLimits },
    meterOptions: options.meterOptions,
    meterSpool: options.meterSpool,
    retryPolicy: { baseDelayMs: 20, maxDelayMs: 200, ...options.retryPolicy },
    realtimeCoalesceMs: options.realtimeCoalesceMs,
    drainTimeoutMs: options.drainTimeoutMs,
    webhookDelivery: options.webhookDelivery,
    // The background key checker would add provider calls to tests that count them: only the tests that want it run it.
    keyCheck: options.keyCheck ?? false,
    alertSweepIntervalMs: options.alertSweepIntervalMs,
    statements: options.statements,
    publicChatLimits: options.publicChatLimits,
  });
  return {
    platform,
    url: platform.url,
    simulator,
    logs,
    async stop() {
      await platform.stop();
      if (!options.simulator) await simulator.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

/** Real HTTP against the listening server; records every response body for the canary check. */
export async function api<T = any>(
  baseUrl: string,
  method: string,
  urlPath: string,
  options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) {
    body = options.rawBody;
    headers['content-type'] ??= 'application/json';
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(`${baseUrl}${urlPath}`, { method, headers, body });
  const text = await response.text();
  capturedResponseBodies.push(text);
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON (CSV, SSE)
  }
  return { status: response.status, body: parsed as T, text, headers: response.headers };
}

let userCounter = 0;

export interface TestUser {
  token: string;
  user: { id: string; email: string; name: string };
  workspace: { id: string; name: string; role: string };
  email: string;
  password: string;
}

export async function registerUser(baseUrl: string, name = 'Test User'): Promise<TestUser> {
  userCounter += 1;
  const email = `user${userCounter}-${crypto.randomBytes(4).toString('hex')}@example.com`;
  const password = 'correct horse battery staple';
  const response = await api(baseUrl, 'POST', '/api/auth/register', { body: { email, password, name } });
  if (response.status !== 201) throw new Error(`register failed: ${response.status} ${response.text}`);
  return { ...response.body, email, password };
}

export async function createAgent(baseUrl: string, user: TestUser, llm: Record<string, unknown> = { mode: 'managed', plan: 'pro' }, extra: Record<string, unknown> = {}) {
  const response = await api(baseUrl, 'POST', `/api/workspaces/${user.workspace.id}/agents`, {
    token: user.token,
    body: { name: 'Test agent', templateId: 'faq-bot', variables: { businessName: 'Acme & Sons' }, llm, ...extra },
  });
  if (response.status !== 201) throw new Error(`create agent failed: ${response.status} ${response.text}`);
  return response.body;
}

export async function createAgentApiKey(baseUrl: string, user: TestUser, agentId: string): Promise<string> {
  const response = await api(baseUrl, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/api-keys`, { token: user.token });
  if (response.status !== 201) throw new Error(`create api key failed: ${response.status} ${response.text}`);
  return response.body.key;
}
