// WEB_CONCURRENCY > 1: this process becomes the primary of a node:cluster. It owns what there must be one of — the
// local database when MONGODB_URI is unset, the migrations — then forks one worker per slot; the workers share the
// port (the primary hands out connections round-robin) and each runs a whole platform (server/platform.ts).
//
// What stays exact across workers: limits and the meter live in the database (guarded rollups, reservations); each
// worker has its own meter spool (DATA_DIR/meter-spool-<slot>, recovered by the next worker of that slot); Socket.IO
// rooms are shared through the Redis adapter (REDIS_URL is required), and the web client connects websocket-first,
// so no sticky sessions are needed. Per-process: the auth rate limits (each worker counts its own window).
import cluster, { type Worker } from 'node:cluster';
import type { Config } from './config/config';
import type { Logger } from './logger';
import { connectDatabase } from './db/database';
import { runMigrations } from '../migrations/migration-runner';

const RESTART_DELAY_MS = 1_000;
const STOP_TIMEOUT_MS = 30_000;

export async function runWorkerCluster(config: Config, logger: Logger): Promise<void> {
  // Claims DATA_DIR's local database (or connects to MONGODB_URI); the workers find the claim and connect to it.
  const database = await connectDatabase(config, logger);
  if (!config.isProduction) await runMigrations(database.connection, logger);

  let stopping = false;
  const slots = new Map<Worker, number>();
  const fork = (slot: number) => {
    const worker = cluster.fork({ AGENT_HOST_WORKER_SLOT: String(slot) });
    slots.set(worker, slot);
  };
  cluster.on('exit', (worker, code, signal) => {
    const slot = slots.get(worker);
    slots.delete(worker);
    if (slot === undefined || stopping) return;
    logger.error({ slot, code, signal }, 'worker exited; starting a new one in its slot');
    setTimeout(() => {
      if (!stopping) fork(slot);
    }, RESTART_DELAY_MS).unref();
  });
  for (let slot = 1; slot <= config.webConcurrency; slot += 1) fork(slot);
  logger.info({ workers: config.webConcurrency, database: database.mode }, 'Agent Host primary started its workers');

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping the workers');
    const forceExit = setTimeout(() => process.exit(1), STOP_TIMEOUT_MS);
    forceExit.unref();
    // Each worker drains its own calls and meter (its SIGTERM handler); the database goes last.
    const exits = [...slots.keys()].map((worker) => new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.process.kill('SIGTERM');
    }));
    Promise.all(exits)
      .then(() => database.close())
      .then(
        () => process.exit(0),
        (error: Error) => {
          logger.error({ err: error }, 'stopping the primary failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
