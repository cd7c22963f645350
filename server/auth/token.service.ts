// User JWTs: HS256 pinned, issuer and audience pinned, with expiry; each names its session (`jti`, auth.models.ts).
import { createSecretKey, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Config } from '../config/config';

/**
 * The HS256 secret as a KeyObject, made once. Given a string, jsonwebtoken first tries to parse it as a public key
 * (an OpenSSL parse that throws) on every sign and verify: ~0.5 ms per authenticated request.
 */
export function jwtSecretKey(config: Config): KeyObject {
  return createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
}

export interface VerifiedToken {
  userId: string;
  sessionId: string;
  expiresAt: number;
}

/** What a token must carry: a user id, a session id and an expiry. Tokens from before sessions (no `jti`) are refused. */
export function readTokenClaims(payload: { sub?: unknown; jti?: unknown; exp?: unknown }): VerifiedToken | undefined {
  if (typeof payload.sub !== 'string' || !/^[a-f0-9]{24}$/.test(payload.sub)) return undefined;
  if (typeof payload.jti !== 'string' || !/^[A-Za-z0-9_-]{16,64}$/.test(payload.jti) || typeof payload.exp !== 'number') return undefined;
  return { userId: payload.sub, sessionId: payload.jti, expiresAt: payload.exp * 1000 };
}

export class TokenService {
  private readonly secretKey: KeyObject;

  constructor(private readonly config: Config) {
    this.secretKey = jwtSecretKey(config);
  }

  get lifetimeMs(): number {
    return this.config.jwtExpiresInSeconds * 1000;
  }

  issue(userId: string, sessionId: string): string {
    return jwt.sign({}, this.secretKey, {
      algorithm: 'HS256',
      subject: userId,
      jwtid: sessionId,
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
      expiresIn: this.config.jwtExpiresInSeconds,
    });
  }

  /** Throws on any invalid token (alg none, wrong secret, expired, wrong iss/aud, no session id). */
  verify(token: string): VerifiedToken {
    const payload = jwt.verify(token, this.secretKey, {
      algorithms: ['HS256'],
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
    }) as jwt.JwtPayload;
    const claims = readTokenClaims(payload);
    if (!claims) throw new Error('token without subject, session or expiry');
    return claims;
  }
}
