// Documents held compactly (as BSON bytes) in the built-in store: values of every BSON type come back unchanged,
// reads are independent copies, and journal records built from stored bytes replay like serialized ones.
// The driver-level cases run against MONGODB_URI too; the store-internal cases only against the built-in store.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Binary, Decimal128, Int32, Long, MongoClient, ObjectId, Timestamp } from 'mongodb';
import { serialize } from 'bson';
import { Store } from '../../server/db/wire-store/collection-store';
import { decodeDocument, encodeDocument } from '../../server/db/wire-store/document-map';
import { encodeDocumentRecord, parseDocumentRecord } from '../../server/db/wire-store/journal-records';
import { compileFilter } from '../../server/db/wire-store/query-engine';
import { startWireStore } from '../../server/db/wire-store';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';

const builtIn = !process.env.MONGODB_URI;

describe('wire store: documents held as BSON bytes', function () {
  this.timeout(30_000);
  let client: MongoClient;
  let dbName: string;

  before(async () => {
    client = await MongoClient.connect(await getTestMongoUri());
    dbName = uniqueDatabaseName('memory');
  });

  after(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it('returns every BSON type unchanged after storing, updating and re-reading', async () => {
    const coll = client.db(dbName).collection('types');
    const id = new ObjectId();
    const doc = {
      _id: id,
      s: 'héllo ✓',
      i: 5,
      d: 2.5,
      big: 2 ** 40,
      l: Long.fromString('9007199254740993'),
      dec: Decimal128.fromString('0.1'),
      when: new Date(1_700_000_000_123),
      bin: new Binary(Buffer.from([0, 1, 2, 255]), 0),
      ts: new Timestamp({ t: 5, i: 7 }),
      n: null,
      t: true,
      arr: [1, 'two', { three: [3] }, []],
      nested: { a: { b: { c: 'deep' } } },
    };
    await coll.insertOne(doc);
    const first = await coll.findOne({ _id: id }, { promoteLongs: false });
    expect(first).to.deep.equal(doc);
    await coll.updateOne({ _id: id }, { $inc: { i: 1 }, $set: { 'nested.a.b.d': 1 } });
    const second = await coll.findOne({ _id: id }, { promoteLongs: false });
    expect(second?.i).to.equal(6);
    expect(second?.nested).to.deep.equal({ a: { b: { c: 'deep', d: 1 } } });
    expect(second?.l).to.deep.equal(doc.l);
    expect(second?.bin).to.deep.equal(doc.bin);
    expect(second?.ts).to.deep.equal(doc.ts);
    expect((await coll.find({ dec: Decimal128.fromString('0.1') }).toArray()).map((x) => x._id)).to.deep.equal([id]);
  });

  it('keeps natural order, counts and index lookups over many documents', async () => {
    const coll = client.db(dbName).collection('many');
    await coll.createIndex({ group: 1, n: 1 });
    await coll.insertMany(Array.from({ length: 2_000 }, (_, n) => ({ _id: n as never, group: n % 7, n, pad: 'x'.repeat(n % 50) })));
    await coll.deleteMany({ n: { $lt: 10 } });
    await coll.updateMany({ group: 3 }, { $set: { three: true } });
    expect(await coll.countDocuments({})).to.equal(1_990);
    const threes = await coll.find({ group: 3 }).sort({ n: 1 }).toArray();
    expect(threes.length).to.equal(285);
    expect(threes.every((x) => x.three === true && x.n % 7 === 3)).to.equal(true);
    const natural = await coll.find({}, { projection: { _id: 1 } }).limit(5).toArray();
    expect(natural.map((x) => x._id)).to.deep.equal([10, 11, 12, 13, 14]);
  });

  (builtIn ? describe : describe.skip)('store internals (built-in store only)', () => {
    it('hands out independent copies: mutating a read, an inserted or a replaced document changes nothing stored', () => {
      const store = new Store();
      const coll = store.getOrCreate('db', 'c');
      const input = { _id: 1, tags: ['a'], sub: { x: 1 }, when: new Date(10) };
      const stored = coll.insert(input);
      input.tags.push('mutated');
      input.sub.x = 99;
      const all = compileFilter({});
      const read = coll.match(all)[0]!;
      expect(read).to.deep.equal({ _id: 1, tags: ['a'], sub: { x: 1 }, when: new Date(10) });
      read.tags.push('again');
      (read.when as Date).setTime(0);
      expect(coll.match(all)[0]).to.deep.equal({ _id: 1, tags: ['a'], sub: { x: 1 }, when: new Date(10) });
      const next = { ...read, tags: ['b'] };
      coll.replace(stored, next);
      next.tags.push('late');
      expect(coll.getById(1)?.tags).to.deep.equal(['b']);
      expect(coll.docs.get('n1')).to.not.equal(coll.docs.get('n1'));
      expect(coll.approximateSize).to.equal(encodeDocument(coll.getById(1)!).byteLength);
    });

    it('builds journal records from stored bytes that are byte-identical to serialized records', () => {
      const doc = { _id: new ObjectId(), s: 'ü', n: 1, l: Long.fromNumber(3), nested: { a: [1, 2] } };
      const bytes = encodeDocument(doc);
      for (const op of ['i', 'u'] as const) {
        for (const ns of ['db.c', 'dé.collection.with.dots']) {
          const record = encodeDocumentRecord(op, ns, bytes);
          expect(Buffer.compare(record, Buffer.from(serialize({ op, ns, doc })))).to.equal(0);
          const parsed = parseDocumentRecord(record);
          expect(parsed?.op).to.equal(op);
          expect(parsed?.ns).to.equal(ns);
          expect(decodeDocument(parsed!.doc)).to.deep.equal(doc);
        }
      }
      expect(parseDocumentRecord(Buffer.from(serialize({ op: 'd', ns: 'db.c', id: 1 })))).to.equal(undefined);
      expect(parseDocumentRecord(Buffer.from(serialize({ op: 'i', ns: 'db.c', doc, extra: 1 })))).to.equal(undefined);
      expect(parseDocumentRecord(Buffer.from(serialize({ ns: 'db.c', op: 'i', doc })))).to.equal(undefined);
    });

    it('replays a journal of serialized records (the earlier format) and of byte-built records alike', async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wire-store-memory-'));
      try {
        const journalPath = path.join(dir, 'journal.bson');
        const oid = new ObjectId();
        const records = [
          { op: 'cc', ns: 'old.c', options: {} },
          { op: 'ci', ns: 'old.c', spec: { v: 2, key: { k: 1 }, name: 'k_1', unique: true } },
          { op: 'i', ns: 'old.c', doc: { _id: oid, k: 'a', n: new Int32(1) } },
          { op: 'i', ns: 'old.c', doc: { _id: 2, k: 'b', n: 2 } },
          { op: 'u', ns: 'old.c', doc: { _id: oid, k: 'a2', n: 5 } },
          { op: 'd', ns: 'old.c', id: 2 },
        ];
        fs.writeFileSync(journalPath, Buffer.concat([...records.map((r) => Buffer.from(serialize(r))), encodeDocumentRecord('i', 'old.c', encodeDocument({ _id: 3, k: 'c', n: 3 }))]));
        const store = await startWireStore({ journalPath });
        const c = await MongoClient.connect(store.uri);
        try {
          const coll = c.db('old').collection('c');
          expect(await coll.find({}).toArray()).to.deep.equal([
            { _id: oid, k: 'a2', n: 5 },
            { _id: 3, k: 'c', n: 3 },
          ]);
          const dup = await coll.insertOne({ k: 'a2' }).catch((err: { code?: number }) => err);
          expect((dup as { code?: number }).code).to.equal(11000);
          await coll.updateOne({ _id: 3 as never }, { $set: { k: 'c2' } });
        } finally {
          await c.close();
          await store.close();
        }
        const again = await startWireStore({ journalPath });
        const c2 = await MongoClient.connect(again.uri);
        try {
          expect(await c2.db('old').collection('c').find({}).toArray()).to.deep.equal([
            { _id: oid, k: 'a2', n: 5 },
            { _id: 3, k: 'c2', n: 3 },
          ]);
        } finally {
          await c2.close();
          await again.close();
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});
