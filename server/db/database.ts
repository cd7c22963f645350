// Chooses the database (MONGODB_URI, a real mongod via mongodb-memory-server, or the built-in wire store) and connects mongoose.
import fs from 'node:fs';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import type { WireStoreHandle } from './wire-store';
import { claimLocalDatabase } from './local-database-owner';

/** `shared-local`: another process of this data directory owns its local database; this one connects to it. */
export type DatabaseMode = 'external' | 'memory-server' | 'wire-store' | 'shared-local';

export interface Database {
  mode: DatabaseMode;
  uri: string;
  connection: Connection;
  isUp(): Promise<boolean>;
  close(): Promise<void>;
}

interface MongodAttemptRecord {
  failedAt: string;
  reason: string;
}

/** Why no embedded mongod could be had: the attempt's one-line reason, or the one an earlier start recorded. */
type MemoryServerResult = { uri: string; stop(): Promise<void> } | { unavailable: string };

async function tryStartMemoryServer(dataDir: string, logger: Logger): Promise<MemoryServerResult> {
  const recordFile = path.join(dataDir, 'mongod-unavailable.json');
  if (fs.existsSync(recordFile)) {
    // A previous attempt could not get a mongod binary (offline machine): do not make the newcomer wait again.
    let reason = 'an earlier start found none';
    try {
      reason = (JSON.parse(fs.readFileSync(recordFile, 'utf8')) as MongodAttemptRecord).reason || reason;
    } catch {
      // an unreadable record still means "do not retry"
    }
    return { unavailable: `${reason} (recorded in ${recordFile}; delete it to retry)` };
  }
  try {
    const { MongoBinary, MongoMemoryServer } = await import('mongodb-memory-server-core');
    // Find or download the binary first: MongoMemoryServer.create would console.warn a failed download with its whole stack.
    await MongoBinary.getPath();
    const dbPath = path.join(dataDir, 'mongo');
    fs.mkdirSync(dbPath, { recursive: true });
    const server = await MongoMemoryServer.create({ instance: { dbPath, storageEngine: 'wiredTiger' } });
    return { uri: server.getUri(), stop: async () => void (await server.stop({ doCleanup: false })) };
  } catch (error) {
    const record: MongodAttemptRecord = { failedAt: new Date().toISOString(), reason: (error as Error).message.replace(/\s+/g, ' ').trim().slice(0, 300) };
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(recordFile, JSON.stringify(record, null, 2));
    logger.debug({ err: error }, 'no mongod binary available');
    return { unavailable: record.reason };
  }
}

interface LocalDatabase {
  mode: 'memory-server' | 'wire-store';
  uri: string;
  stop(): Promise<void>;
}

/** This process owns the data directory: an embedded mongod when one can be had, else the built-in store. */
async function startLocalDatabase(config: Config, logger: Logger): Promise<LocalDatabase> {
  const memoryServer = await tryStartMemoryServer(config.dataDir, logger);
  if ('uri' in memoryServer) return { mode: 'memory-server', uri: memoryServer.uri, stop: memoryServer.stop };
  // Loaded only in this mode: with MONGODB_URI set the store's code (mingo & co.) stays out of the process.
  const { startWireStore } = require('./wire-store') as typeof import('./wire-store');
  const journalPath = path.join(config.dataDir, 'wire-store.journal');
  const wireStore: WireStoreHandle = await startWireStore({ journalPath, logger });
  logger.warn(
    { mongod: memoryServer.unavailable },
    `No MongoDB server available: using the built-in MongoDB-wire-compatible store (development and tests only; data in ${journalPath}). Set MONGODB_URI for a real MongoDB.`,
  );
  return { mode: 'wire-store', uri: wireStore.uri, stop: () => wireStore.close() };
}

export async function connectDatabase(config: Config, logger: Logger, options: { databaseName?: string } = {}): Promise<Database> {
  let mode: DatabaseMode;
  let uri: string;
  let stopEmbedded: () => Promise<void> = async () => undefined;

  if (config.mongodbUri) {
    mode = 'external';
    uri = config.mongodbUri;
  } else {
    const claim = await claimLocalDatabase(config.dataDir);
    if (!claim.owned) {
      // A running platform owns the local database: share it rather than open the same files (they would overwrite
      // each other's writes).
      mode = 'shared-local';
      uri = claim.uri;
      logger.info({ ownerPid: claim.ownerPid }, 'using the local database of the running platform');
    } else {
      let local: LocalDatabase;
      try {
        local = await startLocalDatabase(config, logger);
        claim.publish(local.uri);
      } catch (error) {
        claim.release();
        throw error;
      }
      ({ mode, uri } = local);
      stopEmbedded = async () => {
        try {
          await local.stop();
        } finally {
          claim.release();
        }
      };
    }
  }

  const connection = mongoose.createConnection(uri, {
    dbName: options.databaseName ?? 'agent_host',
    autoIndex: false,
    serverSelectionTimeoutMS: 5000,
    // A server that accepts but does not answer (paused, overloaded) fails the operation instead of hanging the request.
    socketTimeoutMS: config.dbOperationTimeoutMs,
  });
  await connection.asPromise();

  return {
    mode,
    uri,
    connection,
    async isUp() {
      try {
        await connection.db!.admin().command({ ping: 1 }, { timeoutMS: 1500 } as never);
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      await connection.close();
      await stopEmbedded();
    },
  };
}
