// Shared by the realtime tests: a real HTTP server, a test token verifier, an in-memory membership map, client helpers.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import jwt from 'jsonwebtoken';
import { io as connectClient, type Socket as ClientSocket } from 'socket.io-client';
import { createLogger } from '../../server/logger';
import { createRealtime, type Realtime } from '../../server/realtime/realtime.server';

export const TEST_SECRET = 'realtime-test-secret-realtime-test-secret';

/** A user token; `lifetimeMs` gives millisecond expiry (JWT `exp` only has seconds). */
export function signToken(userId: string, lifetimeMs = 60_000, secret = TEST_SECRET, sessionId = `session-${userId}`): string {
  return jwt.sign({ sub: userId, jti: sessionId, expiresAtMs: Date.now() + lifetimeMs }, secret, { algorithm: 'HS256' });
}

export function verifyTestToken(token: string): { userId: string; sessionId: string; expiresAt: number } {
  const payload = jwt.verify(token, TEST_SECRET, { algorithms: ['HS256'] }) as jwt.JwtPayload;
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.expiresAtMs !== 'number') throw new Error('malformed token');
  return { userId: payload.sub, sessionId: payload.jti, expiresAt: payload.expiresAtMs };
}

export interface RealtimeHarness {
  realtime: Realtime;
  url: string;
  close(): Promise<void>;
}

export async function startRealtime(options: {
  memberships: Record<string, string[]>;
  /** Session ids the harness treats as signed out. */
  endedSessions?: Set<string>;
  redisUrl?: string;
  coalesceIntervalMs?: number;
}): Promise<RealtimeHarness> {
  const httpServer = http.createServer((_request, response) => response.writeHead(404).end());
  await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
  let realtime: Realtime;
  try {
    realtime = await createRealtime({
      httpServer,
      verifyUserToken: verifyTestToken,
      isSessionActive: async ({ sessionId }) => !options.endedSessions?.has(sessionId),
      isWorkspaceMember: async (userId, workspaceId) => (options.memberships[userId] ?? []).includes(workspaceId),
      redisUrl: options.redisUrl,
      logger: createLogger({ level: 'silent' }),
      coalesceIntervalMs: options.coalesceIntervalMs,
    });
  } catch (error) {
    await new Promise((resolve) => httpServer.close(resolve));
    throw error;
  }
  const { port } = httpServer.address() as AddressInfo;
  return { realtime, url: `http://127.0.0.1:${port}`, close: () => realtime.close() };
}

export type TestClient = ClientSocket;

const openClients = new Set<ClientSocket>();

export function openClient(url: string, options: { token?: string; query?: Record<string, string> } = {}): ClientSocket {
  const client = connectClient(url, {
    auth: options.token === undefined ? {} : { token: options.token },
    query: options.query,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  openClients.add(client);
  return client;
}

export function closeAllClients(): void {
  for (const client of openClients) client.disconnect();
  openClients.clear();
}

/** Resolves when connected; rejects with the connect_error. */
export function waitForConnect(client: ClientSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('connect_error', (error) => reject(error));
  });
}

/** Resolves with the connect_error (fails if the client connects instead). */
export function waitForConnectError(client: ClientSocket): Promise<Error & { data?: unknown }> {
  return new Promise((resolve, reject) => {
    client.once('connect', () => reject(new Error('expected the connection to be refused')));
    client.once('connect_error', (error) => resolve(error));
  });
}

export async function connectAs(url: string, userId: string, lifetimeMs?: number): Promise<ClientSocket> {
  const client = openClient(url, { token: signToken(userId, lifetimeMs) });
  await waitForConnect(client);
  return client;
}

export function join(client: ClientSocket, payload: unknown): Promise<unknown> {
  return client.timeout(5000).emitWithAck('workspace:join', payload);
}

export function nextEvent<T = unknown>(client: ClientSocket, event: string, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`)), timeoutMs);
    client.once(event, (payload: T) => {
      clearTimeout(timer);
      resolve(payload);
    });
  });
}

/** Records every payload of `event` from now on. */
export function record<T = unknown>(client: ClientSocket, event: string): T[] {
  const received: T[] = [];
  client.on(event, (payload: T) => received.push(payload));
  return received;
}

export function usageUpdate(workspaceId: string, agentId: string, totals: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { workspaceId, month: '2025-01', agentRow: { agentId, tokens: 1, ...extra }, totals };
}

export const sleep = (milliseconds: number) => new Promise((resolve) => setTimeout(resolve, milliseconds));

/** Resolves once `condition` holds (checked every 10 ms); fails after `timeoutMs` naming what it waited for. */
export async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
