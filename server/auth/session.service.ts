// Sign-in sessions: one record per issued token, checked on every authenticated request through a short in-process
// cache, ended one at a time (sign out) or all at once (sign out everywhere, password change, password reset).
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import type { UserModels } from '../users/user.model';
import type { AuthModels } from './auth.models';
import type { TokenService, VerifiedToken } from './token.service';

/**
 * How long one instance trusts what it read about a session or a user's token version. A session ended on this
 * instance is refused here at once (the cache entry is dropped); another instance sharing the database may still
 * accept its token for up to this long. Realtime sockets of the session are disconnected on every instance at once
 * (through the Socket.IO adapter), whatever this window.
 */
export const SESSION_CACHE_TTL_MS = 5_000;
const MAX_CACHE_ENTRIES = 10_000;

export interface EndedSessions {
  userId: string;
  /** One session (sign out); absent: every session of the user. */
  sessionId?: string;
}

interface CachedSession {
  userId: string;
  tokenVersion: number;
}

interface CacheEntry<T> {
  value: T;
  expiresAt: number;
}

export class SessionService {
  private readonly sessionCache = new Map<string, CacheEntry<CachedSession | null>>();
  private readonly versionCache = new Map<string, CacheEntry<number | null>>();
  /** Bumped by every local ending: a read that started before one is used for its own request but not cached. */
  private endings = 0;
  private readonly endedListeners: Array<(ended: EndedSessions) => void> = [];

  constructor(
    private readonly models: UserModels & AuthModels,
    private readonly tokens: TokenService,
    private readonly options: { cacheTtlMs?: number } = {},
  ) {}

  onSessionsEnded(listener: (ended: EndedSessions) => void): void {
    this.endedListeners.push(listener);
  }

  /** A new session for the user at the token version just read with their password: its token. */
  async start(userId: string, tokenVersion: number): Promise<string> {
    const sessionId = crypto.randomBytes(18).toString('base64url');
    await this.models.Session.create({ _id: sessionId, userId: new Types.ObjectId(userId), tokenVersion, expiresAt: new Date(Date.now() + this.tokens.lifetimeMs) });
    return this.tokens.issue(userId, sessionId);
  }

  /** A verified token whose session still exists and was started at the user's current token version. */
  async verify(token: string): Promise<VerifiedToken | undefined> {
    let claims: VerifiedToken;
    try {
      claims = this.tokens.verify(token);
    } catch {
      return undefined;
    }
    return (await this.isActive(claims)) ? claims : undefined;
  }

  async isActive(claims: { userId: string; sessionId: string }): Promise<boolean> {
    const session = await this.readSession(claims.sessionId);
    if (!session || session.userId !== claims.userId) return false;
    return (await this.readTokenVersion(claims.userId)) === session.tokenVersion;
  }

  /** Sign out: this session's token stops working. */
  async end(userId: string, sessionId: string): Promise<void> {
    await this.models.Session.deleteOne({ _id: sessionId, userId: new Types.ObjectId(userId) });
    this.endings += 1;
    this.sessionCache.delete(sessionId);
    this.notify({ userId, sessionId });
  }

  /**
   * Sign out everywhere: the user's token version goes up (so every session started before, even one whose login
   * was still in flight, is refused) and their session records are removed. `passwordHash` is set in the same write,
   * so a password change can never leave the old sessions alive.
   */
  async endAll(userId: string, change: { passwordHash?: string } = {}): Promise<number> {
    const id = new Types.ObjectId(userId);
    const user = await this.models.User.findOneAndUpdate(
      { _id: id },
      { $inc: { tokenVersion: 1 }, ...(change.passwordHash ? { $set: { passwordHash: change.passwordHash } } : {}) },
      { new: true, projection: { tokenVersion: 1 } },
    ).lean();
    this.endings += 1;
    this.versionCache.delete(userId);
    for (const [sessionId, entry] of this.sessionCache) if (entry.value?.userId === userId) this.sessionCache.delete(sessionId);
    await this.models.Session.deleteMany({ userId: id });
    this.notify({ userId });
    return user?.tokenVersion ?? 0;
  }

  private notify(ended: EndedSessions): void {
    for (const listener of this.endedListeners) listener(ended);
  }

  private readSession(sessionId: string): Promise<CachedSession | null> {
    return this.cached(this.sessionCache, sessionId, async () => {
      const session = await this.models.Session.findById(sessionId, { userId: 1, tokenVersion: 1, expiresAt: 1 }).lean();
      // The TTL monitor removes expired records only about once a minute.
      if (!session || session.expiresAt.getTime() <= Date.now()) return null;
      return { userId: session.userId.toString(), tokenVersion: session.tokenVersion };
    });
  }

  private readTokenVersion(userId: string): Promise<number | null> {
    return this.cached(this.versionCache, userId, async () => {
      const user = await this.models.User.findById(userId, { tokenVersion: 1 }).lean();
      return user ? (user.tokenVersion ?? 0) : null;
    });
  }

  private async cached<T>(cache: Map<string, CacheEntry<T>>, key: string, read: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && hit.expiresAt > now) return hit.value;
    const endingsBefore = this.endings;
    const value = await read();
    if (this.endings === endingsBefore) {
      if (cache.size >= MAX_CACHE_ENTRIES) cache.clear();
      cache.set(key, { value, expiresAt: now + (this.options.cacheTtlMs ?? SESSION_CACHE_TTL_MS) });
    }
    return value;
  }
}
