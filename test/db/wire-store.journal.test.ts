// The built-in wire store's journal: data and indexes survive a close and a restart on the same path.
// Always runs against the built-in store (it tests the store itself, not MONGODB_URI).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Decimal128, Long, MongoClient } from 'mongodb';
import { startWireStore, type WireStoreHandle } from '../../server/db/wire-store';

describe('built-in wire store journal', function () {
  this.timeout(60_000);

  let dir: string;
  let journalPath: string;
  const handles: WireStoreHandle[] = [];

  const schema = () => new mongoose.Schema({ email: { type: String, unique: true }, name: String, visits: Number });

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wire-store-journal-'));
    journalPath = path.join(dir, 'data', 'journal.bson');
  });

  after(async () => {
    for (const h of handles) await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start(): Promise<WireStoreHandle> {
    const h = await startWireStore({ journalPath });
    handles.push(h);
    return h;
  }

  it('keeps the journal readable by its owner only (0600), also one written before with 0644, and after compaction', async () => {
    const tightDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wire-store-mode-'));
    const tightPath = path.join(tightDir, 'journal.bson');
    fs.writeFileSync(tightPath, Buffer.alloc(0), { mode: 0o644 });
    fs.chmodSync(tightPath, 0o644);
    const store = await startWireStore({ journalPath: tightPath });
    try {
      const client = await mongoose.createConnection(store.uri, { dbName: 'modes' }).asPromise();
      await client.collection('secrets').insertOne({ hash: 'argon2id$...' });
      await client.close();
      expect((fs.statSync(tightPath).mode & 0o777).toString(8)).to.equal('600');
    } finally {
      await store.close();
    }
    expect((fs.statSync(tightPath).mode & 0o777).toString(8)).to.equal('600');
    fs.rmSync(tightDir, { recursive: true, force: true });
  });

  it('replays documents, updates, deletes and unique indexes after a restart', async () => {
    const first = await start();
    const conn = await mongoose.createConnection(first.uri, { dbName: 'journaled' }).asPromise();
    const User = conn.model('User', schema());
    await User.init();
    await User.create([
      { email: 'a@example.com', name: 'A', visits: 1 },
      { email: 'b@example.com', name: 'B', visits: 1 },
      { email: 'gone@example.com', name: 'Gone', visits: 0 },
    ]);
    await User.findOneAndUpdate({ email: 'a@example.com' }, { $inc: { visits: 41 } });
    await User.findOneAndUpdate({ email: 'c@example.com' }, { $inc: { visits: 1 }, $setOnInsert: { name: 'C' } }, { upsert: true });
    await User.deleteOne({ email: 'gone@example.com' });
    const raw = await MongoClient.connect(first.uri);
    await raw.db('journaled').collection('types').insertOne({ _id: 'k' as never, d: Decimal128.fromString('0.1'), l: Long.fromString('9007199254740993'), when: new Date(5) });
    await raw.db('journaled').collection('scratch').insertOne({ x: 1 });
    await raw.db('journaled').collection('scratch').drop();
    await raw.close();
    await conn.close();
    await first.close();
    expect(fs.statSync(journalPath).size).to.be.greaterThan(0);

    const second = await start();
    const conn2 = await mongoose.createConnection(second.uri, { dbName: 'journaled', autoIndex: false }).asPromise();
    const User2 = conn2.model('User', schema());
    const users = await User2.find().sort({ email: 1 }).lean();
    expect(users.map((u) => [u.email, u.name, u.visits])).to.deep.equal([
      ['a@example.com', 'A', 42],
      ['b@example.com', 'B', 1],
      ['c@example.com', 'C', 1],
    ]);
    const indexes = await User2.listIndexes();
    expect(indexes.map((i: any) => i.name)).to.include('email_1');
    let err: any;
    try {
      await User2.create({ email: 'b@example.com', name: 'dup' });
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal(11000);

    const raw2 = await MongoClient.connect(second.uri);
    const doc = await raw2.db('journaled').collection('types').findOne({ _id: 'k' as never }, { promoteLongs: false });
    expect(doc?.d.toString()).to.equal('0.1');
    expect(doc?.l).to.be.instanceOf(Long);
    expect(doc?.l.toString()).to.equal('9007199254740993');
    expect(doc?.when.getTime()).to.equal(5);
    const names = (await raw2.db('journaled').listCollections().toArray()).map((c) => c.name).sort();
    expect(names).to.deep.equal(['types', 'users']);
    await raw2.close();
    await conn2.close();
    await second.close();
  });

  it('survives a torn final record and compacts a journal much larger than its data', async () => {
    // Append half a record, as a crash in the middle of a write would leave.
    fs.appendFileSync(journalPath, Buffer.from([0x40, 0, 0, 0, 0x02, 0x6f]));
    const third = await start();
    const client = await MongoClient.connect(third.uri);
    const coll = client.db('journaled').collection('churn');
    await coll.createIndex({ k: 1 }, { unique: true });
    await coll.insertOne({ k: 'counter', n: 0, pad: 'x'.repeat(2000) });
    for (let i = 0; i < 1200; i++) await coll.updateOne({ k: 'counter' }, { $inc: { n: 1 } });
    await client.close();
    await third.close();
    const sizeAfterClose = fs.statSync(journalPath).size;
    expect(sizeAfterClose).to.be.lessThan(1024 * 1024); // compacted on close (1200 × 2 KB records before)

    expect(fs.readdirSync(path.dirname(journalPath)).some((f) => f.includes('.torn-'))).to.equal(true);

    const fourth = await start();
    const client2 = await MongoClient.connect(fourth.uri);
    const counter = await client2.db('journaled').collection('churn').findOne({ k: 'counter' });
    expect(counter?.n).to.equal(1200);
    expect(await client2.db('journaled').collection('users').countDocuments()).to.equal(3);
    let err: any;
    try {
      await client2.db('journaled').collection('churn').insertOne({ k: 'counter' });
    } catch (e) {
      err = e;
    }
    expect(err?.code).to.equal(11000);
    await client2.close();
    await fourth.close();
  });
});
