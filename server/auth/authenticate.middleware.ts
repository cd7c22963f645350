// passport-jwt verifies the user token on every /api route that needs a user.
import passport from 'passport';
import { Strategy as JwtStrategy, ExtractJwt } from 'passport-jwt';
import type { RequestHandler } from 'express';
import type { Config } from '../config/config';
import { unauthorized } from '../errors/domain-error';
import { jwtSecretKey } from './token.service';

export function createAuthenticateMiddleware(config: Config): RequestHandler {
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
      (payload: { sub?: unknown; exp?: unknown }, done: (error: unknown, user?: Express.User | false) => void) => {
        if (typeof payload.sub !== 'string' || !/^[a-f0-9]{24}$/.test(payload.sub) || typeof payload.exp !== 'number') return done(null, false);
        return done(null, { userId: payload.sub, tokenExpiresAt: payload.exp * 1000 });
      },
    ),
  );
  const middleware = authenticator.initialize();
  return (request, response, next) => {
    middleware(request, response, () => {
      authenticator.authenticate('jwt', { session: false }, (error: unknown, user: Express.User | false) => {
        if (error || !user) return next(unauthorized('A valid sign-in token is required.'));
        request.user = user;
        next();
      })(request, response, next);
    });
  };
}
