// Runs one platform as a child process (the crash test, `npm run soak`): config from the environment, the production
// logger on stderr, then one line `{"url": ...}` on stdout. PLATFORM_DATABASE_NAME picks the database; SIGTERM stops
// it gracefully; SIGKILL is what the tests use to crash it. PLATFORM_FAST_RETRIES / PLATFORM_ATTEMPT_TIMEOUT_MS shorten
// the LLM router's backoff and attempt timeout.
import pino from 'pino';
import { loadConfig } from '../../server/config/config';
import { createLogger } from '../../server/logger';
import { startPlatform } from '../../server/platform';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel, destination: pino.destination(2) });
  const platform = await startPlatform({
    config,
    logger,
    databaseName: process.env.PLATFORM_DATABASE_NAME,
    retryPolicy: {
      ...(process.env.PLATFORM_FAST_RETRIES === 'true' ? { baseDelayMs: 20, maxDelayMs: 200 } : {}),
      ...(process.env.PLATFORM_ATTEMPT_TIMEOUT_MS ? { attemptTimeoutMs: Number(process.env.PLATFORM_ATTEMPT_TIMEOUT_MS) } : {}),
    },
    authRateLimits: { loginFailuresPerWindow: 10_000, registrationsPerWindow: 10_000 },
  });
  process.stdout.write(`${JSON.stringify({ url: platform.url, pid: process.pid })}\n`);
  const stop = () => {
    platform.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // Never outlive the parent (a test or the soak killed with SIGKILL).
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop();
  }, 500).unref();
}

main().catch((error: Error) => {
  process.stderr.write(`platform child failed: ${error.stack ?? error.message}\n`);
  process.exit(1);
});
