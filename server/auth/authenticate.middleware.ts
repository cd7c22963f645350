// passport-jwt verifies the user token on every /api route that needs a user; its session must still be active.
import passport from 'passport';
import { Strategy as JwtStrategy, ExtractJwt } from 'passport-jwt';
import type { RequestHandler } from 'express';
import type { Config } from '../config/config';
import { unauthorized } from '../errors/domain-error';
import { jwtSecretKey, readTokenClaims } from './token.service';
import type { SessionService } from './session.service';

export function createAuthenticateMiddleware(config: Config, sessions: SessionService): RequestHandler {
  const authenticator = new passport.Passport();
  authenticator.use(
    new JwtStrategy(
      {
        jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
        // A KeyObject (jsonwebtoken accepts it; the typings only list string | Buffer): see jwtSecretKey.
        secretOrKey: jwtSecretKey(config) as unknown as string,
        algorithms: ['HS256'],
        issuer: config.jwtIssuer,
        audience: config.jwtAudience,
      },
      (payload: { sub?: unknown; jti?: unknown; exp?: unknown }, done: (error: unknown, user?: Express.User | false) => void) => {
        const claims = readTokenClaims(payload);
        if (!claims) return done(null, false);
        sessions.isActive(claims).then(
          (active) => done(null, active ? { userId: claims.userId, sessionId: claims.sessionId, tokenExpiresAt: claims.expiresAt } : false),
          // A database failure is no reason to sign the user out: it goes on as itself (503), not as a 401.
          (error: unknown) => done(error),
        );
      },
    ),
  );
  const middleware = authenticator.initialize();
  return (request, response, next) => {
    middleware(request, response, () => {
      authenticator.authenticate('jwt', { session: false }, (error: unknown, user: Express.User | false) => {
        if (error) return next(error);
        if (!user) return next(unauthorized('A valid sign-in token is required.'));
        request.user = user;
        next();
      })(request, response, next);
    });
  };
}
