// Secondary-index commands: createIndexes, listIndexes, dropIndexes (and its old name deleteIndexes).
import type { Document } from 'bson';
import { canonicalKey, cloneValue, isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes } from '../command-error';
import { normalizeIndexSpec, type IndexSpec } from '../index-spec';
import { asNumber, collectionArg, type CommandContext, type CommandTable } from './command-support';

function createIndexes(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'createIndexes');
  if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) {
    throw new CommandError(ErrorCodes.BadValue, "Must specify at least one index to create");
  }
  const specs: IndexSpec[] = cmd.indexes.map((raw: unknown) => normalizeIndexSpec(raw));
  const existed = ctx.store.get(db, name);
  const coll = existed ?? ctx.store.getOrCreate(db, name);
  const before = 1 + coll.indexes.count;
  // Validate every spec first (conflicts with existing indexes and with each other).
  const seen = new Map<string, IndexSpec>();
  for (const spec of specs) {
    coll.indexes.check(spec);
    const prior = seen.get(spec.name);
    if (prior && canonicalKey(prior) !== canonicalKey(spec)) {
      throw new CommandError(ErrorCodes.IndexKeySpecsConflict, `Index with name: ${spec.name} specified twice with different specs`);
    }
    seen.set(spec.name, spec);
  }
  const created: string[] = [];
  try {
    for (const spec of seen.values()) {
      if (coll.createIndex(spec) === 'created') created.push(spec.name);
    }
  } catch (err) {
    for (const n of created) coll.dropIndex(n);
    throw err;
  }
  const reply: Document = {
    numIndexesBefore: before,
    numIndexesAfter: 1 + coll.indexes.count,
    createdCollectionAutomatically: !existed,
    ok: 1,
  };
  if (created.length === 0) reply.note = 'all indexes already exist';
  return reply;
}

function listIndexes(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = ctx.store.get(db, name);
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
  const batchSize = asNumber(isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined, 'batchSize');
  return ctx.cursors.open(`${db}.${name}`, coll.indexes.specs().map((s) => cloneValue(s)), batchSize ?? Infinity);
}

function dropIndexes(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, Object.keys(cmd)[0]!);
  const coll = ctx.store.get(db, name);
  if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns not found ${db}.${name}`);
  const nIndexesWas = 1 + coll.indexes.count;
  const target = cmd.index;
  if (target === '*') {
    for (const spec of coll.indexes.specs()) if (spec.name !== '_id_') coll.dropIndex(spec.name);
  } else if (typeof target === 'string') {
    coll.dropIndex(target);
  } else if (Array.isArray(target)) {
    for (const n of target) if (!coll.indexes.find(String(n))) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${String(n)}]`);
    for (const n of target) coll.dropIndex(String(n));
  } else if (isPlainObject(target)) {
    const matches = coll.indexes.findByKey(target);
    if (matches.length === 0) throw new CommandError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
    if (matches.length > 1) throw new CommandError(ErrorCodes.IndexNotFound /* AmbiguousIndexKeyPattern */, 'index key pattern matches more than one index');
    coll.dropIndex(matches[0]!.name);
  } else {
    throw new CommandError(ErrorCodes.TypeMismatch, "'index' must be a string, an array of strings or an object");
  }
  return { nIndexesWas, ok: 1 };
}

export const indexCommands: CommandTable = {
  createIndexes,
  listIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
};
