// One process owns a data directory's local database; a second one (a script while the platform runs) connects to
// it instead of opening the same journal, so neither overwrites the other's writes.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import pino from 'pino';
import { loadConfig } from '../../server/config/config';
import { connectDatabase } from '../../server/db/database';

describe('local database: one owner per data directory', function () {
  this.timeout(60_000);
  if (process.env.MONGODB_URI) return; // only the local modes have files to share

  const logger = pino({ level: 'silent' });
  const configFor = (dataDir: string) =>
    loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, JWT_SECRET: crypto.randomBytes(32).toString('hex'), VAULT_KEYS: `k:${crypto.randomBytes(32).toString('base64')}` });
  const freshDataDir = () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-owner-'));
    // No mongod can be had here: skip the download attempt, as a second start does.
    fs.writeFileSync(path.join(dataDir, 'mongod-unavailable.json'), JSON.stringify({ failedAt: new Date().toISOString(), reason: 'test' }));
    return dataDir;
  };

  it('a second connection shares the owner\'s database, and what it wrote survives the owner\'s restart', async () => {
    const dataDir = freshDataDir();
    const owner = await connectDatabase(configFor(dataDir), logger, { databaseName: 'owner_test' });
    expect(owner.mode).to.equal('wire-store');
    const script = await connectDatabase(configFor(dataDir), logger, { databaseName: 'owner_test' });
    expect(script.mode).to.equal('shared-local');
    expect(script.uri).to.equal(owner.uri);
    await script.connection.collection('notes').insertOne({ by: 'script' });
    await script.close();
    await owner.connection.collection('notes').insertOne({ by: 'platform' });
    await owner.close();
    expect(fs.existsSync(path.join(dataDir, 'local-database.lock'))).to.equal(false);

    const restarted = await connectDatabase(configFor(dataDir), logger, { databaseName: 'owner_test' });
    try {
      expect(restarted.mode).to.equal('wire-store');
      const notes = await restarted.connection.collection('notes').find({}, { projection: { _id: 0 } }).toArray();
      expect(notes.map((note) => note.by).sort()).to.deep.equal(['platform', 'script']);
    } finally {
      await restarted.close();
    }
  });

  it('a lock left by a process that died is taken over', async () => {
    const dataDir = freshDataDir();
    // A pid that is not running (the highest pid Linux hands out is below 2^22).
    fs.writeFileSync(path.join(dataDir, 'local-database.lock'), JSON.stringify({ pid: 4_194_304 + 7, uri: 'mongodb://127.0.0.1:1/' }));
    const database = await connectDatabase(configFor(dataDir), logger);
    try {
      expect(database.mode).to.equal('wire-store');
      expect((fs.statSync(path.join(dataDir, 'local-database.lock')).mode & 0o777).toString(8)).to.equal('600');
    } finally {
      await database.close();
    }
  });
});
