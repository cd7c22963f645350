// Index choice made visible: `hint` (validated like MongoDB and honoured for the lookup) and a minimal `explain`
// (queryPlanner, and executionStats counts) of find and count, built from the lookup the store really does.
import os from 'node:os';
import type { Document } from 'bson';
import { isIndexableEqualityValue, isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import type { Collection } from '../collection';
import { validateCollectionName } from '../collection-store';
import type { IndexSpec } from '../index-spec';
import { extractEqualities } from '../filter-equalities';
import { compileFilter, refuseCollation, type CompiledFilter } from '../query-engine';
import { asNumber, optionalObject, resolver, type CommandContext, type CommandTable, type Handler } from './command-support';

/** What a `hint` asks for: an index, or `$natural` (a collection scan). */
type Hint = { index: IndexSpec } | { natural: 1 | -1 };

const NO_HINT_INDEX = 'hint provided does not correspond to an existing index';

/**
 * Resolves a hint (index name, key pattern or `{ $natural: ±1 }`) against the collection like MongoDB: an unknown
 * or hidden index is code 2. Hints the store cannot honour exactly are refused (238): sparse and partial indexes
 * (MongoDB then answers from the index's documents only) and `$natural: -1` where the order matters.
 */
export function resolveHint(coll: Collection | undefined, hint: unknown, orderMatters: boolean): Hint | undefined {
  if (hint === undefined || hint === null || (isPlainObject(hint) && Object.keys(hint).length === 0) || hint === '') return undefined;
  if (!coll) return undefined; // MongoDB plans nothing (EOF) for a missing collection
  if (isPlainObject(hint) && '$natural' in hint) {
    const direction = asNumber(hint.$natural, '$natural');
    if (direction === -1 && orderMatters) throw notSupported('The { $natural: -1 } hint');
    return { natural: direction === -1 ? -1 : 1 };
  }
  let matches: IndexSpec[];
  if (typeof hint === 'string') {
    const spec = coll.indexes.find(hint);
    matches = spec ? [spec] : [];
  } else if (isPlainObject(hint)) {
    matches = coll.indexes.findByKey(hint);
  } else {
    throw new CommandError(ErrorCodes.FailedToParse, 'hint must be a string or an object');
  }
  matches = matches.filter((s) => s.hidden !== true);
  if (matches.length === 0) throw new CommandError(ErrorCodes.BadValue, NO_HINT_INDEX);
  if (matches.length > 1) throw new CommandError(ErrorCodes.IndexNotFound, 'Hint matched multiple indexes, must hint by index name.');
  const spec = matches[0]!;
  if (spec.sparse || spec.partialFilterExpression) throw notSupported('A hint of a sparse or partial index');
  return { index: spec };
}

function hintName(hint: Hint): string | null {
  return 'index' in hint ? hint.index.name : null;
}

const ORDER_INSENSITIVE = new Set(['count', 'distinct']);
const HINTED_COMMANDS = new Set(['find', 'count', 'distinct', 'aggregate', 'findAndModify', 'findandmodify']);
const STATEMENT_LISTS: Record<string, string> = { update: 'updates', delete: 'deletes' };

/**
 * Wraps a command handler so that its `hint` (or its statements' hints for update/delete) is checked and the
 * hinted index is the one lookups use. A bad statement hint is that statement's write error, as in MongoDB.
 */
export function withHints(name: string, handler: Handler): Handler {
  if (HINTED_COMMANDS.has(name)) {
    return (ctx, db, cmd, conn) => {
      if (cmd.hint === undefined || typeof cmd[name] !== 'string') return handler(ctx, db, cmd, conn);
      const coll = ctx.store.get(db, validateCollectionName(cmd[name]));
      const hint = resolveHint(coll, cmd.hint, !ORDER_INSENSITIVE.has(name) && !(name === 'find' && isPlainObject(cmd.sort) && Object.keys(cmd.sort).length > 0));
      if (!coll || !hint) return handler(ctx, db, cmd, conn);
      return coll.indexes.withHint(hintName(hint), () => handler(ctx, db, cmd, conn));
    };
  }
  const listKey = STATEMENT_LISTS[name];
  if (!listKey) return handler;
  return (ctx, db, cmd, conn) => {
    const statements = cmd[listKey];
    if (!Array.isArray(statements) || typeof cmd[name] !== 'string' || !statements.some((s) => isPlainObject(s) && s.hint !== undefined)) {
      return handler(ctx, db, cmd, conn);
    }
    const coll = ctx.store.get(db, validateCollectionName(cmd[name]));
    const bad = new Map<number, CommandError>();
    statements.forEach((s, i) => {
      try {
        if (isPlainObject(s)) resolveHint(coll, s.hint, true);
      } catch (err) {
        if (!(err instanceof CommandError)) throw err;
        bad.set(i, err);
      }
    });
    if (bad.size === 0) return handler(ctx, db, cmd, conn);
    const ordered = cmd.ordered !== false;
    const first = Math.min(...bad.keys());
    const kept = statements.map((_, i) => i).filter((i) => (ordered ? i < first : !bad.has(i)));
    const reply = handler(ctx, db, { ...cmd, [listKey]: kept.map((i) => statements[i]) }, conn);
    if (reply.ok !== 1) return reply;
    const writeErrors: Document[] = (Array.isArray(reply.writeErrors) ? reply.writeErrors : []).map((e: Document) => ({ ...e, index: kept[e.index] }));
    if (Array.isArray(reply.upserted)) reply.upserted = reply.upserted.map((u: Document) => ({ ...u, index: kept[u.index] }));
    if (!ordered || writeErrors.length === 0) {
      for (const [i, err] of bad) if (!ordered || i === first) writeErrors.push({ index: i, code: err.code, errmsg: err.message });
    }
    writeErrors.sort((a, b) => a.index - b.index);
    const { ok, ...rest } = reply;
    return { ...rest, writeErrors, ok };
  };
}

/** The access stage of the store's lookup for a filter (what Collection.candidates does), with its index if any. */
function accessStage(coll: Collection, filter: CompiledFilter): { plan: Document; index?: IndexSpec; idLookup?: boolean } {
  const hinted = coll.indexes.hinted;
  if (hinted === 'natural') return { plan: { stage: 'COLLSCAN', direction: 'forward' } };
  const eq = filter.empty ? new Map() : extractEqualities(filter.filter);
  if (eq.has('_id') && !hinted) {
    const keys = Object.keys(filter.filter);
    const v = filter.filter._id;
    if (keys.length === 1 && (isIndexableEqualityValue(v) || (isPlainObject(v) && Object.keys(v).length === 1 && '$eq' in v))) {
      return { plan: { stage: 'IDHACK' }, idLookup: true };
    }
    return { plan: fetchOver({ v: 2, key: { _id: 1 }, name: '_id_' }), index: { v: 2, key: { _id: 1 }, name: '_id_' }, idLookup: true };
  }
  const chosen = hinted ? { spec: hinted } : coll.indexes.choose(eq);
  if (!chosen) return { plan: { stage: 'COLLSCAN', direction: 'forward' } };
  return { plan: fetchOver(chosen.spec), index: chosen.spec };
}

function fetchOver(spec: IndexSpec): Document {
  return {
    stage: 'FETCH',
    inputStage: {
      stage: 'IXSCAN',
      keyPattern: { ...spec.key },
      indexName: spec.name,
      isUnique: spec.unique === true || spec.name === '_id_',
      isSparse: spec.sparse === true,
      isPartial: spec.partialFilterExpression !== undefined,
      indexVersion: spec.v,
      direction: 'forward',
    },
  };
}

function isSimpleProjection(projection: Document): boolean {
  return Object.keys(projection).every((k) => !k.includes('.') && !k.startsWith('$') && (typeof projection[k] === 'number' || typeof projection[k] === 'boolean'));
}

const VERBOSITIES = ['queryPlanner', 'executionStats', 'allPlansExecution'];

/** explain of find and count: queryPlanner (and executionStats counts) from the store's real lookup. */
function explain(ctx: CommandContext, db: string, cmd: Document): Document {
  const inner = optionalObject(cmd.explain, 'explain');
  if (!inner || Object.keys(inner).length === 0) throw new CommandError(ErrorCodes.FailedToParse, 'explain command requires a nested object');
  const verbosity = cmd.verbosity ?? 'allPlansExecution';
  if (typeof verbosity !== 'string' || !VERBOSITIES.includes(verbosity)) {
    throw new CommandError(ErrorCodes.BadValue, `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`);
  }
  const command = Object.keys(inner)[0]!;
  if (command !== 'find' && command !== 'count') throw notSupported(`explain of '${command}'`);
  const name = validateCollectionName(inner[command]);
  refuseCollation(inner);
  const filterDoc = optionalObject(command === 'find' ? inner.filter : inner.query, 'filter') ?? {};
  const filter = compileFilter(filterDoc, resolver(ctx, db));
  const coll = ctx.store.get(db, name);
  const sort = command === 'find' ? optionalObject(inner.sort, 'sort') : undefined;
  const hint = resolveHint(coll, inner.hint, command === 'find' && !(sort && Object.keys(sort).length > 0));
  const skip = asNumber(inner.skip, 'skip', 0)!;
  const limit = Math.abs(asNumber(inner.limit, 'limit', 0)!);
  const started = Date.now();
  const run = (): { winningPlan: Document; nReturned: number; keys: number; docs: number } => {
    if (!coll) return { winningPlan: { stage: 'EOF' }, nReturned: 0, keys: 0, docs: 0 };
    if (command === 'count' && filter.empty && !hint) {
      return { winningPlan: { stage: 'RECORD_STORE_FAST_COUNT' }, nReturned: 0, keys: 0, docs: 0 };
    }
    const access = accessStage(coll, filter);
    const candidates = [...coll.candidates(filter)];
    const matched = candidates.filter((d) => filter.test(d)).length;
    const returned = Math.max(0, Math.min(limit > 0 ? limit : Infinity, matched - skip));
    let plan = access.plan;
    if (command === 'count') {
      plan = { stage: 'COUNT', inputStage: plan };
    } else {
      if (skip > 0) plan = { stage: 'SKIP', skipAmount: skip, inputStage: plan };
      if (sort && Object.keys(sort).length > 0) {
        plan = { stage: 'SORT', sortPattern: { ...sort }, memLimit: 104857600, ...(limit > 0 ? { limitAmount: limit + skip } : {}), type: 'simple', inputStage: plan };
      } else if (limit > 0) {
        plan = { stage: 'LIMIT', limitAmount: limit, inputStage: plan };
      }
      const projection = optionalObject(inner.projection, 'projection');
      if (projection && Object.keys(projection).length > 0) {
        plan = { stage: isSimpleProjection(projection) ? 'PROJECTION_SIMPLE' : 'PROJECTION_DEFAULT', transformBy: { ...projection }, inputStage: plan };
      }
    }
    const keys = access.index || access.idLookup ? candidates.length : 0;
    return { winningPlan: plan, nReturned: command === 'count' ? 0 : returned, keys, docs: candidates.length };
  };
  const result = coll && hint ? coll.indexes.withHint(hintName(hint), run) : run();
  const reply: Document = {
    explainVersion: '1',
    queryPlanner: {
      namespace: `${db}.${name}`,
      indexFilterSet: false,
      parsedQuery: filterDoc,
      maxIndexedOrSolutionsReached: false,
      maxIndexedAndSolutionsReached: false,
      maxScansToExplodeReached: false,
      winningPlan: result.winningPlan,
      rejectedPlans: [],
    },
  };
  if (verbosity !== 'queryPlanner') {
    reply.executionStats = {
      executionSuccess: true,
      nReturned: result.nReturned,
      executionTimeMillis: Date.now() - started,
      totalKeysExamined: result.keys,
      totalDocsExamined: result.docs,
      executionStages: { ...result.winningPlan, nReturned: result.nReturned },
      ...(verbosity === 'allPlansExecution' ? { allPlansExecution: [] } : {}),
    };
  }
  reply.command = { ...inner, $db: db };
  reply.serverInfo = { host: os.hostname(), version: '7.0.0', gitVersion: 'agent-host-wire-store' };
  reply.ok = 1;
  return reply;
}

export const planCommands: CommandTable = { explain };
