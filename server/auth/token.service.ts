// User JWTs: HS256 pinned, issuer and audience pinned, with expiry.
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
  expiresAt: number;
}

export class TokenService {
  private readonly secretKey: KeyObject;

  constructor(private readonly config: Config) {
    this.secretKey = jwtSecretKey(config);
  }

  issue(userId: string): string {
    return jwt.sign({}, this.secretKey, {
      algorithm: 'HS256',
      subject: userId,
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
      expiresIn: this.config.jwtExpiresInSeconds,
    });
  }

  /** Throws on any invalid token (alg none, wrong secret, expired, wrong iss/aud). */
  verify(token: string): VerifiedToken {
    const payload = jwt.verify(token, this.secretKey, {
      algorithms: ['HS256'],
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
    }) as jwt.JwtPayload;
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new Error('token without subject or expiry');
    return { userId: payload.sub, expiresAt: payload.exp * 1000 };
  }
}
