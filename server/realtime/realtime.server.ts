// Socket.IO for live dashboards: JWT handshake, workspace rooms for members only, coalesced usage updates, alerts.
import type http from 'node:http';
import { Server, type Socket } from 'socket.io';
// The Redis adapter and client are loaded only when REDIS_URL is set (they are several MB of heap otherwise unused).
type RedisAdapterModule = typeof import('@socket.io/redis-adapter');
type RedisModule = typeof import('redis');
import { z } from 'zod';
import type { Logger } from '../logger';
import { createUsageCoalescer, type UsageRowUpdate, type UsageUpdatePayload } from './usage-coalescer';

export type { UsageRowUpdate, UsageUpdatePayload } from './usage-coalescer';

export interface RealtimeDependencies {
  httpServer: http.Server;
  /** The token's user and session, or undefined (or a throw) for a bad token or an ended session. */
  verifyUserToken(token: string): Promise<VerifiedUserToken | undefined> | VerifiedUserToken | undefined;
  /** Whether the session is still active: asked again on every event from the socket. */
  isSessionActive(session: { userId: string; sessionId: string }): Promise<boolean>;
  isWorkspaceMember(userId: string, workspaceId: string): Promise<boolean>;
  /** REDIS_URL: share rooms between several instances through the Redis adapter. */
  redisUrl?: string;
  logger: Logger;
  /** At most one `usage:update` per workspace per interval. Default 250 ms. */
  coalesceIntervalMs?: number;
}

export interface VerifiedUserToken {
  userId: string;
  sessionId: string;
  expiresAt: number /* epoch ms */;
}

export interface RealtimeAlert {
  id: string;
  type: string;
  agentId: string | null;
  message: string;
  createdAt: string;
}

export interface Realtime {
  publishUsage(update: UsageRowUpdate): void;
  /**
   * Whether a usage update for this workspace could reach anyone: a socket of this instance in its room, or, with
   * the Redis adapter, possibly a socket of another instance (always true then). Lets the live publisher skip its
   * database reads for workspaces nobody is watching.
   */
  hasListeners(workspaceId: string): boolean;
  publishAlert(workspaceId: string, alert: RealtimeAlert): void;
  /**
   * A member left the workspace (removed; userId absent: the workspace was deleted): their sockets leave its room,
   * on every instance when the Redis adapter is on.
   */
  leaveWorkspace(workspaceId: string, userId?: string): void;
  /** Signed out (one session, or every session of the user): `session:expired` and disconnect, on every instance. */
  endSessions(ended: { userId: string; sessionId?: string }): void;
  /**
   * Flushes pending updates, disconnects this instance's sockets and leaves Redis. Like Socket.IO's own close(), this
   * also closes the HTTP server it is attached to (it resolves even if that server was already closed).
   */
  close(): Promise<void>;
}

export class RealtimeStartError extends Error {
  readonly code = 'REALTIME_START_FAILED';

  constructor(message: string) {
    super(message);
    this.name = 'RealtimeStartError';
  }
}

type AcknowledgementResponse = { ok: true } | { ok: false; error: { code: string } };
type Acknowledgement = (response: AcknowledgementResponse) => void;

interface ClientToServerEvents {
  'workspace:join': (payload: unknown, acknowledge?: Acknowledgement) => void;
  'workspace:leave': (payload: unknown, acknowledge?: Acknowledgement) => void;
}

interface ServerToClientEvents {
  'usage:update': (payload: UsageUpdatePayload) => void;
  alert: (alert: RealtimeAlert) => void;
  'session:expired': (payload: { code: 'TOKEN_EXPIRED' | 'SESSION_ENDED' }) => void;
}

interface SocketData {
  userId: string;
  sessionId: string;
  expiresAt: number;
}

type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>;

/**
 * Shorter than the live publisher's per-workspace minimum interval (200 ms, usage-live-publisher.ts), which already
 * throttles the pushes (≤ 5 per second per workspace): its pushes then go out at once instead of waiting for the
 * next window, which put two throttles in series (p99 call → update 426 ms at 250 ms; docs/BENCHMARKS.md).
 */
const DEFAULT_COALESCE_INTERVAL_MS = 150;
const MAXIMUM_MESSAGE_BYTES = 16 * 1024;
const MAXIMUM_TOKEN_LENGTH = 8 * 1024;
/** Per socket: events beyond this in one second are dropped; beyond three times this the socket is disconnected. */
const EVENTS_PER_SECOND = 20;
const MAXIMUM_ROOMS_PER_SOCKET = 100;
const MAXIMUM_TIMER_MS = 2 ** 31 - 1;
const REDIS_START_ATTEMPTS = 5;
const QUERY_TOKEN_PARAMETERS = ['token', 'access_token', 'jwt', 'auth', 'authorization'];

const NOT_FOUND: AcknowledgementResponse = { ok: false, error: { code: 'NOT_FOUND' } };
const workspaceRequestSchema = z.object({ workspaceId: z.string().min(1).max(128) });

export function workspaceRoom(workspaceId: string): string {
  return `workspace:${workspaceId}`;
}

/** Every socket also sits in its user's and its session's room, so sign-outs and removals reach it on any instance. */
const userRoom = (userId: string) => `user:${userId}`;
const sessionRoom = (sessionId: string) => `session:${sessionId}`;
const WORKSPACE_ROOM_PREFIX = workspaceRoom('');

function unauthorized(reason: string): Error {
  // The client sees `connect_error` with message UNAUTHORIZED; `data` says why without echoing the token.
  return Object.assign(new Error('UNAUTHORIZED'), { data: { code: 'UNAUTHORIZED', reason } });
}

/** The ack is the last argument; a client that sent no payload puts it first. */
function readArguments(payload: unknown, acknowledge: unknown): { payload: unknown; respond: Acknowledgement } {
  if (typeof payload === 'function') return { payload: undefined, respond: payload as Acknowledgement };
  return { payload, respond: typeof acknowledge === 'function' ? (acknowledge as Acknowledgement) : () => {} };
}

async function connectRedis(url: string, logger: Logger) {
  let started = false;
  let lastErrorLoggedAt = 0;
  const { createClient } = require('redis') as RedisModule;
  const publisher = createClient({
    url,
    socket: {
      // At start-up, give up after a few attempts so a wrong REDIS_URL fails the boot; once up, retry forever.
      reconnectStrategy: (retries: number) =>
        !started && retries >= REDIS_START_ATTEMPTS ? new Error('Redis unreachable') : Math.min(100 * 2 ** retries, 3000),
    },
  });
  const subscriber = publisher.duplicate();
  const clients = [publisher, subscriber];
  for (const client of clients) {
    client.on('error', (error: Error) => {
      // Logged at most every 10 s while Redis is down; the message only, as the URL may carry a password.
      if (Date.now() - lastErrorLoggedAt < 10_000) return;
      lastErrorLoggedAt = Date.now();
      logger.warn({ error: error.message }, 'redis connection error');
    });
  }
  try {
    await Promise.all(clients.map((client) => client.connect()));
    started = true;
    return clients;
  } catch {
    for (const client of clients) {
      try {
        client.destroy();
      } catch {
        // already closed
      }
    }
    throw new RealtimeStartError('Could not connect to Redis at REDIS_URL for the Socket.IO adapter');
  }
}

export async function createRealtime(deps: RealtimeDependencies): Promise<Realtime> {
  const logger = deps.logger.child({ component: 'realtime' });
  const redisClients = deps.redisUrl ? await connectRedis(deps.redisUrl, logger) : [];

  const io = new Server<ClientToServerEvents, ServerToClientEvents, Record<string, never>, SocketData>(deps.httpServer, {
    maxHttpBufferSize: MAXIMUM_MESSAGE_BYTES,
    serveClient: false, // the web UI bundles its own client
    // No `cors` option: same origin only. Tokens travel in the handshake body, never in cookies or URLs.
  });
  if (redisClients.length === 2) {
    const { createAdapter } = require('@socket.io/redis-adapter') as RedisAdapterModule;
    io.adapter(createAdapter(redisClients[0], redisClients[1]));
  }

  io.use(async (socket, next) => {
    const query = socket.handshake.query;
    if (QUERY_TOKEN_PARAMETERS.some((name) => query[name] !== undefined)) {
      // A token in a URL ends up in proxy and access logs: refused even when a valid auth.token comes along.
      return next(unauthorized('token_in_query'));
    }
    const token: unknown = (socket.handshake.auth as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > MAXIMUM_TOKEN_LENGTH) {
      return next(unauthorized('missing_token'));
    }
    let identity: VerifiedUserToken | undefined;
    try {
      identity = await deps.verifyUserToken(token);
    } catch {
      return next(unauthorized('invalid_token'));
    }
    if (typeof identity?.userId !== 'string' || typeof identity.sessionId !== 'string' || !Number.isFinite(identity.expiresAt) || identity.expiresAt <= Date.now()) {
      return next(unauthorized('invalid_token'));
    }
    socket.data.userId = identity.userId;
    socket.data.sessionId = identity.sessionId;
    socket.data.expiresAt = identity.expiresAt;
    next();
  });

  io.on('connection', (socket) => {
    void socket.join([userRoom(socket.data.userId), sessionRoom(socket.data.sessionId)]);
    const stopExpiryWatch = watchExpiry(socket);
    socket.on('disconnect', () => stopExpiryWatch());
    limitEventRate(socket);
    requireActiveSession(socket);

    socket.on('workspace:join', async (rawPayload, rawAcknowledge) => {
      const { payload, respond } = readArguments(rawPayload, rawAcknowledge);
      const parsed = workspaceRequestSchema.safeParse(payload);
      if (!parsed.success) return respond(NOT_FOUND);
      const room = workspaceRoom(parsed.data.workspaceId);
      if (!socket.rooms.has(room) && workspaceRoomCount(socket) >= MAXIMUM_ROOMS_PER_SOCKET) {
        return respond({ ok: false, error: { code: 'TOO_MANY_WORKSPACES' } });
      }
      let isMember: boolean;
      try {
        isMember = await deps.isWorkspaceMember(socket.data.userId, parsed.data.workspaceId);
      } catch (error) {
        logger.error({ err: error, workspaceId: parsed.data.workspaceId }, 'workspace membership check failed');
        return respond({ ok: false, error: { code: 'INTERNAL' } });
      }
      // Same answer for "does not exist" and "not yours", as on every HTTP route.
      if (!isMember) return respond(NOT_FOUND);
      if (socket.disconnected) return; // the token expired while we were checking
      await socket.join(room);
      // Asked again once in the room: a removal that landed during the first check (before the socket was in the
      // room to be evicted) is seen here, and one landing after this evicts the socket (leaveWorkspace).
      if (!(await deps.isWorkspaceMember(socket.data.userId, parsed.data.workspaceId).catch(() => false))) {
        await socket.leave(room);
        return respond(NOT_FOUND);
      }
      respond({ ok: true });
    });

    socket.on('workspace:leave', async (rawPayload, rawAcknowledge) => {
      const { payload, respond } = readArguments(rawPayload, rawAcknowledge);
      const parsed = workspaceRequestSchema.safeParse(payload);
      if (!parsed.success) return respond(NOT_FOUND);
      await socket.leave(workspaceRoom(parsed.data.workspaceId));
      respond({ ok: true });
    });
  });

  function workspaceRoomCount(socket: RealtimeSocket): number {
    let count = 0;
    for (const room of socket.rooms) if (room.startsWith(WORKSPACE_ROOM_PREFIX)) count += 1;
    return count;
  }

  function endSocket(socket: RealtimeSocket, code: 'TOKEN_EXPIRED' | 'SESSION_ENDED'): void {
    socket.emit('session:expired', { code });
    socket.disconnect(true);
  }

  /** Every event first asks whether the socket's session is still active (a short cache makes this cheap). */
  function requireActiveSession(socket: RealtimeSocket): void {
    socket.use((_event, next) => {
      deps.isSessionActive({ userId: socket.data.userId, sessionId: socket.data.sessionId }).then(
        (active) => {
          if (active) return next();
          if (socket.connected) endSocket(socket, 'SESSION_ENDED');
        },
        (error: unknown) => {
          logger.error({ err: error }, 'realtime session check failed');
          next(new Error('INTERNAL'));
        },
      );
    });
  }

  /** Disconnects the socket when its token expires, so a revoked session stops receiving data. */
  function watchExpiry(socket: RealtimeSocket): () => void {
    let timer: NodeJS.Timeout | undefined;
    const check = () => {
      const remaining = socket.data.expiresAt - Date.now();
      if (remaining <= 0) return endSocket(socket, 'TOKEN_EXPIRED');
      // setTimeout cannot wait longer than ~24.8 days; longer tokens are re-checked then.
      timer = setTimeout(check, Math.min(remaining, MAXIMUM_TIMER_MS));
      timer.unref();
    };
    check();
    return () => clearTimeout(timer);
  }

  function limitEventRate(socket: RealtimeSocket): void {
    let windowStartedAt = 0; // the first event opens the first window
    let eventsInWindow = 0;
    socket.use((event, next) => {
      const now = Date.now();
      if (now - windowStartedAt >= 1000) {
        windowStartedAt = now;
        eventsInWindow = 0;
      }
      eventsInWindow += 1;
      if (eventsInWindow <= EVENTS_PER_SECOND) return next();
      if (eventsInWindow > EVENTS_PER_SECOND * 3) {
        if (socket.connected) {
          logger.warn({ userId: socket.data.userId }, 'realtime client flooding events; disconnected');
          socket.disconnect(true);
        }
        return;
      }
      // Dropped: not passed on. An acknowledgement is still answered so a well-behaved client does not hang.
      const acknowledge = event[event.length - 1];
      if (typeof acknowledge === 'function') (acknowledge as Acknowledgement)({ ok: false, error: { code: 'RATE_LIMITED' } });
    });
  }

  const coalescer = createUsageCoalescer({
    intervalMs: deps.coalesceIntervalMs ?? DEFAULT_COALESCE_INTERVAL_MS,
    emit: (payload) => {
      try {
        io.to(workspaceRoom(payload.workspaceId)).emit('usage:update', payload);
      } catch (error) {
        logger.error({ err: error, workspaceId: payload.workspaceId }, 'usage:update emit failed');
      }
    },
  });

  let closed = false;

  return {
    publishUsage(update) {
      if (closed) return;
      if (typeof update?.workspaceId !== 'string' || typeof update.agentRow?.agentId !== 'string') {
        logger.warn('usage update without workspaceId or agentId ignored');
        return;
      }
      coalescer.publish(update);
    },
    hasListeners(workspaceId) {
      if (closed) return false;
      if (redisClients.length > 0) return true;
      return (io.of('/').adapter.rooms.get(workspaceRoom(workspaceId))?.size ?? 0) > 0;
    },
    publishAlert(workspaceId, alert) {
      if (closed) return;
      if (typeof workspaceId !== 'string' || workspaceId.length === 0) {
        logger.warn('alert without workspaceId ignored');
        return;
      }
      const { id, type, agentId, message, createdAt } = alert;
      io.to(workspaceRoom(workspaceId)).emit('alert', { id, type, agentId, message, createdAt });
    },
    leaveWorkspace(workspaceId, userId) {
      if (closed) return;
      const room = workspaceRoom(workspaceId);
      const sockets = userId === undefined ? io.in(room) : io.in(userRoom(userId));
      void Promise.resolve(sockets.socketsLeave(room)).catch((error: unknown) => logger.error({ err: error, workspaceId }, 'workspace eviction failed'));
    },
    endSessions(ended) {
      if (closed) return;
      const room = ended.sessionId === undefined ? userRoom(ended.userId) : sessionRoom(ended.sessionId);
      try {
        io.to(room).emit('session:expired', { code: 'SESSION_ENDED' });
        io.in(room).disconnectSockets(true);
      } catch (error) {
        logger.error({ err: error, userId: ended.userId }, 'ending realtime sessions failed');
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      coalescer.flush();
      coalescer.close();
      await io.close(); // also leaves the Redis channels (adapter.close) before the clients go
      await Promise.allSettled(redisClients.map((client) => client.close()));
    },
  };
}
