// The express application: security headers, body limits, request ids and logging, routers, one error middleware.
import crypto from 'node:crypto';
import path from 'node:path';
import fs from 'node:fs';
import express, { type Router } from 'express';
import helmet from 'helmet';
import compression from 'compression';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../logger';
import { errorHandler, notFoundHandler } from './middleware/error-handler';
import { assertUtf8Body } from './request-encoding';

/** Security headers of every response (also captured once for /v1, which is served before Express). */
export const HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  contentSecurityPolicy: {
    directives: { defaultSrc: ["'self'"], connectSrc: ["'self'", 'ws:', 'wss:'], imgSrc: ["'self'", 'data:'], styleSrc: ["'self'", "'unsafe-inline'"] },
  },
};

export interface AppOptions {
  logger: Logger;
  jsonBodyLimit: string;
  trustProxy: boolean;
  routers: Router[];
  isDatabaseUp(): Promise<boolean>;
  clientDirectory?: string;
}

export function createApp(options: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.set('etag', false);
  app.use(helmet(HELMET_OPTIONS));
  app.use(
    pinoHttp({
      logger: options.logger,
      // Request ids are ours, never the client's (they key billing events); a client's id is logged beside it.
      genReqId: (request, response) => {
        const id = `req_${crypto.randomUUID().replace(/-/g, '')}`;
        response.setHeader('X-Request-Id', id);
        return id;
      },
      customProps: (request) => {
        const clientRequestId = request.headers['x-request-id'];
        return typeof clientRequestId === 'string' ? { clientRequestId: clientRequestId.slice(0, 100) } : {};
      },
      serializers: {
        req: (request: { id: string; method: string; url: string }) => ({ id: request.id, method: request.method, url: request.url }),
        res: (response: { statusCode: number }) => ({ statusCode: response.statusCode }),
      },
      customLogLevel: (_request, response, error) => (error || response.statusCode >= 500 ? 'error' : 'info'),
      autoLogging: { ignore: (request) => request.url === '/health' },
    }),
  );
  // Delivery (experience-b): brotli or gzip by Accept-Encoding; never for SSE, which must reach the client per event.
  app.use(compression({ filter: shouldCompress }));
  app.use(express.json({ limit: options.jsonBodyLimit, strict: true, verify: (_request, _response, body) => assertUtf8Body(body) }));

  app.get('/health', async (_request, response) => {
    const up = await options.isDatabaseUp();
    response.status(up ? 200 : 503).json({ status: up ? 'ok' : 'degraded', db: up ? 'up' : 'down' });
  });
  for (const router of options.routers) app.use(router);

  app.use(['/api', '/v1'], notFoundHandler);
  const clientDirectory = options.clientDirectory;
  if (clientDirectory && fs.existsSync(path.join(clientDirectory, 'index.html'))) {
    // Vite's hashed file names change with their content: cached for a year, immutable. Everything else revalidates.
    app.use('/assets', express.static(path.join(clientDirectory, 'assets'), { index: false, immutable: true, maxAge: '365d' }), notFoundHandler);
    app.use(express.static(clientDirectory, { index: false, maxAge: 0, setHeaders: (response) => response.setHeader('Cache-Control', 'no-cache') }));
    // The single-page app answers every other GET.
    app.get(/^\/(?!api\/|v1\/|socket\.io\/).*/, (_request, response) => response.sendFile(path.join(clientDirectory, 'index.html'), { headers: { 'Cache-Control': 'no-cache' } }));
  }
  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/** Compress what compression's default filter would, except event streams (each SSE event must go out at once). */
export function shouldCompress(request: express.Request, response: express.Response): boolean {
  const type = String(response.getHeader('Content-Type') ?? '');
  if (type.startsWith('text/event-stream')) return false;
  return compression.filter(request, response);
}
