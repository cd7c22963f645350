// Read commands: find (with the cursor commands getMore and killCursors), count, distinct.
import type { Document } from 'bson';
import { canonicalKey } from '../bson-values';
import { pathValues, EMPTY_ARRAY } from '../document-paths';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { compileFilter, refuseCollation } from '../query-engine';
import { projectDocs } from './projection';
import { asBool, asNumber, collectionArg, optionalObject, resolver, sortDocs, validateSort, type CommandContext, type CommandTable } from './command-support';

function find(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'find');
  refuseCollation(cmd);
  if (cmd.tailable) throw notSupported('Tailable cursors');
  if (cmd.min !== undefined || cmd.max !== undefined) throw notSupported('find min/max');
  const filterDoc = optionalObject(cmd.filter, 'filter') ?? {};
  const filter = compileFilter(filterDoc, resolver(ctx, db));
  const sort = validateSort(optionalObject(cmd.sort, 'sort'));
  const projection = optionalObject(cmd.projection, 'projection');
  const skip = asNumber(cmd.skip, 'skip', 0)!;
  let limit = asNumber(cmd.limit, 'limit', 0)!;
  const batchSize = asNumber(cmd.batchSize, 'batchSize');
  let singleBatch = asBool(cmd.singleBatch);
  if (skip < 0) throw new CommandError(ErrorCodes.BadValue, 'skip value must be non-negative');
  if (limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  if (batchSize !== undefined && batchSize < 0) throw new CommandError(ErrorCodes.BadValue, 'batchSize value must be non-negative');
  const coll = ctx.store.get(db, name);
  let docs: Document[] = [];
  if (coll) {
    const early = !sort && limit > 0 ? skip + limit : 0;
    docs = coll.match(filter, early);
    if (sort) docs = sortDocs(docs, sort);
    if (skip > 0) docs = docs.slice(skip);
    if (limit > 0) docs = docs.slice(0, limit);
    if (projection && Object.keys(projection).length > 0) docs = projectDocs(docs, projection, filterDoc);
  }
  return ctx.cursors.open(`${db}.${name}`, docs, batchSize, singleBatch);
}

function getMore(ctx: CommandContext, db: string, cmd: Document): Document {
  const collection = collectionArg(cmd, 'collection');
  const batchSize = asNumber(cmd.batchSize, 'batchSize');
  return ctx.cursors.getMore(cmd.getMore, `${db}.${collection}`, batchSize && batchSize > 0 ? batchSize : undefined);
}

function count(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'count');
  refuseCollation(cmd);
  const coll = ctx.store.get(db, name);
  if (!coll) return { n: 0, ok: 1 };
  const query = optionalObject(cmd.query, 'query') ?? {};
  const skip = Math.max(0, asNumber(cmd.skip, 'skip', 0)!);
  const limit = Math.abs(asNumber(cmd.limit, 'limit', 0)!);
  let n: number;
  if (Object.keys(query).length === 0) n = coll.docs.size;
  else n = coll.match(compileFilter(query, resolver(ctx, db))).length;
  n = Math.max(0, n - skip);
  if (limit > 0) n = Math.min(n, limit);
  return { n, ok: 1 };
}

function distinct(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'distinct');
  refuseCollation(cmd);
  const key = cmd.key;
  if (typeof key !== 'string' || !key) throw new CommandError(ErrorCodes.TypeMismatch, "'key' must be a non-empty string");
  const coll = ctx.store.get(db, name);
  const values: unknown[] = [];
  if (coll) {
    const filter = compileFilter(optionalObject(cmd.query, 'query') ?? {}, resolver(ctx, db));
    const seen = new Set<string>();
    for (const doc of coll.match(filter)) {
      for (const v of pathValues(doc, key)) {
        if (v === undefined || v === EMPTY_ARRAY) continue;
        const k = canonicalKey(v);
        if (seen.has(k)) continue;
        seen.add(k);
        values.push(v);
      }
    }
  }
  return { values, ok: 1 };
}

export const readCommands: CommandTable = {
  find,
  getMore,
  killCursors: (ctx, db, cmd) => ctx.cursors.kill(Array.isArray(cmd.cursors) ? cmd.cursors : []),
  count,
  distinct,
};
