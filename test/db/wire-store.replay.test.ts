// Journal replay of the built-in wire store: the fast path (partial decoding, bulk-loaded index buckets,
// chunked reads) gives the same state as inserting the documents one by one. Always runs against the
// built-in store (it tests the store's own journal, not MONGODB_URI).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { serialize } from 'bson';
import { Binary, Decimal128, Long, MongoClient, ObjectId } from 'mongodb';
import { startWireStore } from '../../server/db/wire-store';
import { encodeDocument } from '../../server/db/wire-store/document-map';
import { encodeDocumentRecord } from '../../server/db/wire-store/journal-records';

describe('built-in wire store journal replay', function () {
  this.timeout(120_000);

  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wire-store-replay-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  async function withStore<T>(journalPath: string, fn: (client: MongoClient) => Promise<T>): Promise<T> {
    const store = await startWireStore({ journalPath });
    const client = await MongoClient.connect(store.uri);
    try {
      return await fn(client);
    } finally {
      await client.close();
      await store.close();
    }
  }

  it('restores documents and every kind of index (unique, compound, multikey, sparse, partial), which keep working after it', async () => {
    const journalPath = path.join(dir, 'journal.bson');
    const docs = Array.from({ length: 300 }, (_, i) => ({
      _id: i % 3 === 0 ? new ObjectId() : i % 3 === 1 ? `s${i}` : i,
      key: `k${i}`,
      group: `g${i % 7}`,
      when: new Date(1_700_000_000_000 + i),
      tags: i % 5 === 0 ? ['a', 'b', 'a'] : i % 5 === 1 ? [] : `t${i % 4}`,
      nested: { n: i % 11, deep: { x: i % 2 } },
      ...(i % 2 === 0 ? { opt: i } : {}),
      big: Long.fromString('9007199254740993'),
      dec: Decimal128.fromString('0.1'),
      bin: new Binary(Buffer.from([i % 256])),
      nothing: null,
    }));
    await withStore(journalPath, async (client) => {
      const c = client.db('replay').collection('events');
      await c.createIndex({ key: 1 }, { unique: true });
      await c.createIndex({ group: 1, when: -1 });
      await c.createIndex({ tags: 1, group: 1 });
      await c.createIndex({ 'nested.n': 1 });
      await c.createIndex({ opt: 1 }, { sparse: true, unique: true });
      const p = client.db('replay').collection('partial');
      await p.createIndex({ group: 1 }, { unique: true, partialFilterExpression: { opt: { $exists: true } } });
      await c.insertMany(docs as never[]);
      await p.insertMany(docs.map(({ group, opt, key }) => (opt === undefined ? { group, key } : { group: key, opt, key })) as never[]);
    });
    const before = fs.statSync(journalPath).size;

    await withStore(journalPath, async (client) => {
      const c = client.db('replay').collection('events');
      expect(fs.statSync(journalPath).size).to.equal(before);
      expect(await c.find({}).toArray()).to.deep.equal(docs);
      // Lookups through each index give what a scan gives.
      const scan = async (filter: object) => (await c.find(filter).hint({ $natural: 1 }).toArray()).map((d) => String(d._id)).sort();
      const via = async (filter: object, hint: object) => (await c.find(filter).hint(hint).toArray()).map((d) => String(d._id)).sort();
      for (const [filter, hint] of [
        [{ key: 'k17' }, { key: 1 }],
        [{ group: 'g3' }, { group: 1, when: -1 }],
        [{ group: 'g3', when: new Date(1_700_000_000_003) }, { group: 1, when: -1 }],
        [{ tags: 'a' }, { tags: 1, group: 1 }],
        [{ tags: 'a', group: 'g0' }, { tags: 1, group: 1 }],
        [{ tags: 't2' }, { tags: 1, group: 1 }],
        [{ 'nested.n': 4 }, { 'nested.n': 1 }],
      ] as Array<[object, object]>) {
        const expected = await scan(filter);
        expect(expected.length, JSON.stringify(filter)).to.be.greaterThan(0);
        expect(await via(filter, hint), JSON.stringify(filter)).to.deep.equal(expected);
      }
      // Unique indexes are enforced after replay (the partial one only on the documents it covers).
      const dupKey = await c.insertOne({ key: 'k5' }).catch((err: { code?: number }) => err);
      expect((dupKey as { code?: number }).code).to.equal(11000);
      const dupOpt = await c.insertOne({ key: 'new', opt: 4 }).catch((err: { code?: number }) => err);
      expect((dupOpt as { code?: number }).code).to.equal(11000);
      await c.insertOne({ key: 'no-opt-1' });
      await c.insertOne({ key: 'no-opt-2' });
      const p = client.db('replay').collection('partial');
      const dupPartial = await p.insertOne({ group: 'k0', opt: 1 }).catch((err: { code?: number }) => err);
      expect((dupPartial as { code?: number }).code).to.equal(11000);
      await p.insertOne({ group: 'g1' });
      // Shared index keys can still be changed and removed after replay.
      await c.updateMany({ group: 'g3' }, { $set: { group: 'g4' } });
      await c.deleteMany({ tags: 'a' });
      expect(await via({ group: 'g3' }, { group: 1, when: -1 })).to.deep.equal([]);
      expect(await via({ group: 'g4' }, { group: 1, when: -1 })).to.deep.equal(await scan({ group: 'g4' }));
      expect(await via({ tags: 'a' }, { tags: 1, group: 1 })).to.deep.equal([]);
      expect(await via({ tags: 'b' }, { tags: 1, group: 1 })).to.deep.equal([]);
    });

    // And once more, with the changes made after the first replay on top.
    await withStore(journalPath, async (client) => {
      const c = client.db('replay').collection('events');
      const g4 = await c.find({ group: 'g4' }).hint({ group: 1, when: -1 }).toArray();
      expect(g4.length).to.be.greaterThan(0);
      expect(g4.length).to.equal((await c.find({ group: 'g4' }).hint({ $natural: 1 }).toArray()).length);
      expect(await c.find({ tags: 'a' }).hint({ tags: 1, group: 1 }).toArray()).to.deep.equal([]);
      const dupKey = await c.insertOne({ key: 'no-opt-1' }).catch((err: { code?: number }) => err);
      expect((dupKey as { code?: number }).code).to.equal(11000);
    });
  });

  it('reads a journal larger than its read buffer: records across chunk boundaries, one record larger than a chunk, then a torn tail', async () => {
    const journalPath = path.join(dir, 'journal.bson');
    const parts: Buffer[] = [Buffer.from(serialize({ op: 'cc', ns: 'big.c', options: {} }))];
    parts.push(Buffer.from(serialize({ op: 'ci', ns: 'big.c', spec: { v: 2, key: { n: 1 }, name: 'n_1', unique: true } })));
    const expected: Array<{ _id: number; n: number; pad: string }> = [];
    // About 20 MiB in records of odd sizes (so they straddle every 8 MiB boundary), one of 12 MiB in the middle.
    for (let i = 0; i < 200; i++) {
      const doc = { _id: i, n: i, pad: 'x'.repeat(i === 100 ? 12 * 1024 * 1024 : 40_000 + ((i * 7919) % 50_000)) };
      expected.push(doc);
      parts.push(i % 2 ? encodeDocumentRecord('i', 'big.c', encodeDocument(doc)) : Buffer.from(serialize({ op: 'i', ns: 'big.c', doc })));
    }
    const whole = Buffer.concat(parts);
    const torn = Buffer.from(serialize({ op: 'i', ns: 'big.c', doc: { _id: 'torn', n: -1 } })).subarray(0, 20);
    fs.writeFileSync(journalPath, Buffer.concat([whole, torn]));

    await withStore(journalPath, async (client) => {
      const c = client.db('big').collection('c');
      const got = await c.find({}).toArray();
      expect(got.length).to.equal(expected.length);
      expect(got.map((d) => [d._id, d.n, d.pad.length])).to.deep.equal(expected.map((d) => [d._id, d.n, d.pad.length]));
      expect(got.every((d, i) => d.pad === expected[i]!.pad)).to.equal(true);
      const dup = await c.insertOne({ n: 150 }).catch((err: { code?: number }) => err);
      expect((dup as { code?: number }).code).to.equal(11000);
    });
    // The torn tail was cut off (and kept aside); the records after it were appended to the whole ones.
    expect(fs.readdirSync(dir).filter((f) => f.includes('.torn-'))).to.have.length(1);
    expect(fs.readFileSync(journalPath).subarray(0, whole.length).equals(whole)).to.equal(true);
  });

  it('refuses to start on a journal whose documents break a unique index (a damaged journal), instead of loading both', async () => {
    // A store journals only writes that succeeded, so a real journal never holds such a pair: this one is made by hand.
    const journalPath = path.join(dir, 'journal.bson');
    fs.writeFileSync(
      journalPath,
      Buffer.concat([
        Buffer.from(serialize({ op: 'cc', ns: 'bad.c', options: {} })),
        Buffer.from(serialize({ op: 'ci', ns: 'bad.c', spec: { v: 2, key: { email: 1 }, name: 'email_1', unique: true } })),
        encodeDocumentRecord('i', 'bad.c', encodeDocument({ _id: 1, email: 'a@example.com' })),
        encodeDocumentRecord('i', 'bad.c', encodeDocument({ _id: 2, email: 'a@example.com' })),
      ]),
    );
    const failed = await startWireStore({ journalPath }).then(
      async (store) => {
        await store.close();
        return undefined;
      },
      (err: unknown) => err as { code?: number; message?: string },
    );
    expect(failed?.code).to.equal(11000);
    expect(failed?.message).to.match(/E11000 duplicate key error collection: bad\.c index: email_1/);
  });
});
