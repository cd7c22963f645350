// Query and projection answers that must match MongoDB 7: runs against the built-in wire store, or against a real
// MongoDB when MONGODB_URI is set. Every expectation is MongoDB's documented answer.
import { expect } from 'chai';
import mongoose from 'mongoose';
import { Binary, DBRef, Decimal128, Long, ObjectId, Timestamp, type Db, type Document } from 'mongodb';
import { conformanceDatabase } from '../support/conformance-database';

describe('query conformance (driver + mongoose) — built-in wire store or MONGODB_URI', function () {
  this.timeout(60_000);

  const database = conformanceDatabase('queryconf');
  let conn: mongoose.Connection;
  let db: Db;
  before(() => ({ conn, db } = database));

  /** Documents of the tests carry string and number `_id`s. */
  const coll = (name: string) => db.collection<{ _id: unknown; [field: string]: unknown }>(name);
  const ids = async (collection: string, filter: Document, sort: Document = { _id: 1 }) =>
    (await coll(collection).find(filter).sort(sort).project({ _id: 1 }).toArray()).map((d) => d._id);

  describe('$type', () => {
    const oid = new ObjectId();
    before(async () => {
      await coll('types').insertMany([
        { _id: 'oid', v: oid },
        { _id: 'str', v: 'text' },
        { _id: 'int', v: 5 },
        { _id: 'double', v: 1.5 },
        { _id: 'long', v: Long.fromString('9007199254740993') },
        { _id: 'decimal', v: Decimal128.fromString('1.25') },
        { _id: 'bin', v: new Binary(Buffer.from([1, 2])) },
        { _id: 'date', v: new Date('2024-01-01T00:00:00Z') },
        { _id: 'bool', v: true },
        { _id: 'null', v: null },
        { _id: 'array', v: ['in-array', 7] },
        { _id: 'object', v: { x: 1 } },
        { _id: 'regex', v: /ab+c/i },
        { _id: 'ts', v: new Timestamp({ t: 100, i: 1 }) },
        { _id: 'missing' },
      ]);
      await coll('typeids').insertMany([{ _id: new ObjectId() }, { _id: 'plain-string' }]);
    });

    it('matches ObjectId _ids with $type objectId (and 7), strings with $type string', async () => {
      expect(await ids('typeids', { _id: { $type: 'objectId' } })).to.have.length(1);
      expect((await ids('typeids', { _id: { $type: 7 } }))[0]).to.be.instanceOf(ObjectId);
      expect(await ids('typeids', { _id: { $type: 'string' } })).to.deep.equal(['plain-string']);
    });

    it('knows every BSON type alias, its number, arrays of them and "number"', async () => {
      const cases: [unknown, string[]][] = [
        ['objectId', ['oid']],
        ['binData', ['bin']],
        ['date', ['date']],
        ['decimal', ['decimal']],
        ['long', ['long']],
        ['int', ['array', 'int']],
        ['double', ['double']],
        ['bool', ['bool']],
        ['null', ['null']],
        ['array', ['array']],
        ['object', ['object']],
        ['regex', ['regex']],
        ['timestamp', ['ts']],
        ['string', ['array', 'str']],
        ['number', ['array', 'decimal', 'double', 'int', 'long']],
        [5, ['bin']],
        [9, ['date']],
        [19, ['decimal']],
        [['date', 'bool'], ['bool', 'date']],
      ];
      for (const [type, expected] of cases) {
        expect(await ids('types', { v: { $type: type } }), `$type ${JSON.stringify(type)}`).to.deep.equal(expected);
      }
    });

    it('mongoose finds by $type objectId', async () => {
      const M = conn.model('TypeId', new mongoose.Schema({ _id: mongoose.Schema.Types.Mixed }), 'typeids');
      expect(await M.countDocuments({ _id: { $type: 'objectId' } })).to.equal(1);
    });
  });

  describe('$all', () => {
    before(async () => {
      await coll('all').insertMany([
        { _id: 1, tags: 'red', nested: { tag: 'red' } },
        { _id: 2, tags: ['red', 'blue'], nested: [{ tag: 'red' }, { tag: 'blue' }] },
        { _id: 3, tags: 'green', nested: { tag: 'green' } },
      ]);
    });

    it('matches a scalar field equal to the only value', async () => {
      expect(await ids('all', { tags: { $all: ['red'] } })).to.deep.equal([1, 2]);
      expect(await ids('all', { tags: { $all: ['red', 'blue'] } })).to.deep.equal([2]);
      expect(await ids('all', { tags: { $all: [] } })).to.deep.equal([]);
    });

    it('with a regex element and on dotted paths', async () => {
      expect(await ids('all', { tags: { $all: [/^gr/] } })).to.deep.equal([3]);
      expect(await ids('all', { 'nested.tag': { $all: ['red'] } })).to.deep.equal([1, 2]);
      expect(await ids('all', { 'nested.tag': { $all: [/^r/, 'blue'] } })).to.deep.equal([2]);
    });
  });

  describe('Binary comparison', () => {
    before(async () => {
      await coll('bins').insertMany([
        { _id: 'long-low', v: new Binary(Buffer.from([0, 0, 0]), 0) },
        { _id: 'short-high', v: new Binary(Buffer.from([255]), 0) },
        { _id: 'short-sub4', v: new Binary(Buffer.from([1]), 4) },
        { _id: 'short-low', v: new Binary(Buffer.from([1]), 0) },
      ]);
    });

    it('$gt / $lt compare length, then subtype, then bytes', async () => {
      const two = new Binary(Buffer.from([9, 9]), 0);
      expect(await ids('bins', { v: { $gt: two } })).to.deep.equal(['long-low']);
      expect(await ids('bins', { v: { $lt: two } })).to.deep.equal(['short-high', 'short-low', 'short-sub4']);
      expect(await ids('bins', { v: { $gt: new Binary(Buffer.from([1]), 0) } })).to.deep.equal(['long-low', 'short-high', 'short-sub4']);
    });

    it('sorts in the same order', async () => {
      const sorted = (await coll('bins').find({}).sort({ v: 1 }).toArray()).map((d) => d._id);
      expect(sorted).to.deep.equal(['short-low', 'short-high', 'short-sub4', 'long-low']);
    });
  });

  describe('type brackets and $in', () => {
    before(async () => {
      await coll('mixed').insertMany([
        { _id: 1, v: 5 },
        { _id: 2, v: '10' },
        { _id: 3, v: new Date(0) },
        { _id: 4, v: null },
        { _id: 5 },
        { _id: 6, v: [1, 'apple'] },
        { _id: 7, v: Long.fromNumber(7) },
        { _id: 8, v: 'banana' },
      ]);
    });

    it('$gt / $lt only compare within a type bracket; null and missing are one', async () => {
      expect(await ids('mixed', { v: { $gt: 0 } })).to.deep.equal([1, 6, 7]);
      expect(await ids('mixed', { v: { $lt: 'b' } })).to.deep.equal([2, 6]);
      expect(await ids('mixed', { v: { $gte: new Date(0) } })).to.deep.equal([3]);
      expect(await ids('mixed', { v: { $gte: null } })).to.deep.equal([4, 5]);
      expect(await ids('mixed', { v: { $gt: null } })).to.deep.equal([]);
      expect(await ids('mixed', { v: { $lte: Long.fromNumber(6) } })).to.deep.equal([1, 6]);
    });

    it('$in with regexes matches strings (also in arrays), with null matches missing', async () => {
      expect(await ids('mixed', { v: { $in: [/^ap/, 5] } })).to.deep.equal([1, 6]);
      expect(await ids('mixed', { v: { $in: [/an/] } })).to.deep.equal([8]);
      expect(await ids('mixed', { v: { $in: [null] } })).to.deep.equal([4, 5]);
      expect(await ids('mixed', { v: { $nin: [/^ap/, null, 5] } })).to.deep.equal([2, 3, 7, 8]);
    });

    it('sorts across types in BSON order', async () => {
      const sorted = (await coll('mixed').find({}).sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
      expect(sorted).to.deep.equal([4, 5, 6, 1, 7, 2, 8, 3]);
    });
  });

  describe('$slice projections', () => {
    before(async () => {
      await coll('slice').insertOne({ _id: 1, a: 1, b: 2, tags: ['x', 'y', 'z'], n: { arr: [1, 2, 3] } });
    });

    it('alone returns the whole document with the array sliced', async () => {
      const doc = await coll('slice').findOne({}, { projection: { tags: { $slice: 1 } } });
      expect(doc).to.deep.equal({ _id: 1, a: 1, b: 2, tags: ['x'], n: { arr: [1, 2, 3] } });
      const nested = await coll('slice').findOne({}, { projection: { 'n.arr': { $slice: -2 } } });
      expect(nested).to.deep.equal({ _id: 1, a: 1, b: 2, tags: ['x', 'y', 'z'], n: { arr: [2, 3] } });
    });

    it('works inside exclusion and inclusion projections', async () => {
      const excl = await coll('slice').findOne({}, { projection: { a: 0, tags: { $slice: -1 } } });
      expect(excl).to.deep.equal({ _id: 1, b: 2, tags: ['z'], n: { arr: [1, 2, 3] } });
      const incl = await coll('slice').findOne({}, { projection: { a: 1, tags: { $slice: [1, 1] } } });
      expect(incl).to.deep.equal({ _id: 1, a: 1, tags: ['y'] });
    });

    it('through mongoose', async () => {
      const M = conn.model('Sliced', new mongoose.Schema({ a: Number, b: Number, tags: [String] }), 'slice');
      const doc = await M.findOne({}, { tags: { $slice: 2 } }).lean();
      expect(doc?.tags).to.deep.equal(['x', 'y']);
      expect(doc?.b).to.equal(2);
    });
  });

  describe('$elemMatch projections', () => {
    const d1 = new Date('2024-01-01T00:00:00Z');
    const d2 = new Date('2024-06-01T00:00:00Z');
    before(async () => {
      await coll('emp').insertOne({ _id: 1, a: 1, d: [d1, d2], items: [{ k: 1 }, { k: 2, x: 'b' }, { k: 2, x: 'c' }] });
    });

    it('with an operator on a scalar array', async () => {
      const doc = await coll('emp').findOne({}, { projection: { d: { $elemMatch: { $gte: d2 } } } });
      expect(doc).to.deep.equal({ _id: 1, d: [d2] });
    });

    it('on documents, with exclusion, and with no match', async () => {
      expect(await coll('emp').findOne({}, { projection: { _id: 0, items: { $elemMatch: { k: 2 } } } })).to.deep.equal({ items: [{ k: 2, x: 'b' }] });
      expect(await coll('emp').findOne({}, { projection: { d: 0, items: { $elemMatch: { x: 'c' } } } })).to.deep.equal({ _id: 1, a: 1, items: [{ k: 2, x: 'c' }] });
      expect(await coll('emp').findOne({}, { projection: { items: { $elemMatch: { k: 9 } } } })).to.deep.equal({ _id: 1 });
    });
  });

  describe('DBRef $id fields', () => {
    const target = new ObjectId();
    const other = new ObjectId();
    before(async () => {
      await coll('refs').insertMany([
        { _id: 1, refs: [new DBRef('users', target), new DBRef('users', other)], ref: new DBRef('users', target) },
        { _id: 2, refs: [new DBRef('users', other)], ref: new DBRef('groups', other) },
      ]);
    });

    it('$elemMatch on $id / $ref', async () => {
      expect(await ids('refs', { refs: { $elemMatch: { $id: target } } })).to.deep.equal([1]);
      expect(await ids('refs', { refs: { $elemMatch: { $ref: 'users', $id: other } } })).to.deep.equal([1, 2]);
    });

    it('dotted paths through $id and $ref', async () => {
      expect(await ids('refs', { 'ref.$id': target })).to.deep.equal([1]);
      expect(await ids('refs', { 'refs.$id': other })).to.deep.equal([1, 2]);
      expect(await ids('refs', { 'ref.$ref': 'groups' })).to.deep.equal([2]);
    });

    it('equality with a whole DBRef', async () => {
      expect(await ids('refs', { ref: new DBRef('users', target) })).to.deep.equal([1]);
    });
  });

  describe('$natural sort', () => {
    it('{ $natural: 1 } is insertion order; { $natural: -1 } is its reverse or, on the built-in store, a clear refusal', async () => {
      await coll('natural').insertMany([{ _id: 3 }, { _id: 1 }, { _id: 2 }]);
      expect(await ids('natural', {}, { $natural: 1 })).to.deep.equal([3, 1, 2]);
      const reversed = await ids('natural', {}, { $natural: -1 }).catch((error: { code?: number }) => error);
      if (process.env.MONGODB_URI) expect(reversed).to.deep.equal([2, 1, 3]);
      else expect((reversed as { code?: number }).code).to.equal(238);
    });
  });
});
