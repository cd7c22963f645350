// User JWTs: HS256 pinned, issuer and audience pinned, with expiry.
import jwt from 'jsonwebtoken';
import type { Config } from '../config/config';

export interface VerifiedToken {
  userId: string;
  expiresAt: number;
}

export class TokenService {
  constructor(private readonly config: Config) {}

  issue(userId: string): string {
    return jwt.sign({}, this.config.jwtSecret, {
      algorithm: 'HS256',
      subject: userId,
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
      expiresIn: this.config.jwtExpiresInSeconds,
    });
  }

  /** Throws on any invalid token (alg none, wrong secret, expired, wrong iss/aud). */
  verify(token: string): VerifiedToken {
    const payload = jwt.verify(token, this.config.jwtSecret, {
      algorithms: ['HS256'],
      issuer: this.config.jwtIssuer,
      audience: this.config.jwtAudience,
    }) as jwt.JwtPayload;
    if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') throw new Error('token without subject or expiry');
    return { userId: payload.sub, expiresAt: payload.exp * 1000 };
  }
}
