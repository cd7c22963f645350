import { Router } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import { z } from 'zod';
import { displayNameSchema } from '../../validation/display-name';
import type { AuthService } from '../../auth/auth.service';
import { parseInput } from '../middleware/validate-request';
import { DomainError } from '../../errors/domain-error';

const registerSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('must be an email address').max(254),
    password: z.string().min(8, 'must be at least 8 characters').max(256, 'must be at most 256 characters'),
    name: displayNameSchema,
  })
  .strict();

const loginSchema = z.object({ email: z.string().trim().max(254), password: z.string().max(256) }).strict();

export interface AuthRateLimits {
  loginFailuresPerWindow: number;
  registrationsPerWindow: number;
  windowMs: number;
}

const tooMany = (message: string) => () => new DomainError('TOO_MANY_ATTEMPTS', message);

export function createAuthRouter(auth: AuthService, authenticate: import('express').RequestHandler, limits: AuthRateLimits): Router {
  const router = Router();
  // Failed logins per IP and email: many wrong passwords → 429, so the endpoint is no endless oracle.
  const loginLimiter = rateLimit({
    windowMs: limits.windowMs,
    limit: limits.loginFailuresPerWindow,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    keyGenerator: (request) => `${ipKeyGenerator(request.ip ?? '')}|${typeof request.body?.email === 'string' ? request.body.email.trim().toLowerCase() : ''}`,
    handler: (_request, _response, next) => next(tooMany('Too many failed sign-in attempts. Wait a few minutes and try again.')()),
  });
  // And per address alone, so trying many different emails from one place is limited too.
  const loginAddressLimiter = rateLimit({
    windowMs: limits.windowMs,
    limit: limits.loginFailuresPerWindow * 5,
    skipSuccessfulRequests: true,
    standardHeaders: false,
    legacyHeaders: false,
    handler: (_request, _response, next) => next(tooMany('Too many failed sign-in attempts from this address. Wait a few minutes and try again.')()),
  });
  const registerLimiter = rateLimit({
    windowMs: limits.windowMs,
    limit: limits.registrationsPerWindow,
    standardHeaders: 'draft-7',
    legacyHeaders: false,
    handler: (_request, _response, next) => next(tooMany('Too many sign-ups from this address. Try again later.')()),
  });

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
  return router;
}
