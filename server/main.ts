// Entry point of `npm start`: load config, start the platform, stop gracefully on SIGTERM/SIGINT.
import { loadConfig, ConfigError } from './config/config';
import { createLogger } from './logger';
import { startPlatform } from './platform';
import cluster from 'node:cluster';
import { runWorkerCluster } from './worker-cluster';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Agent Host cannot start: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, worker: config.workerSlot });
  if (config.webConcurrency > 1 && cluster.isPrimary) {
    await runWorkerCluster(config, logger);
    return;
  }
  const platform = await startPlatform({ config, logger });
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const forceExit = setTimeout(() => process.exit(1), 30_000);
    forceExit.unref();
    platform.stop().then(
      () => process.exit(0),
      (error) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error) => {
  process.stderr.write(`Agent Host failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
