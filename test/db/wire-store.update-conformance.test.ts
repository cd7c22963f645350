// Update-operator conformance: what MongoDB 7 answers for $pull conditions, array operators on
// non-arrays, paths through arrays, positional paths sharing an element, `$`-prefixed field names and
// the 16 MiB document limit. Runs against the built-in wire store, or a real MongoDB when MONGODB_URI
// is set; every expectation here is MongoDB's own answer (write errors are checked by code).
import { expect } from 'chai';
import mongoose from 'mongoose';
import { BSON, MongoServerError, type Collection, type Db, type Document } from 'mongodb';
import { conformanceDatabase } from '../support/conformance-database';

const MAX_BSON = 16 * 1024 * 1024;

async function errorOf(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected the operation to fail');
}

describe('update conformance (driver + mongoose) — built-in wire store or MONGODB_URI', function () {
  this.timeout(120_000);

  const database = conformanceDatabase('update_conformance');
  let conn: mongoose.Connection;
  let db: Db;
  before(() => ({ conn, db } = database));
  let seq = 0;
  const fresh = (): Collection<Document> => db.collection(`c${++seq}`);

  describe('$pull conditions', () => {
    it('pulls sub-documents matched by $or (the shape mongoose sends for subdocuments without _id)', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, items: [{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'c', n: 3 }, 'a'] });
      const res = await c.updateOne({ _id: 1 as never }, { $pull: { items: { $or: [{ k: 'a' }, { n: 3 }] } } as never });
      expect(res.modifiedCount).to.equal(1);
      expect((await c.findOne({ _id: 1 as never }))?.items).to.deep.equal([{ k: 'b', n: 2 }, 'a']);
    });

    it('treats a plain object as a query on each sub-document and supports $and, $nor and field operators', async () => {
      const c = fresh();
      const items = [{ k: 'a', n: 1, tag: 'x' }, { k: 'b', n: 2 }, { k: 'c', n: 3, tag: 'y' }, { k: 'd', n: 4 }];
      await c.insertMany([{ _id: 1, items }, { _id: 2, items }, { _id: 3, items }] as never);
      await c.updateOne({ _id: 1 as never }, { $pull: { items: { k: 'a' } } as never }); // matches {k:'a', n:1, tag:'x'}
      await c.updateOne({ _id: 2 as never }, { $pull: { items: { $and: [{ n: { $gte: 2 } }, { tag: { $exists: false } }] } } as never });
      await c.updateOne({ _id: 3 as never }, { $pull: { items: { $nor: [{ n: { $lt: 3 } }] } } as never });
      const docs = await c.find().sort({ _id: 1 }).toArray();
      expect(docs[0]!.items.map((i: Document) => i.k)).to.deep.equal(['b', 'c', 'd']);
      expect(docs[1]!.items.map((i: Document) => i.k)).to.deep.equal(['a', 'c']);
      expect(docs[2]!.items.map((i: Document) => i.k)).to.deep.equal(['a', 'b']);
    });

    it('applies operator conditions to the elements themselves ($gte, $in, regex, $elemMatch on nested arrays)', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, nums: [1, 5, 8, 2], words: ['apple', 'berry', 'avocado'], grid: [[1, 2], [3, 4], [5]], tags: ['x', 'y', 'z'] });
      await c.updateOne(
        { _id: 1 as never },
        { $pull: { nums: { $gte: 5 }, words: /^a/, grid: { $elemMatch: { $gte: 4 } }, tags: { $in: ['x', 'z'] } } } as never,
      );
      const doc = await c.findOne({ _id: 1 as never });
      expect(doc?.nums).to.deep.equal([1, 2]);
      expect(doc?.words).to.deep.equal(['berry']);
      expect(doc?.grid).to.deep.equal([[1, 2]]);
      expect(doc?.tags).to.deep.equal(['y']);
    });

    it('mongoose pull() of a subdocument without _id removes it', async () => {
      const Line = new mongoose.Schema({ sku: String, qty: Number }, { _id: false });
      const Order = conn.model('PullOrder', new mongoose.Schema({ lines: [Line] }));
      const order = await Order.create({ lines: [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] });
      order.lines.pull(order.lines[0]!);
      await order.save();
      const stored = await Order.findById(order._id).lean();
      expect(stored?.lines).to.deep.equal([{ sku: 'b', qty: 2 }]);
    });
  });

  describe('array operators on a non-array field', () => {
    it('fails with MongoDB codes ($push/$addToSet/$pull/$pullAll: 2 BadValue, $pop: 14 TypeMismatch) and changes nothing', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, s: 'text' });
      const cases: Array<[Document, number]> = [
        [{ $push: { s: 1 } }, 2],
        [{ $addToSet: { s: 1 } }, 2],
        [{ $pull: { s: 1 } }, 2],
        [{ $pullAll: { s: [1] } }, 2],
        [{ $pop: { s: 1 } }, 14],
      ];
      for (const [update, code] of cases) {
        const err = await errorOf(c.updateOne({ _id: 1 as never }, update));
        expect(err.code, JSON.stringify(update)).to.equal(code);
      }
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, s: 'text' });
    });

    it('a missing field is created by $push/$addToSet and left alone by $pull/$pop', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never });
      const res = await c.updateOne({ _id: 1 as never }, { $pull: { a: 1 }, $pop: { b: 1 } } as never);
      expect(res.modifiedCount).to.equal(0);
      await c.updateOne({ _id: 1 as never }, { $push: { a: 1 }, $addToSet: { b: { $each: [2, 2, 3] } } } as never);
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, a: [1], b: [2, 3] });
    });
  });

  describe('paths through arrays', () => {
    it('$set/$inc of a named field inside an array fail with 28 PathNotViable; $unset is a no-op', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, items: [{ q: 1 }], n: 5 });
      for (const update of [{ $set: { 'items.k': 1 } }, { $inc: { 'items.k': 1 } }, { $set: { 'n.x': 1 } }, { $pull: { 'items.k': 1 } }]) {
        const err = await errorOf(c.updateOne({ _id: 1 as never }, update as never));
        expect(err.code, JSON.stringify(update)).to.equal(28);
      }
      const res = await c.updateOne({ _id: 1 as never }, { $unset: { 'items.k': '' } });
      expect(res.matchedCount).to.equal(1);
      expect(res.modifiedCount).to.equal(0);
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, items: [{ q: 1 }], n: 5 });
    });

    it('numeric parts address elements; $set past the end pads with null', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, items: [{ q: 1 }] });
      await c.updateOne({ _id: 1 as never }, { $set: { 'items.0.k': 'x', 'items.2': 'z' } });
      expect((await c.findOne({ _id: 1 as never }))?.items).to.deep.equal([{ q: 1, k: 'x' }, null, 'z']);
    });
  });

  describe('several paths through one array element', () => {
    it('applies $set of items.$.q and items.$.k, and $set plus $inc on items.$ fields', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, items: [{ id: 'a', q: 1, k: 0 }, { id: 'b', q: 2, k: 0 }] });
      await c.updateOne({ _id: 1 as never, 'items.id': 'b' }, { $set: { 'items.$.q': 20, 'items.$.k': 'x' } });
      await c.updateOne({ _id: 1 as never, 'items.id': 'a' }, { $set: { 'items.$.k': 'y' }, $inc: { 'items.$.q': 10 } });
      expect((await c.findOne({ _id: 1 as never }))?.items).to.deep.equal([
        { id: 'a', q: 11, k: 'y' },
        { id: 'b', q: 20, k: 'x' },
      ]);
    });

    it('applies the same with $[] and with $[id] + arrayFilters', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, items: [{ id: 'a', q: 1 }, { id: 'b', q: 2 }] });
      await c.updateOne({ _id: 1 as never }, { $set: { 'items.$[].k': 0 }, $inc: { 'items.$[].q': 1 } });
      await c.updateOne({ _id: 1 as never }, { $set: { 'items.$[e].k': 'hit' }, $inc: { 'items.$[e].q': 100 } }, { arrayFilters: [{ 'e.id': 'b' }] });
      expect((await c.findOne({ _id: 1 as never }))?.items).to.deep.equal([
        { id: 'a', q: 2, k: 0 },
        { id: 'b', q: 103, k: 'hit' },
      ]);
    });

    it('only truly overlapping paths conflict (code 40)', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, a: { b: 1 }, items: [{ q: 1 }] });
      for (const update of [
        { $set: { a: 1, 'a.b': 2 } },
        { $set: { 'a.b': 1 }, $inc: { 'a.b': 1 } },
        { $set: { 'items.$[]': 1, 'items.$[].q': 2 } },
        { $set: { x: 1 }, $setOnInsert: { x: 2 } },
      ]) {
        const err = await errorOf(c.updateOne({ _id: 1 as never }, update as never));
        expect(err.code, JSON.stringify(update)).to.equal(40);
      }
    });

    it('mongoose: a child schema with timestamps updated through the positional $', async () => {
      const Child = new mongoose.Schema({ name: String, qty: Number }, { timestamps: true });
      const Parent = conn.model('TimestampParent', new mongoose.Schema({ children: [Child] }, { timestamps: true }));
      const parent = await Parent.create({ children: [{ name: 'a', qty: 1 }, { name: 'b', qty: 2 }] });
      const childId = parent.children[1]!._id;
      const before = (parent.children[1] as unknown as { updatedAt: Date }).updatedAt;
      await new Promise((r) => setTimeout(r, 5));
      const res = await Parent.updateOne({ _id: parent._id, 'children._id': childId }, { $set: { 'children.$.qty': 5 } });
      expect(res.modifiedCount).to.equal(1);
      const stored = await Parent.findById(parent._id).lean();
      const child = stored!.children[1] as unknown as { qty: number; updatedAt: Date };
      expect(child.qty).to.equal(5);
      expect(child.updatedAt.getTime()).to.be.greaterThan(before.getTime());
      expect(stored!.children[0]!.qty).to.equal(1);
    });
  });

  describe('$-prefixed field names (MongoDB 5.0+ rules)', () => {
    it('inserts and upserts accept $-prefixed names; updating an existing document refuses a top-level one (code 52)', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, $price: 50, nested: { $inc: true } });
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, $price: 50, nested: { $inc: true } });

      const up = await c.updateOne({ date: '2021-07-07' }, { $set: { phone: 25, $hotel: 320 } }, { upsert: true });
      expect(up.upsertedCount).to.equal(1);
      expect(await c.findOne({ date: '2021-07-07' }, { projection: { _id: 0 } })).to.deep.equal({ date: '2021-07-07', phone: 25, $hotel: 320 });

      const err = await errorOf(c.updateOne({ date: '2021-07-07' }, { $set: { $hotel: 1 } }));
      expect(err.code).to.equal(52);
    });

    it('accepts $-prefixed names below the top level in modifier and replacement updates', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, a: {} });
      await c.updateOne({ _id: 1 as never }, { $set: { 'a.$b': 1 } });
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, a: { $b: 1 } });
      await c.replaceOne({ _id: 1 as never }, { x: { $y: 2 } });
      expect(await c.findOne({ _id: 1 as never })).to.deep.equal({ _id: 1, x: { $y: 2 } });
    });
  });

  describe('16 MiB document limit', () => {
    const filler = (size: number, extra: Document = {}): Document => {
      const base = { _id: 1, ...extra, s: '' };
      const overhead = bsonSize(base);
      return { ...base, s: 'x'.repeat(size - overhead) };
    };

    it('accepts a document of exactly 16777216 bytes and refuses a larger insert (code 2)', async () => {
      const c = fresh();
      const exact = filler(MAX_BSON);
      expect(bsonSize(exact)).to.equal(MAX_BSON);
      await c.insertOne(exact);
      expect(await c.countDocuments()).to.equal(1);
      const tooBig = { ...filler(MAX_BSON + 1), _id: 2 };
      const err = await errorOf(c.insertOne(tooBig as never));
      expect(err.code).to.equal(2);
      expect(await c.countDocuments()).to.equal(1);
    });

    it('refuses an update whose result exceeds the limit (17419), an oversized upsert (17420) and findAndModify alike', async () => {
      const c = fresh();
      await c.insertOne({ _id: 1 as never, s: 'x'.repeat(MAX_BSON - 1024) });
      const grow = { $set: { t: 'y'.repeat(2048) } };
      const err = await errorOf(c.updateOne({ _id: 1 as never }, grow));
      expect(err.code).to.be.oneOf([17419, 10334]);
      const fam = await errorOf(c.findOneAndUpdate({ _id: 1 as never }, grow));
      expect(fam.code).to.be.oneOf([17419, 10334]);
      const doc = await c.findOne({ _id: 1 as never });
      expect(doc?.t).to.equal(undefined);

      const up = await errorOf(c.updateOne({ _id: 2 as never }, { $set: { s: 'x'.repeat(MAX_BSON - 1024), t: 'y'.repeat(2048) } }, { upsert: true }));
      expect(up.code).to.equal(17420);
      expect(await c.countDocuments()).to.equal(1);
    });
  });
});

function bsonSize(doc: Document): number {
  return BSON.calculateObjectSize(doc);
}
