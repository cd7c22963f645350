import { Router, type Request, type RequestHandler } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import { z } from 'zod';
import { displayNameSchema } from '../../validation/display-name';
import type { AuthService } from '../../auth/auth.service';
import type { SessionService } from '../../auth/session.service';
import { parseInput } from '../middleware/validate-request';
import { DomainError } from '../../errors/domain-error';

/** Registration, password change and reset share one rule for a new password. */
const newPassword = z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters');

export const registerSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('must be an email address').max(254),
    password: newPassword,
    name: displayNameSchema,
  })
  .strict();

export const loginSchema = z.object({ email: z.string().trim().max(254), password: z.string().max(256) }).strict();
export const changePasswordSchema = z.object({ currentPassword: z.string().min(1, 'is required').max(256), newPassword }).strict();
export const resetPasswordSchema = z.object({ token: z.string().min(1, 'is required').max(128), newPassword }).strict();

export interface AuthRateLimits {
  loginFailuresPerWindow: number;
  registrationsPerWindow: number;
  windowMs: number;
}

/** One attempt limiter: `limit` requests per window (only failed ones with `failuresOnly`), then 429 with `message`. */
function attemptLimiter(options: { windowMs: number; limit: number; failuresOnly: boolean; message: string; key?: (request: Request) => string; headers?: boolean }) {
  return rateLimit({
    windowMs: options.windowMs,
    limit: options.limit,
    skipSuccessfulRequests: options.failuresOnly,
    standardHeaders: options.headers === false ? false : 'draft-7',
    legacyHeaders: false,
    ...(options.key ? { keyGenerator: options.key } : {}),
    handler: (_request, _response, next) => next(new DomainError('TOO_MANY_ATTEMPTS', options.message)),
  });
}

export function createAuthRouter(auth: AuthService, sessions: SessionService, authenticate: RequestHandler, limits: AuthRateLimits): Router {
  const router = Router();
  const { windowMs, loginFailuresPerWindow } = limits;
  // Failed logins per IP and email: many wrong passwords → 429, so the endpoint is no endless oracle.
  const loginLimiter = attemptLimiter({
    windowMs,
    limit: loginFailuresPerWindow,
    failuresOnly: true,
    key: (request) => `${ipKeyGenerator(request.ip ?? '')}|${typeof request.body?.email === 'string' ? request.body.email.trim().toLowerCase() : ''}`,
    message: 'Too many failed sign-in attempts. Wait a few minutes and try again.',
  });
  // And per address alone, so trying many different emails from one place is limited too.
  const loginAddressLimiter = attemptLimiter({
    windowMs,
    limit: loginFailuresPerWindow * 5,
    failuresOnly: true,
    headers: false,
    message: 'Too many failed sign-in attempts from this address. Wait a few minutes and try again.',
  });
  const registerLimiter = attemptLimiter({ windowMs, limit: limits.registrationsPerWindow, failuresOnly: false, message: 'Too many sign-ups from this address. Try again later.' });
  // Wrong current passwords per account: a stolen token must not become a way to guess the password.
  const changePasswordLimiter = attemptLimiter({
    windowMs,
    limit: loginFailuresPerWindow,
    failuresOnly: true,
    key: (request) => `user|${request.user?.userId ?? ''}`,
    message: 'Too many wrong passwords. Wait a few minutes and try again.',
  });
  // Failed reset redemptions per address, like failed logins.
  const resetLimiter = attemptLimiter({ windowMs, limit: loginFailuresPerWindow, failuresOnly: true, message: 'Too many failed reset attempts from this address. Wait a few minutes and try again.' });

  router.post('/api/auth/register', registerLimiter, async (request, response) => {
    const input = parseInput(registerSchema, request.body);
    response.status(201).json(await auth.register(input));
  });

  router.post('/api/auth/login', loginAddressLimiter, loginLimiter, async (request, response) => {
    const input = parseInput(loginSchema, request.body);
    response.json(await auth.login(input));
  });

  router.get('/api/auth/me', authenticate, async (request, response) => {
    response.json(await auth.me(request.user!.userId));
  });

  router.post('/api/auth/password', authenticate, changePasswordLimiter, async (request, response) => {
    const input = parseInput(changePasswordSchema, request.body);
    response.json(await auth.changePassword(request.user!.userId, input));
  });

  router.post('/api/auth/reset', resetLimiter, async (request, response) => {
    const input = parseInput(resetPasswordSchema, request.body);
    response.json(await auth.resetPassword(input));
  });

  router.post('/api/auth/sign-out', authenticate, async (request, response) => {
    await sessions.end(request.user!.userId, request.user!.sessionId);
    response.status(204).end();
  });

  router.post('/api/auth/sign-out-everywhere', authenticate, async (request, response) => {
    await sessions.endAll(request.user!.userId);
    response.status(204).end();
  });
  return router;
}
