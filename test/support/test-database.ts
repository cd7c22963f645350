// Test database: MONGODB_URI when set, else one in-memory built-in wire store per process (port 0).
import crypto from 'node:crypto';
import { startWireStore } from '../../server/db/wire-store';

let storeUri: Promise<string> | undefined;

export function getTestMongoUri(): Promise<string> {
  const fromEnv = process.env.MONGODB_URI;
  if (fromEnv) return Promise.resolve(fromEnv);
  storeUri ??= startWireStore({ port: 0 }).then((handle) => handle.uri);
  return storeUri;
}

/** A database name unique to this run: `<prefix>_<random>` (MongoDB database names stay under 64 bytes). */
export function uniqueDatabaseName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 40);
  return `${safe}_${crypto.randomBytes(6).toString('hex')}`;
}
