// Conformance of the store's commands (listIndexes, aggregate stage names, collMod, explain, create options,
// validators, hint) with MongoDB 7: runs against the built-in wire store, or against a real MongoDB when MONGODB_URI
// is set. Refusals (code 238) are asserted only against the built-in store; real MongoDB's answers otherwise.
import { expect } from 'chai';
import { MongoClient, MongoServerError, type Db, type Document } from 'mongodb';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { Store } from '../../server/db/wire-store/collection-store';
import type { JournalRecord } from '../../server/db/wire-store/journal-records';
import { CommandHandlers } from '../../server/db/wire-store/command-handlers';
import { CursorManager } from '../../server/db/wire-store/cursor-manager';
import { sweepExpired } from '../../server/db/wire-store/ttl-monitor';

const realMongo = Boolean(process.env.MONGODB_URI);

async function serverError(p: Promise<unknown>): Promise<MongoServerError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof MongoServerError) return err;
    throw err;
  }
  throw new Error('expected a server error');
}

/** Every stage name of an explain plan tree (winningPlan and its inputStage(s)). */
function stages(plan: Document | undefined): string[] {
  if (!plan) return [];
  const out = [String(plan.stage)];
  if (plan.inputStage) out.push(...stages(plan.inputStage));
  for (const s of plan.inputStages ?? []) out.push(...stages(s));
  return out;
}

function indexNames(plan: Document | undefined): string[] {
  if (!plan) return [];
  const out = plan.indexName ? [String(plan.indexName)] : [];
  if (plan.inputStage) out.push(...indexNames(plan.inputStage));
  return out;
}

describe('wire store commands conformance — built-in wire store or MONGODB_URI', function () {
  this.timeout(60_000);

  let client: MongoClient;
  let db: Db;

  before(async () => {
    client = await MongoClient.connect(await getTestMongoUri());
    db = client.db(uniqueDatabaseName('commands'));
  });

  after(async () => {
    await db?.dropDatabase().catch(() => undefined);
    await client?.close();
  });

  it('listIndexes returns every option given to createIndexes (background, TTL, partial, hidden, sparse, unique, name)', async () => {
    const coll = db.collection('list_indexes');
    await coll.createIndex({ a: 1 }, { background: true, name: 'a_background' });
    await coll.createIndex({ b: 1 }, { expireAfterSeconds: 3600 });
    await coll.createIndex({ c: 1 }, { unique: true, partialFilterExpression: { c: { $exists: true } } });
    await coll.createIndex({ d: 1 }, { hidden: true });
    await coll.createIndex({ e: 1, f: -1 }, { sparse: true });
    const indexes = await coll.listIndexes().toArray();
    const byName = new Map(indexes.map((i) => [i.name as string, i]));
    expect([...byName.keys()]).to.have.members(['_id_', 'a_background', 'b_1', 'c_1', 'd_1', 'e_1_f_-1']);
    expect(byName.get('_id_')).to.deep.include({ v: 2, key: { _id: 1 } });
    expect(byName.get('a_background')).to.deep.include({ v: 2, key: { a: 1 }, background: true });
    expect(byName.get('b_1')).to.deep.include({ key: { b: 1 }, expireAfterSeconds: 3600 });
    expect(byName.get('c_1')).to.deep.include({ key: { c: 1 }, unique: true, partialFilterExpression: { c: { $exists: true } } });
    expect(byName.get('d_1')).to.deep.include({ key: { d: 1 }, hidden: true });
    expect(byName.get('e_1_f_-1')).to.deep.include({ key: { e: 1, f: -1 }, sparse: true });
  });

  it('an unknown aggregation stage is error 40324 "Unrecognized pipeline stage name", also inside $facet', async () => {
    const coll = db.collection('unknown_stage');
    await coll.insertOne({ x: 1 });
    const err = await serverError(coll.aggregate([{ $match: {} }, { $foo: {} }]).toArray());
    expect(err.code).to.equal(40324);
    expect(err.message).to.contain("Unrecognized pipeline stage name: '$foo'");
    const nested = await serverError(coll.aggregate([{ $facet: { a: [{ $bar: 1 }] } }]).toArray());
    expect(nested.code).to.equal(40324);
    expect(nested.message).to.contain("Unrecognized pipeline stage name: '$bar'");
  });

  it("collMod changes a TTL index's expireAfterSeconds (answering _old/_new) and the TTL monitor uses the new value", async () => {
    const coll = db.collection('collmod_ttl');
    await coll.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
    const reply = await db.command({ collMod: 'collmod_ttl', index: { keyPattern: { at: 1 }, expireAfterSeconds: 60 } });
    expect(reply).to.deep.include({ ok: 1, expireAfterSeconds_old: 3600, expireAfterSeconds_new: 60 });
    const spec = (await coll.listIndexes().toArray()).find((i) => i.name === 'at_1');
    expect(spec?.expireAfterSeconds).to.equal(60);
    const missing = await serverError(db.command({ collMod: 'collmod_ttl', index: { name: 'nope_1', expireAfterSeconds: 5 } }));
    expect(missing.code).to.equal(27);

    if (!realMongo) {
      // The store's TTL sweep (once a minute; called directly here) and its journal both follow the new value.
      const records: JournalRecord[] = [];
      const store = new Store({ append: (r) => records.push(r as unknown as JournalRecord) });
      const handlers = new CommandHandlers(store, new CursorManager());
      const conn = { id: 1, remote: 'test' };
      handlers.handle('t', { createIndexes: 'c', indexes: [{ key: { at: 1 }, name: 'at_1', expireAfterSeconds: 3600 }] }, conn);
      expect(handlers.handle('t', { collMod: 'c', index: { name: 'at_1', expireAfterSeconds: 60 } }, conn)).to.deep.include({ ok: 1 });
      const now = Date.now();
      handlers.handle('t', { insert: 'c', documents: [{ _id: 1, at: new Date(now - 120_000) }, { _id: 2, at: new Date(now - 30_000) }] }, conn);
      expect(sweepExpired(store, now)).to.equal(1);
      expect([...store.get('t', 'c')!.docs.values()].map((d) => d._id)).to.deep.equal([2]);
      const replayed = new Store();
      for (const r of records) replayed.replay(r as unknown as Document);
      expect(replayed.get('t', 'c')!.indexes.find('at_1')?.expireAfterSeconds).to.equal(60);
    }
  });

  it('collMod hides and unhides an index: a hidden index is not planned or hintable but still enforces uniqueness', async () => {
    const coll = db.collection('collmod_hidden');
    await coll.createIndex({ h: 1 }, { unique: true });
    await coll.insertMany([{ h: 1 }, { h: 2 }]);
    const hide = await db.command({ collMod: 'collmod_hidden', index: { name: 'h_1', hidden: true } });
    expect(hide).to.deep.include({ ok: 1, hidden_old: false, hidden_new: true });
    expect((await coll.listIndexes().toArray()).find((i) => i.name === 'h_1')).to.deep.include({ hidden: true });
    const hiddenPlan = (await coll.find({ h: 1 }).explain('queryPlanner')) as Document;
    expect(stages(hiddenPlan.queryPlanner.winningPlan)).to.include('COLLSCAN');
    expect(indexNames(hiddenPlan.queryPlanner.winningPlan)).to.not.include('h_1');
    expect((await serverError(coll.insertOne({ h: 1 }))).code).to.equal(11000);
    const hint = await serverError(coll.find({ h: 1 }).hint('h_1').toArray());
    expect(hint.code).to.equal(2);
    expect(await coll.countDocuments({ h: 2 })).to.equal(1);

    const unhide = await db.command({ collMod: 'collmod_hidden', index: { name: 'h_1', hidden: false } });
    expect(unhide).to.deep.include({ ok: 1, hidden_old: true, hidden_new: false });
    const plan = (await coll.find({ h: 1 }).explain('queryPlanner')) as Document;
    expect(stages(plan.queryPlanner.winningPlan)).to.include('IXSCAN');
    expect(indexNames(plan.queryPlanner.winningPlan)).to.deep.equal(['h_1']);
  });

  it('collMod changes validator, validationLevel and validationAction (shown by listCollections, enforced on writes)', async () => {
    await db.createCollection('collmod_validator');
    const coll = db.collection('collmod_validator');
    await coll.insertOne({ _id: 'old-invalid' as never, qty: -5 });
    expect(await db.command({ collMod: 'collmod_validator', validator: { qty: { $gte: 0 } } })).to.deep.include({ ok: 1 });
    const [info] = await db.listCollections({ name: 'collmod_validator' }).toArray();
    expect((info as Document).options.validator).to.deep.equal({ qty: { $gte: 0 } });
    expect((await serverError(coll.insertOne({ qty: -1 }))).code).to.equal(121);

    await db.command({ collMod: 'collmod_validator', validationLevel: 'moderate' });
    // moderate: updates of documents that were already invalid are not checked
    await coll.updateOne({ _id: 'old-invalid' as never }, { $set: { qty: -6 } });
    expect((await serverError(coll.insertOne({ qty: -2 }))).code).to.equal(121);

    await db.command({ collMod: 'collmod_validator', validationAction: 'warn' });
    await coll.insertOne({ _id: 'warned' as never, qty: -3 });
    expect(await coll.countDocuments({ _id: 'warned' as never })).to.equal(1);
    const [after] = await db.listCollections({ name: 'collmod_validator' }).toArray();
    expect((after as Document).options).to.deep.include({ validationLevel: 'moderate', validationAction: 'warn' });
  });

  it('explain (queryPlanner) reports IXSCAN for an indexed lookup, IDHACK for _id, COLLSCAN otherwise', async () => {
    const coll = db.collection('explain');
    await coll.createIndex({ k: 1 });
    await coll.insertMany([{ _id: 1 as never, k: 1, z: 1 }, { _id: 2 as never, k: 2, z: 2 }]);
    const indexed = (await coll.find({ k: 1 }).explain('queryPlanner')) as Document;
    expect(indexed.queryPlanner.namespace).to.equal(`${db.databaseName}.explain`);
    expect(stages(indexed.queryPlanner.winningPlan)).to.include.members(['FETCH', 'IXSCAN']);
    expect(indexNames(indexed.queryPlanner.winningPlan)).to.deep.equal(['k_1']);
    const scan = (await coll.find({ z: 1 }).explain('queryPlanner')) as Document;
    expect(stages(scan.queryPlanner.winningPlan)).to.include('COLLSCAN');
    const byId = (await coll.find({ _id: 1 as never }).explain('queryPlanner')) as Document;
    expect(stages(byId.queryPlanner.winningPlan)).to.include('IDHACK');
    const stats = (await coll.find({ k: 2 }).explain('executionStats')) as Document;
    expect(stats.executionStats).to.deep.include({ executionSuccess: true, nReturned: 1 });
    if (!realMongo) {
      const refused = await serverError(coll.aggregate([{ $match: { k: 1 } }]).explain('queryPlanner'));
      expect(refused.code).to.equal(238);
    }
  });

  it('create with clusteredIndex: MongoDB creates a clustered collection, the store refuses it (238)', async () => {
    const create = db.createCollection('clustered', { clusteredIndex: { key: { _id: 1 }, unique: true } });
    if (realMongo) {
      await create;
      const [info] = await db.listCollections({ name: 'clustered' }).toArray();
      expect((info as Document).options.clusteredIndex).to.deep.include({ key: { _id: 1 }, unique: true });
    } else {
      expect((await serverError(create)).code).to.equal(238);
    }
  });

  it('create validators are enforced on insert and update (121), with bypassDocumentValidation; $jsonSchema refused by the store', async () => {
    await db.createCollection('validated', { validator: { $and: [{ name: { $type: 'string' } }, { $expr: { $gte: ['$qty', 0] } }] } });
    const coll = db.collection('validated');
    await coll.insertOne({ _id: 'ok' as never, name: 'a', qty: 1 });
    const bad = await serverError(coll.insertOne({ _id: 'bad' as never, name: 'b', qty: -1 }));
    expect(bad.code).to.equal(121);
    expect(bad.errInfo?.failingDocumentId).to.equal('bad');
    expect((await serverError(coll.updateOne({ _id: 'ok' as never }, { $set: { qty: -1 } }))).code).to.equal(121);
    expect((await serverError(coll.insertOne({ qty: 3 }))).code).to.equal(121);
    await coll.insertOne({ _id: 'bypassed' as never, qty: -9 }, { bypassDocumentValidation: true });
    await coll.updateOne({ _id: 'ok' as never }, { $set: { qty: -2 } }, { bypassDocumentValidation: true });
    expect(await coll.find({}, { sort: { _id: 1 } }).toArray()).to.deep.equal([
      { _id: 'bypassed', qty: -9 },
      { _id: 'ok', name: 'a', qty: -2 },
    ]);

    const schema = db.createCollection('schema_validated', { validator: { $jsonSchema: { required: ['name'] } } });
    if (realMongo) {
      await schema;
      expect((await serverError(db.collection('schema_validated').insertOne({ qty: 1 }))).code).to.equal(121);
    } else {
      expect((await serverError(schema)).code).to.equal(238);
    }
  });

  it('hint picks the index by name or key pattern; an unknown index is error 2; $natural forces a collection scan', async () => {
    const coll = db.collection('hinted');
    await coll.createIndex({ k: 1 });
    await coll.createIndex({ s: 1 }, { sparse: true });
    await coll.insertMany([{ _id: 1 as never, k: 1, city: 'a' }, { _id: 2 as never, k: 2, city: 'b' }, { _id: 3 as never, k: 3, city: 'a', s: 1 }]);
    expect(await coll.find({ k: 2 }).hint('k_1').toArray()).to.deep.equal([{ _id: 2, k: 2, city: 'b' }]);
    expect((await coll.find({ city: 'a' }).hint({ k: 1 }).toArray()).map((d) => d._id)).to.have.members([1, 3]);
    const byName = (await coll.find({ city: 'a' }).hint('k_1').explain('queryPlanner')) as Document;
    expect(indexNames(byName.queryPlanner.winningPlan)).to.deep.equal(['k_1']);
    const natural = (await coll.find({ k: 1 }).hint({ $natural: 1 }).explain('queryPlanner')) as Document;
    expect(stages(natural.queryPlanner.winningPlan)).to.include('COLLSCAN');
    expect(await coll.countDocuments({ city: 'a' }, { hint: 'k_1' })).to.equal(2);

    const unknown = await serverError(coll.find({ k: 1 }).hint('nope_1').toArray());
    expect(unknown.code).to.equal(2);
    expect(unknown.message).to.contain('hint provided does not correspond to an existing index');
    expect((await serverError(coll.find({}).hint({ nope: 1 }).toArray())).code).to.equal(2);
    expect((await serverError(coll.updateOne({ k: 1 }, { $set: { x: 1 } }, { hint: 'nope_1' }))).code).to.equal(2);
    expect((await serverError(coll.deleteOne({ k: 1 }, { hint: 'nope_1' }))).code).to.equal(2);
    expect(await coll.countDocuments({})).to.equal(3);

    const sparse = coll.find({}).hint('s_1').toArray();
    if (realMongo) expect((await sparse).map((d) => d._id)).to.deep.equal([3]);
    else expect((await serverError(sparse)).code).to.equal(238);
  });
});
