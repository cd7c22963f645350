// Chooses the database (MONGODB_URI, a real mongod via mongodb-memory-server, or the built-in wire store) and connects mongoose.
import fs from 'node:fs';
import path from 'node:path';
import mongoose, { type Connection } from 'mongoose';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import type { WireStoreHandle } from './wire-store';

export type DatabaseMode = 'external' | 'memory-server' | 'wire-store';

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

export async function connectDatabase(config: Config, logger: Logger, options: { databaseName?: string } = {}): Promise<Database> {
  let mode: DatabaseMode;
  let uri: string;
  let stopEmbedded: () => Promise<void> = async () => undefined;
  let wireStore: WireStoreHandle | undefined;

  if (config.mongodbUri) {
    mode = 'external';
    uri = config.mongodbUri;
  } else {
    const memoryServer = await tryStartMemoryServer(config.dataDir, logger);
    if ('uri' in memoryServer) {
      mode = 'memory-server';
      uri = memoryServer.uri;
      stopEmbedded = memoryServer.stop;
    } else {
      mode = 'wire-store';
      // Loaded only in this mode: with MONGODB_URI set the store's code (mingo & co.) stays out of the process.
      const { startWireStore } = require('./wire-store') as typeof import('./wire-store');
      wireStore = await startWireStore({ journalPath: path.join(config.dataDir, 'wire-store.journal'), logger });
      uri = wireStore.uri;
      stopEmbedded = () => wireStore!.close();
      logger.warn(
        { mongod: memoryServer.unavailable },
        `No MongoDB server available: using the built-in MongoDB-wire-compatible store (development and tests only; data in ${path.join(config.dataDir, 'wire-store.journal')}). Set MONGODB_URI for a real MongoDB.`,
      );
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
