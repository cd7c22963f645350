// For the database conformance tests: one fresh database on the test database (the built-in wire store, or
// MONGODB_URI), reached through the driver and through mongoose; dropped and disconnected after the describe block.
import mongoose from 'mongoose';
import { MongoClient, type Db } from 'mongodb';
import { filledByBefore, type Filling } from './filled-by-before';
import { getTestMongoUri, uniqueDatabaseName } from './test-database';

export interface ConformanceDatabase {
  readonly uri: string;
  readonly dbName: string;
  readonly client: MongoClient;
  readonly db: Db;
  /** A mongoose connection to the same database (autoIndex off). */
  readonly conn: mongoose.Connection;
}

/** Registers mocha `before`/`after` hooks; `label` starts the database's name. Read the fields inside tests. */
export function conformanceDatabase(label: string): ConformanceDatabase {
  const state: Filling<ConformanceDatabase> = {};
  before(async () => {
    state.uri = await getTestMongoUri();
    state.dbName = uniqueDatabaseName(label);
    state.client = await MongoClient.connect(state.uri);
    state.db = state.client.db(state.dbName);
    state.conn = await mongoose.createConnection(state.uri, { dbName: state.dbName, autoIndex: false }).asPromise();
  });
  after(async () => {
    await state.db?.dropDatabase().catch(() => undefined);
    await state.conn?.close();
    await state.client?.close();
  });
  return filledByBefore('conformance database', state, ['uri', 'dbName', 'client', 'db', 'conn']);
}
