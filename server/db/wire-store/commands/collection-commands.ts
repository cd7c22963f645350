// Collections and databases: create, drop, dropDatabase, renameCollection, listCollections, listDatabases, dbStats, collStats.
import type { Document } from 'bson';
import { isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { compileFilter, refuseCollation } from '../query-engine';
import { asBool, asNumber, collectionArg, optionalObject, type CommandContext, type CommandTable } from './command-support';

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
  const options: Document = {};
  for (const key of ['validator', 'validationLevel', 'validationAction']) if (cmd[key] !== undefined) options[key] = cmd[key];
  if (ctx.store.get(db, name)) throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
  ctx.store.create(db, name, options);
  return { ok: 1 };
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
  drop,
  dropDatabase,
  renameCollection,
  listCollections,
  listDatabases,
};
