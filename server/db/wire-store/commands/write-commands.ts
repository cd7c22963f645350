// Write commands: insert, update (multi, upsert, arrayFilters), delete, findAndModify; per-statement write errors.
import { calculateObjectSize, type Document } from 'bson';
import { isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes } from '../command-error';
import { Collection } from '../collection';
import { compileFilter, refuseCollation } from '../query-engine';
import { applyUpdate, isReplacement, upsertSeed, validateUpdate, type UpdateSpec } from '../update-engine';
import { fitsInBsonLimit, MAX_BSON_OBJECT_SIZE } from '../wire-protocol';
import { projectDocs } from './projection';
import { checkDocumentValidation } from './validation';
import {
  asBool,
  asNumber,
  collectionArg,
  optionalObject,
  resolver,
  sortDocs,
  validateSort,
  type CommandContext,
  type CommandTable,
} from './command-support';

function writeErrorOf(index: number, err: unknown): Document {
  if (err instanceof CommandError) return { index, code: err.code, errmsg: err.message, ...err.extra };
  return { index, code: ErrorCodes.InternalError, errmsg: (err as Error)?.message ?? String(err) };
}

/** mongod's limits on stored documents (16 MiB): inserts (code 2), updates (17419), upserts (17420). */
function checkInsertSize(doc: Document): void {
  const size = calculateObjectSize(doc);
  if (size > MAX_BSON_OBJECT_SIZE) {
    throw new CommandError(ErrorCodes.BadValue, `object to insert too large. size in bytes: ${size}, max size: ${MAX_BSON_OBJECT_SIZE}`);
  }
}

function checkUpdatedSize(doc: Document): void {
  if (calculateObjectSize(doc) > MAX_BSON_OBJECT_SIZE) {
    throw new CommandError(ErrorCodes.Location17419, `Resulting document after update is larger than ${MAX_BSON_OBJECT_SIZE}`);
  }
}

function checkUpsertSize(doc: Document): void {
  if (calculateObjectSize(doc) > MAX_BSON_OBJECT_SIZE) {
    throw new CommandError(ErrorCodes.Location17420, `Document to upsert is larger than ${MAX_BSON_OBJECT_SIZE}`);
  }
}

/** Runs each statement of a write command: a failing one becomes that statement's write error, and stops the rest when ordered. */
function forEachStatement(statements: unknown[], ordered: boolean, run: (statement: unknown, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let index = 0; index < statements.length; index++) {
    try {
      run(statements[index], index);
    } catch (err) {
      writeErrors.push(writeErrorOf(index, err));
      if (ordered) break;
    }
  }
  return writeErrors;
}

function insert(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'insert');
  const docs = cmd.documents;
  if (!Array.isArray(docs)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'insert.documents' is missing but a required field");
  const ordered = cmd.ordered !== false;
  const coll = ctx.store.getOrCreate(db, name);
  const small = fitsInBsonLimit(cmd);
  let n = 0;
  const writeErrors = forEachStatement(docs, ordered, (doc) => {
    if (!isPlainObject(doc)) throw new CommandError(ErrorCodes.TypeMismatch, 'document to insert must be an object');
    if (!small) checkInsertSize(doc);
    checkDocumentValidation(coll, doc, undefined, cmd);
    coll.insert(doc);
    n++;
  });
  ctx.afterWrite?.();
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

function update(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'update');
  const updates = cmd.updates;
  if (!Array.isArray(updates)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'update.updates' is missing but a required field");
  const ordered = cmd.ordered !== false;
  const coll = ctx.store.getOrCreate(db, name);
  const resolve = resolver(ctx, db);
  let n = 0;
  let nModified = 0;
  const upserted: Document[] = [];
  const writeErrors = forEachStatement(updates, ordered, (stmt, i) => {
    if (!isPlainObject(stmt)) throw new CommandError(ErrorCodes.TypeMismatch, 'update statement must be an object');
    refuseCollation(stmt);
    const filterDoc = optionalObject(stmt.q, 'q') ?? {};
    const filter = compileFilter(filterDoc, resolve);
    const u = validateUpdate(stmt.u);
    const multi = asBool(stmt.multi);
    if (multi && isReplacement(u)) throw new CommandError(ErrorCodes.FailedToParse, 'multi update is not supported for replacement-style update');
    const arrayFilters = Array.isArray(stmt.arrayFilters) ? (stmt.arrayFilters as Document[]) : undefined;
    const sort = validateSort(optionalObject(stmt.sort, 'sort'));
    let matches = multi ? coll.match(filter) : sort ? coll.match(filter) : coll.match(filter, 1);
    if (!multi && sort) matches = sortDocs(matches, sort).slice(0, 1);
    if (matches.length === 0) {
      if (asBool(stmt.upsert)) {
        const doc = upsertDocument(filterDoc, u, arrayFilters);
        checkDocumentValidation(coll, doc, undefined, cmd);
        const stored = coll.insert(doc);
        upserted.push({ index: i, _id: stored._id });
        n++;
      }
      return;
    }
    for (const match of matches) {
      const result = applyUpdate(match, u, { filter: filterDoc, arrayFilters });
      if (result.changed) {
        checkUpdatedSize(result.doc);
        checkDocumentValidation(coll, result.doc, match, cmd);
        coll.replace(match, result.doc);
        nModified++;
      }
      n++;
    }
  });
  ctx.afterWrite?.();
  const reply: Document = { n, nModified };
  if (upserted.length) reply.upserted = upserted;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
}

function upsertDocument(filterDoc: Document, u: UpdateSpec, arrayFilters?: Document[]): Document {
  const seed = upsertSeed(filterDoc);
  if (isReplacement(u)) {
    const base: Document = seed._id !== undefined ? { _id: seed._id } : {};
    const doc = Collection.withId(applyUpdate(base, u, { inserting: true }).doc);
    checkUpsertSize(doc);
    return doc;
  }
  const result = applyUpdate(seed, u, { filter: filterDoc, arrayFilters, inserting: true });
  const doc = Collection.withId(result.doc);
  checkUpsertSize(doc);
  return doc;
}

function deleteCommand(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, 'delete');
  const deletes = cmd.deletes;
  if (!Array.isArray(deletes)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'delete.deletes' is missing but a required field");
  const ordered = cmd.ordered !== false;
  const coll = ctx.store.get(db, name);
  const resolve = resolver(ctx, db);
  let n = 0;
  const writeErrors = forEachStatement(deletes, ordered, (stmt) => {
    if (!isPlainObject(stmt)) throw new CommandError(ErrorCodes.TypeMismatch, 'delete statement must be an object');
    refuseCollation(stmt);
    const filter = compileFilter(optionalObject(stmt.q, 'q') ?? {}, resolve);
    const limit = asNumber(stmt.limit, 'limit', 0)!;
    if (limit !== 0 && limit !== 1) throw new CommandError(ErrorCodes.BadValue, 'The limit field in delete objects must be 0 or 1');
    if (!coll) return;
    for (const doc of coll.match(filter, limit)) {
      coll.remove(doc);
      n++;
    }
  });
  ctx.afterWrite?.();
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
}

function findAndModify(ctx: CommandContext, db: string, cmd: Document): Document {
  const name = collectionArg(cmd, Object.keys(cmd)[0]!);
  refuseCollation(cmd);
  const resolve = resolver(ctx, db);
  const filterDoc = optionalObject(cmd.query, 'query') ?? {};
  const filter = compileFilter(filterDoc, resolve);
  const sort = validateSort(optionalObject(cmd.sort, 'sort'));
  const fields = optionalObject(cmd.fields, 'fields');
  const remove = asBool(cmd.remove);
  const returnNew = asBool(cmd.new);
  const upsert = asBool(cmd.upsert);
  if (remove && (cmd.update !== undefined || returnNew || upsert)) {
    throw new CommandError(ErrorCodes.FailedToParse, 'Cannot specify both an update and remove=true');
  }
  if (!remove && cmd.update === undefined) throw new CommandError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
  const coll = remove ? ctx.store.get(db, name) : ctx.store.getOrCreate(db, name);
  let target: Document | undefined;
  if (coll) {
    if (sort) target = sortDocs(coll.match(filter), sort)[0];
    else target = coll.match(filter, 1)[0];
  }
  const project = (doc: Document | null | undefined): Document | null => {
    if (!doc) return null;
    if (!fields || Object.keys(fields).length === 0) return doc;
    return projectDocs([doc], fields, filterDoc)[0] ?? null;
  };
  if (remove) {
    if (target && coll) coll.remove(target);
    ctx.afterWrite?.();
    return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target), ok: 1 };
  }
  const u = validateUpdate(cmd.update);
  const arrayFilters = Array.isArray(cmd.arrayFilters) ? (cmd.arrayFilters as Document[]) : undefined;
  if (target && coll) {
    const result = applyUpdate(target, u, { filter: filterDoc, arrayFilters });
    if (result.changed) {
      checkUpdatedSize(result.doc);
      checkDocumentValidation(coll, result.doc, target, cmd);
    }
    const after = result.changed ? coll.replace(target, result.doc) : target;
    ctx.afterWrite?.();
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(returnNew ? after : target), ok: 1 };
  }
  if (upsert && coll) {
    const seeded = upsertDocument(filterDoc, u, arrayFilters);
    checkDocumentValidation(coll, seeded, undefined, cmd);
    const stored = coll.insert(seeded);
    ctx.afterWrite?.();
    return { lastErrorObject: { n: 1, updatedExisting: false, upserted: stored._id }, value: returnNew ? project(stored) : null, ok: 1 };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
}

export const writeCommands: CommandTable = {
  insert,
  update,
  delete: deleteCommand,
  findAndModify,
  findandmodify: findAndModify,
};
