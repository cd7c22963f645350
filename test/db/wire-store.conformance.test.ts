// Conformance of the database layer: runs against the built-in wire store, or against a real MongoDB when
// MONGODB_URI is set. Nothing here may depend on the store's quirks (only code 11000 is asserted on errors).
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Binary, Decimal128, Long, MongoClient, ObjectId, type Db } from 'mongodb';
import { conformanceDatabase } from '../support/conformance-database';

describe('database conformance (mongoose + driver) — built-in wire store or MONGODB_URI', function () {
  this.timeout(60_000);

  const database = conformanceDatabase('conformance');
  let uri: string;
  let dbName: string;
  let conn: mongoose.Connection;
  let db: Db;
  before(() => ({ uri, dbName, conn, db } = database));

  describe('mongoose CRUD', () => {
    interface ItemDoc {
      name: string;
      qty: number;
      tags: string[];
      meta?: { color?: string };
      createdAt?: Date;
    }
    const itemSchema = new mongoose.Schema<ItemDoc>({ name: String, qty: Number, tags: [String], meta: { color: String } }, { timestamps: true });
    const Item = () => (conn.models.Item as mongoose.Model<ItemDoc> | undefined) ?? conn.model<ItemDoc>('Item', itemSchema);

    it('creates, reads, updates and deletes', async () => {
      const M = Item();
      const created = await M.create({ name: 'apple', qty: 3, tags: ['fruit'], meta: { color: 'red' } });
      const found = await M.findById(created._id).lean();
      expect(found?.name).to.equal('apple');
      expect(found?.meta?.color).to.equal('red');
      expect(found?.createdAt).to.be.instanceOf(Date);

      const res = await M.updateOne({ _id: created._id }, { $set: { qty: 4 }, $push: { tags: 'red' } });
      expect(res.matchedCount).to.equal(1);
      expect(res.modifiedCount).to.equal(1);
      const updated = await M.findById(created._id).lean();
      expect(updated?.qty).to.equal(4);
      expect(updated?.tags).to.deep.equal(['fruit', 'red']);

      const doc = await M.findById(created._id);
      doc!.qty = 10;
      await doc!.save();
      expect((await M.findById(created._id).lean())?.qty).to.equal(10);

      const del = await M.deleteOne({ _id: created._id });
      expect(del.deletedCount).to.equal(1);
      expect(await M.findById(created._id)).to.equal(null);
    });

    it('updateMany and deleteMany report counts', async () => {
      const M = Item();
      await M.insertMany([
        { name: 'u1', qty: 1 },
        { name: 'u2', qty: 2 },
        { name: 'u3', qty: 3 },
      ]);
      const up = await M.updateMany({ name: { $in: ['u1', 'u2', 'u3'] }, qty: { $gte: 2 } }, { $inc: { qty: 100 } });
      expect(up.matchedCount).to.equal(2);
      expect(up.modifiedCount).to.equal(2);
      const qtys = (await M.find({ name: /^u\d$/ }).sort({ name: 1 }).lean()).map((d) => d.qty);
      expect(qtys).to.deep.equal([1, 102, 103]);
      const del = await M.deleteMany({ name: /^u\d$/ });
      expect(del.deletedCount).to.equal(3);
      expect(await M.countDocuments({ name: /^u\d$/ })).to.equal(0);
    });

    it('findOneAndUpdate / findOneAndDelete with sort and projection', async () => {
      const M = Item();
      await M.insertMany([
        { name: 'f1', qty: 5 },
        { name: 'f2', qty: 7 },
        { name: 'f3', qty: 6 },
      ]);
      const top = await M.findOneAndUpdate({ name: /^f/ }, { $inc: { qty: 1 } }, { sort: { qty: -1 }, new: true, projection: { name: 1, qty: 1 } }).lean();
      expect(top?.name).to.equal('f2');
      expect(top?.qty).to.equal(8);
      expect(top).to.not.have.property('tags');
      const before = await M.findOneAndUpdate({ name: 'f1' }, { $set: { qty: 0 } }, { new: false }).lean();
      expect(before?.qty).to.equal(5);
      const removed = await M.findOneAndDelete({ name: /^f/ }, { sort: { qty: 1 } }).lean();
      expect(removed?.name).to.equal('f1');
      expect(await M.countDocuments({ name: /^f/ })).to.equal(2);
      expect(await M.findOneAndUpdate({ name: 'nobody' }, { $set: { qty: 1 } })).to.equal(null);
    });
  });

  describe('driver queries and cursors', () => {
    it('sorts, skips, limits and projects', async () => {
      const c = db.collection('people');
      await c.insertMany(
        Array.from({ length: 20 }, (_, i) => ({ n: i, group: i % 3, name: `p${String(i).padStart(2, '0')}`, nested: { a: i * 2, b: 'x' } })),
      );
      const page = await c.find({ group: { $ne: 1 } }, { projection: { _id: 0, n: 1, 'nested.a': 1 } }).sort({ n: -1 }).skip(2).limit(3).toArray();
      expect(page).to.deep.equal([
        { n: 15, nested: { a: 30 } },
        { n: 14, nested: { a: 28 } },
        { n: 12, nested: { a: 24 } },
      ]);
      // Dotted inclusion over embedded documents, arrays of them, scalars and missing fields (MongoDB's semantics).
      await c.insertMany([
        { n: 100, deep: { a: { x: 1, y: 2 }, b: 3 }, list: [{ k: 1, v: 'a' }, 7, { k: 2, v: 'b' }], flat: 5 },
        { n: 101, deep: 'scalar', list: 'none' },
        { n: 102 },
      ]);
      const dotted = await c.find({ n: { $gte: 100 } }, { projection: { 'deep.a.x': 1, 'list.k': 1, 'flat.z': 1, n: 1 } }).sort({ n: 1 }).toArray();
      expect(dotted.map(({ _id, ...rest }) => ({ hasId: _id !== undefined, ...rest }))).to.deep.equal([
        { hasId: true, n: 100, deep: { a: { x: 1 } }, list: [{ k: 1 }, { k: 2 }] },
        { hasId: true, n: 101 },
        { hasId: true, n: 102 },
      ]);
      await c.deleteMany({ n: { $gte: 100 } });
      const multi = await c.find({}).sort({ group: 1, n: -1 }).limit(4).project({ _id: 0, n: 1 }).toArray();
      expect(multi.map((d) => d.n)).to.deep.equal([18, 15, 12, 9]);
      const excluded = await c.findOne({ n: 4 }, { projection: { nested: 0, _id: 0 } });
      expect(excluded).to.deep.equal({ n: 4, group: 1, name: 'p04' });
      expect(await c.countDocuments({ n: { $gte: 10 } })).to.equal(10);
      expect(await c.countDocuments({}, { skip: 5, limit: 10 })).to.equal(10);
      expect(await c.estimatedDocumentCount()).to.equal(20);
      const ors = await c.find({ $or: [{ n: 1 }, { name: 'p05' }, { 'nested.a': 20 }] }).sort({ n: 1 }).toArray();
      expect(ors.map((d) => d.n)).to.deep.equal([1, 5, 10]);
    });

    it('iterates a 250-document cursor with batchSize 7 through getMore', async () => {
      const c = db.collection('batches');
      await c.insertMany(Array.from({ length: 250 }, (_, i) => ({ i })));
      const getMores: number[] = [];
      const monitored = await MongoClient.connect(uri, { monitorCommands: true });
      monitored.on('commandStarted', (e) => {
        if (e.commandName === 'getMore') getMores.push(1);
      });
      try {
        const seen: number[] = [];
        for await (const doc of monitored.db(dbName).collection('batches').find({}).sort({ i: 1 }).batchSize(7)) seen.push(doc.i as number);
        expect(seen).to.have.length(250);
        expect(seen).to.deep.equal(Array.from({ length: 250 }, (_, i) => i));
        expect(getMores.length).to.be.at.least(35);

        const agg = await monitored.db(dbName).collection('batches').aggregate([{ $match: { i: { $lt: 100 } } }], { batchSize: 7 }).toArray();
        expect(agg).to.have.length(100);
      } finally {
        await monitored.close();
      }
      const cursor = c.find({}).batchSize(5);
      await cursor.next();
      await cursor.close();
    });

    it('counts and distinct values', async () => {
      const c = db.collection('distinct');
      await c.insertMany([
        { k: 'a', tags: ['x', 'y'] },
        { k: 'b', tags: ['y'] },
        { k: 'a', tags: [] },
        { k: 'c' },
      ]);
      expect((await c.distinct('k')).sort()).to.deep.equal(['a', 'b', 'c']);
      expect((await c.distinct('tags')).sort()).to.deep.equal(['x', 'y']);
      expect((await c.distinct('k', { tags: 'y' })).sort()).to.deep.equal(['a', 'b']);
      expect(await c.countDocuments({ k: 'a' })).to.equal(2);
    });
  });

  describe('unique indexes', () => {
    interface UserDoc {
      email: string;
      name?: string;
      logins?: number;
    }
    const userSchema = new mongoose.Schema<UserDoc>({ email: { type: String, required: true, unique: true }, name: String, logins: Number });
    const User = () => (conn.models.User as mongoose.Model<UserDoc> | undefined) ?? conn.model<UserDoc>('User', userSchema);

    it('surfaces E11000 through mongoose and changes nothing', async () => {
      const M = User();
      await M.init();
      await M.syncIndexes();
      await M.create({ email: 'ada@example.com', name: 'Ada', logins: 1 });
      const bob = await M.create({ email: 'bob@example.com', name: 'Bob', logins: 1 });

      let err: any;
      try {
        await M.create({ email: 'ada@example.com', name: 'Impostor' });
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal(11000);
      expect(await M.countDocuments()).to.equal(2);

      err = undefined;
      try {
        await M.updateOne({ _id: bob._id }, { $set: { email: 'ada@example.com', name: 'Changed' }, $inc: { logins: 1 } });
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal(11000);
      const after = await M.findById(bob._id).lean();
      expect(after).to.include({ email: 'bob@example.com', name: 'Bob', logins: 1 });

      err = undefined;
      try {
        await M.findOneAndUpdate({ email: 'carol@example.com' }, { $set: { email: 'ada@example.com' } }, { upsert: true });
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal(11000);
      expect(await M.countDocuments()).to.equal(2);
    });

    it('stops ordered inserts at the first duplicate and reports it', async () => {
      const M = User();
      await M.init();
      let err: any;
      try {
        await M.insertMany([{ email: 'd1@example.com' }, { email: 'ada@example.com' }, { email: 'd3@example.com' }]);
      } catch (e) {
        err = e;
      }
      expect(err?.code).to.equal(11000);
      expect(await M.countDocuments({ email: /^d\d@/ })).to.equal(1);

      const raw = db.collection('users');
      let rawErr: any;
      try {
        await raw.insertMany([{ email: 'e1@example.com' }, { email: 'e1@example.com' }, { email: 'e3@example.com' }], { ordered: false });
      } catch (e) {
        rawErr = e;
      }
      expect(rawErr?.code).to.equal(11000);
      expect(await raw.countDocuments({ email: /^e\d@/ })).to.equal(2);
    });

    it('enforces compound, sparse and partial unique indexes', async () => {
      const compound = db.collection('uniqCompound');
      await compound.createIndex({ a: 1, b: 1 }, { unique: true });
      await compound.insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]);
      await expectCode(compound.insertOne({ a: 1, b: 2 }), 11000);
      await compound.insertOne({ x: 1 }); // a and b missing: indexed as null…
      await expectCode(compound.insertOne({ x: 2 }), 11000); // …so a second one collides
      const sparse = db.collection('uniqSparse');
      await sparse.createIndex({ s: 1 }, { unique: true, sparse: true });
      await sparse.insertMany([{ x: 1 }, { x: 2 }]); // no `s`: a sparse index allows many
      await sparse.insertOne({ s: 'one' });
      await expectCode(sparse.insertOne({ s: 'one' }), 11000);
      const partial = db.collection('uniqPartial');
      await partial.createIndex({ p: 1 }, { unique: true, partialFilterExpression: { active: true } });
      await partial.insertMany([{ p: 'k', active: false }, { p: 'k', active: false }, { p: 'k', active: true }]);
      await expectCode(partial.insertOne({ p: 'k', active: true }), 11000);
      await expectCode(partial.updateOne({ p: 'k', active: false }, { $set: { active: true } }), 11000);
      expect(await partial.countDocuments({ active: true })).to.equal(1);
      const tags = db.collection('uniqTags');
      await tags.createIndex({ tags: 1 }, { unique: true });
      await tags.insertOne({ tags: ['a', 'b'] });
      await expectCode(tags.insertOne({ tags: ['c', 'b'] }), 11000);
      expect(await tags.countDocuments()).to.equal(1);
    });

    it('syncIndexes is idempotent', async () => {
      const schema = new mongoose.Schema({ slug: { type: String, unique: true }, owner: String, at: Date });
      schema.index({ owner: 1, at: -1 });
      const M = conn.model('Synced', schema);
      await M.syncIndexes();
      const first = (await M.listIndexes()).map((i: any) => i.name).sort();
      const dropped = await M.syncIndexes();
      expect(dropped).to.deep.equal([]);
      const second = (await M.listIndexes()).map((i: any) => i.name).sort();
      expect(second).to.deep.equal(first);
      expect(second).to.include.members(['_id_', 'slug_1', 'owner_1_at_-1']);
      await M.createIndexes();
      expect((await M.listIndexes()).length).to.equal(first.length);
    });
  });

  describe('upserts', () => {
    it('200 concurrent $inc upserts give one document with 200 increments', async () => {
      const schema = new mongoose.Schema<{ key: string; count: number; firstSeen?: Date }>({ key: { type: String, unique: true }, count: Number, firstSeen: Date });
      const M = conn.model('Counter', schema);
      await M.init();
      await Promise.all(
        Array.from({ length: 200 }, () =>
          M.findOneAndUpdate({ key: 'usage:ws1:2025-01-01' }, { $inc: { count: 1 }, $setOnInsert: { firstSeen: new Date(0) } }, { upsert: true, new: true }),
        ),
      );
      const docs = await M.find({ key: 'usage:ws1:2025-01-01' }).lean();
      expect(docs).to.have.length(1);
      expect(docs[0]!.count).to.equal(200);
      expect(docs[0]!.firstSeen?.getTime()).to.equal(0);
    });

    it('$setOnInsert applies only on insert', async () => {
      const c = db.collection('soi');
      const r1 = await c.updateOne({ key: 'k', kind: { $eq: 'x' } }, { $setOnInsert: { createdAt: new Date(1000) }, $inc: { n: 1 } }, { upsert: true });
      expect(r1.upsertedCount).to.equal(1);
      expect(r1.upsertedId).to.be.instanceOf(ObjectId);
      const r2 = await c.updateOne({ key: 'k', kind: 'x' }, { $setOnInsert: { createdAt: new Date(2000) }, $inc: { n: 1 } }, { upsert: true });
      expect(r2.upsertedCount).to.equal(0);
      expect(r2.modifiedCount).to.equal(1);
      const doc = await c.findOne({ key: 'k' });
      expect(doc).to.include({ key: 'k', kind: 'x', n: 2 });
      expect(doc!.createdAt.getTime()).to.equal(1000);
      const replaced = await c.replaceOne({ key: 'r' }, { key: 'r', v: 1 }, { upsert: true });
      expect(replaced.upsertedCount).to.equal(1);
      expect(await c.countDocuments({ key: 'r', v: 1 })).to.equal(1);
    });
  });

  describe('aggregation', () => {
    it('$match / $group / $sum / $sort', async () => {
      const c = db.collection('usage');
      await c.insertMany([
        { ws: 'a', tokens: 10, model: 'm1' },
        { ws: 'a', tokens: 5, model: 'm2' },
        { ws: 'b', tokens: 7, model: 'm1' },
        { ws: 'c', tokens: 1, model: 'm1' },
      ]);
      const out = await c
        .aggregate([{ $match: { ws: { $in: ['a', 'b'] } } }, { $group: { _id: '$ws', total: { $sum: '$tokens' }, n: { $sum: 1 } } }, { $sort: { total: -1 } }])
        .toArray();
      expect(out).to.deep.equal([
        { _id: 'a', total: 15, n: 2 },
        { _id: 'b', total: 7, n: 1 },
      ]);
      const counted = await c.aggregate([{ $match: { model: 'm1' } }, { $count: 'n' }]).toArray();
      expect(counted).to.deep.equal([{ n: 3 }]);
      const unwound = await db
        .collection('distinct')
        .aggregate([{ $unwind: '$tags' }, { $group: { _id: '$tags', n: { $sum: 1 } } }, { $sort: { _id: 1 } }])
        .toArray();
      expect(unwound).to.deep.equal([
        { _id: 'x', n: 1 },
        { _id: 'y', n: 2 },
      ]);
    });

    it('$lookup joins another collection', async () => {
      const owners = db.collection('owners');
      const pets = db.collection('pets');
      const [o1, o2] = [new ObjectId(), new ObjectId()];
      await owners.insertMany([
        { _id: o1, name: 'Ann' },
        { _id: o2, name: 'Ben' },
      ]);
      await pets.insertMany([
        { name: 'Rex', owner: o1 },
        { name: 'Tom', owner: o1 },
        { name: 'Kit', owner: o2 },
      ]);
      const out = await owners
        .aggregate([
          { $lookup: { from: 'pets', localField: '_id', foreignField: 'owner', as: 'pets' } },
          { $project: { _id: 0, name: 1, pets: '$pets.name' } },
          { $sort: { name: 1 } },
        ])
        .toArray();
      expect(out.map((d) => ({ name: d.name, pets: [...d.pets].sort() }))).to.deep.equal([
        { name: 'Ann', pets: ['Rex', 'Tom'] },
        { name: 'Ben', pets: ['Kit'] },
      ]);
      // The joined collection is not modified by the pipeline.
      expect(await pets.countDocuments()).to.equal(3);
    });
  });

  describe('BSON types', () => {
    it('round-trips Decimal128, Long, Date, ObjectId, Binary, null and nested arrays', async () => {
      const c = db.collection('types');
      const id = new ObjectId();
      const when = new Date('2024-02-29T12:34:56.789Z');
      await c.insertOne({
        _id: id,
        dec: Decimal128.fromString('12345678901234567890.123456789'),
        long: Long.fromString('9007199254740993'),
        small: Long.fromNumber(42),
        when,
        ref: new ObjectId('65f0a1b2c3d4e5f601234567'),
        bin: new Binary(Buffer.from([1, 2, 3, 255])),
        none: null,
        nested: [[1, 2], [3, [4, 5]], { a: [{ b: 1 }] }],
        pi: 3.5,
        str: 'héllo',
        flag: true,
      });
      const doc = await c.findOne({ _id: id }, { promoteLongs: false });
      expect(doc).to.not.equal(null);
      expect(doc!.dec).to.be.instanceOf(Decimal128);
      expect(doc!.dec.toString()).to.equal('12345678901234567890.123456789');
      expect(doc!.long).to.be.instanceOf(Long);
      expect(doc!.long.toString()).to.equal('9007199254740993');
      expect(doc!.small).to.be.instanceOf(Long);
      expect(doc!.small.toNumber()).to.equal(42);
      expect(doc!.when).to.be.instanceOf(Date);
      expect(doc!.when.getTime()).to.equal(when.getTime());
      expect(doc!.ref.toHexString()).to.equal('65f0a1b2c3d4e5f601234567');
      expect(Buffer.from(doc!.bin.buffer).equals(Buffer.from([1, 2, 3, 255]))).to.equal(true);
      expect(doc!.none).to.equal(null);
      expect(doc!.nested).to.deep.equal([[1, 2], [3, [4, 5]], { a: [{ b: 1 }] }]);
      expect(doc).to.include({ pi: 3.5, str: 'héllo', flag: true });
      expect(await c.countDocuments({ ref: new ObjectId('65f0a1b2c3d4e5f601234567') })).to.equal(1);
      expect(await c.countDocuments({ when })).to.equal(1);
      expect(await c.countDocuments({ none: null })).to.equal(1);
    });
  });

  describe('unacknowledged writes', () => {
    it('a w:0 insert is visible to a following read on the same connection', async () => {
      const single = await MongoClient.connect(uri, { maxPoolSize: 1 });
      try {
        const c = single.db(dbName).collection('w0');
        await c.insertOne({ k: 'fire-and-forget' }, { writeConcern: { w: 0 } });
        await c.updateOne({ k: 'fire-and-forget' }, { $set: { v: 1 } }, { writeConcern: { w: 0 } });
        const doc = await c.findOne({ k: 'fire-and-forget' });
        expect(doc?.v).to.equal(1);
      } finally {
        await single.close();
      }
    });
  });

  describe('collections', () => {
    it('lists, creates and drops collections', async () => {
      await db.createCollection('explicit');
      await expectCode(db.createCollection('explicit').then(() => db.command({ create: 'explicit' })), 48);
      const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      expect(names).to.include('explicit');
      const filtered = await db.listCollections({ name: 'explicit' }).toArray();
      expect(filtered.map((c) => c.name)).to.deep.equal(['explicit']);
      expect(await db.collection('explicit').drop()).to.equal(true);
      expect((await db.listCollections({ name: 'explicit' }).toArray()).length).to.equal(0);
      await expectCode(db.command({ drop: 'never-existed' }), 26);
    });
  });
});

async function expectCode(p: Promise<unknown>, code: number): Promise<void> {
  let err: any;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  expect(err, `expected an error with code ${code}`).to.not.equal(undefined);
  expect(err.code).to.equal(code);
}
