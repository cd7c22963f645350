// Collections and databases: create, drop, dropDatabase, renameCollection, listCollections, listDatabases, dbStats, collStats.
import type { Document } from 'bson';
import { cloneValue, formatKeyValue, isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { compileFilter, refuseCollation } from '../query-engine';
import { asBool, asNumber, collectionArg, optionalObject, type CommandContext, type CommandTable } from './command-support';
import { parseValidationOptions } from './validation';

/** Fields every command may carry (not options of collMod). */
const GENERIC_ARGUMENTS = new Set(['lsid', 'writeConcern', 'comment', 'maxTimeMS', 'apiVersion', 'apiStrict', 'apiDeprecationErrors', 'readConcern']);
/** collMod options of MongoDB 7 that the store cannot apply (refused with 238). */
const UNSUPPORTED_COLLMOD = new Set(['viewOn', 'pipeline', 'changeStreamPreAndPostImages', 'expireAfterSeconds', 'timeseries', 'cappedSize', 'cappedMax', 'recordPreImages']);

function dbStats(ctx: CommandContext, db: string): Document {
  const colls = ctx.store.collections(db);
  const objects = colls.reduce((n, c) => n + c.docs.size, 0);
  const dataSize = colls.reduce((n, c) => n + c.approximateSize, 0);
  return {
    db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes: colls.reduce((n, c) => n + 1 + c.indexes.count, 0),
    indexSize: 0,
    ok: 1,
  };
}

function collStats(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'collStats');
  const coll = ctx.store.get(db, name);
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `Collection [${db}.${name}] not found.`);
  return { ns: coll.ns, count: coll.docs.size, size: coll.approximateSize, storageSize: coll.approximateSize, nindexes: 1 + coll.indexes.count, ok: 1 };
}

function create(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'create');
  for (const opt of ['viewOn', 'timeseries', 'clusteredIndex', 'capped', 'changeStreamPreAndPostImages', 'encryptedFields']) {
    if (cmd[opt] !== undefined && cmd[opt] !== false) throw notSupported(`The create option '${opt}'`);
  }
  refuseCollation(cmd);
  const options = parseValidationOptions(cmd, 'create');
  if (ctx.store.get(db, name)) throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
  ctx.store.create(db, name, options);
  return { ok: 1 };
}

/** collMod: index `expireAfterSeconds` / `hidden`, and `validator` / `validationLevel` / `validationAction`. */
function collMod(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'collMod');
  for (const key of Object.keys(cmd)) {
    if (key === 'collMod' || key === 'index' || key === 'validator' || key === 'validationLevel' || key === 'validationAction') continue;
    if (key.startsWith('$') || GENERIC_ARGUMENTS.has(key)) continue;
    if (UNSUPPORTED_COLLMOD.has(key)) throw notSupported(`The collMod option '${key}'`);
    throw new CommandError(ErrorCodes.Location40415, `BSON field 'collMod.${key}' is an unknown field.`);
  }
  const options = parseValidationOptions(cmd, 'collMod');
  const coll = ctx.store.get(db, name);
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
  const reply: Document = {};
  let indexChange: (() => void) | undefined;
  if (cmd.index !== undefined) {
    const index = optionalObject(cmd.index, 'index')!;
    for (const key of Object.keys(index)) {
      if (key === 'unique' || key === 'prepareUnique') throw notSupported(`The collMod index option '${key}'`);
      if (!['name', 'keyPattern', 'expireAfterSeconds', 'hidden'].includes(key)) {
        throw new CommandError(ErrorCodes.Location40415, `BSON field 'collMod.index.${key}' is an unknown field.`);
      }
    }
    if (index.name !== undefined && index.keyPattern !== undefined) throw new CommandError(ErrorCodes.InvalidOptions, 'Cannot specify both key pattern and name.');
    if (index.name === undefined && index.keyPattern === undefined) throw new CommandError(ErrorCodes.InvalidOptions, 'Must specify either index name or key pattern.');
    if (index.expireAfterSeconds === undefined && index.hidden === undefined) {
      throw new CommandError(ErrorCodes.InvalidOptions, 'no expireAfterSeconds, hidden, prepareUnique or unique field');
    }
    const seconds = asNumber(index.expireAfterSeconds, 'expireAfterSeconds');
    if (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 0 || seconds > 2 ** 31 - 1)) {
      throw new CommandError(ErrorCodes.InvalidOptions, `TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number: ${seconds}`);
    }
    if (index.hidden !== undefined && typeof index.hidden !== 'boolean') throw new CommandError(ErrorCodes.TypeMismatch, "BSON field 'collMod.index.hidden' is the wrong type, expected type 'bool'");
    let spec;
    if (index.name !== undefined) {
      if (typeof index.name !== 'string') throw new CommandError(ErrorCodes.TypeMismatch, "BSON field 'collMod.index.name' is the wrong type, expected type 'string'");
      spec = coll.indexes.find(index.name);
      if (!spec) throw new CommandError(ErrorCodes.IndexNotFound, `cannot find index ${index.name} for ns ${coll.ns}`);
    } else {
      const keyPattern = optionalObject(index.keyPattern, 'keyPattern')!;
      const matches = coll.indexes.findByKey(keyPattern);
      if (matches.length === 0) throw new CommandError(ErrorCodes.IndexNotFound, `cannot find index ${formatKeyValue(keyPattern)} for ns ${coll.ns}`);
      if (matches.length > 1) throw new CommandError(ErrorCodes.IndexNotFound, `index keyPattern ${formatKeyValue(keyPattern)} matches ${matches.length} indexes, must use index name.`);
      spec = matches[0]!;
    }
    if (spec.name === '_id_') {
      throw new CommandError(ErrorCodes.BadValue, seconds !== undefined ? 'Cannot set TTL on the _id index' : 'cannot modify hidden field of an _id index');
    }
    if (seconds !== undefined && Object.keys(spec.key).length !== 1) {
      throw new CommandError(ErrorCodes.InvalidOptions, 'TTL indexes are single-field indexes, compound indexes do not support TTL.');
    }
    const changes: { expireAfterSeconds?: number; hidden?: boolean } = {};
    if (seconds !== undefined) {
      if (typeof spec.expireAfterSeconds === 'number') reply.expireAfterSeconds_old = spec.expireAfterSeconds;
      reply.expireAfterSeconds_new = seconds;
      changes.expireAfterSeconds = seconds;
    }
    const wasHidden = spec.hidden === true;
    if (index.hidden !== undefined && index.hidden !== wasHidden) {
      reply.hidden_old = wasHidden;
      reply.hidden_new = index.hidden;
      changes.hidden = index.hidden;
    }
    const indexName = spec.name;
    indexChange = () => {
      const updated = coll.indexes.modify(indexName, changes);
      ctx.store.record({ op: 'mi', ns: coll.ns, spec: cloneValue(updated) });
    };
  }
  indexChange?.();
  if (Object.keys(options).length > 0) {
    coll.options = { ...coll.options, ...options };
    ctx.store.record({ op: 'cm', ns: coll.ns, options: coll.options });
  }
  return { ...reply, ok: 1 };
}

function drop(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'drop');
  const coll = ctx.store.get(db, name);
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, 'ns not found');
  const nIndexesWas = 1 + coll.indexes.count;
  ctx.store.drop(db, name);
  return { nIndexesWas, ns: `${db}.${name}`, ok: 1 };
}

function dropDatabase(ctx: CommandContext, db: string): Document {
  ctx.store.dropDatabase(db);
  return { dropped: db, ok: 1 };
}

function renameCollection(ctx: CommandContext, db: string, cmd: Document): Document {
  if (db !== 'admin') throw new CommandError(ErrorCodes.IllegalOperation, 'renameCollection may only be run against the admin database.');
  const split = (ns: unknown): [string, string] => {
    if (typeof ns !== 'string' || !ns.includes('.')) throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
    const dot = ns.indexOf('.');
    return [ns.slice(0, dot), ns.slice(dot + 1)];
  };
  const [fromDb, from] = split(cmd.renameCollection);
  const [toDb, to] = split(cmd.to);
  ctx.store.rename(fromDb, from, toDb, to, asBool(cmd.dropTarget));
  return { ok: 1 };
}

function listCollections(ctx: CommandContext, db: string, cmd: Document): Document {
  const filter = compileFilter(optionalObject(cmd.filter, 'filter') ?? {});
  const nameOnly = asBool(cmd.nameOnly);
  const docs: Document[] = [];
  for (const coll of ctx.store.collections(db)) {
    const full: Document = {
      name: coll.name,
      type: 'collection',
      options: coll.options,
      info: { readOnly: false },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    };
    if (!filter.test(full)) continue;
    docs.push(nameOnly ? { name: coll.name, type: 'collection' } : full);
  }
  const batchSize = asNumber(isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined, 'batchSize');
  return ctx.cursors.open(`${db}.$cmd.listCollections`, docs, batchSize ?? Infinity);
}

function listDatabases(ctx: CommandContext, db: string, cmd: Document): Document {
  const filter = compileFilter(optionalObject(cmd.filter, 'filter') ?? {});
  const dbs: Document[] = [];
  let total = 0;
  for (const name of ctx.store.databaseNames()) {
    const size = ctx.store.collections(name).reduce((n, c) => n + c.approximateSize, 0);
    const entry = { name, sizeOnDisk: size, empty: size === 0 };
    if (!filter.test(entry)) continue;
    total += size;
    dbs.push(asBool(cmd.nameOnly) ? { name } : entry);
  }
  return asBool(cmd.nameOnly) ? { databases: dbs, ok: 1 } : { databases: dbs, totalSize: total, totalSizeMb: Math.round(total / 2 ** 20), ok: 1 };
}

export const collectionCommands: CommandTable = {
  dbStats,
  collStats,
  create,
  collMod,
  drop,
  dropDatabase,
  renameCollection,
  listCollections,
  listDatabases,
};
