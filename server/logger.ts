// The platform's logger: pino with redaction configured once, so secrets never reach a log line.
import pino, { type Logger, type DestinationStream } from 'pino';

export const REDACTED_PATHS = [
  'authorization',
  'apiKey',
  'key',
  'password',
  'token',
  'secret',
  'jwtSecret',
  'vaultKeys',
  '*.authorization',
  '*.apiKey',
  '*.key',
  '*.password',
  '*.token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.body.apiKey',
  'req.body.key',
  'req.body.password',
  'body.apiKey',
  'body.password',
  'body.key',
  'res.headers["set-cookie"]',
];

/** `worker`: the cluster slot of this process (server/worker-cluster.ts), on every line it logs. */
export function createLogger(options: { level: string; destination?: DestinationStream; worker?: number }): Logger {
  return pino(
    {
      level: options.level,
      base: options.worker === undefined ? { service: 'agent-host' } : { service: 'agent-host', worker: options.worker },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
    },
    options.destination,
  );
}

export type { Logger };
