// Applies MongoDB update documents (operators, replacements, pipelines) to a copy of a stored document,
// and builds upsert seeds from a query's equality fields.
import { update as mingoUpdate, updateOne as mingoUpdateOne } from 'mingo';
import { Long, Decimal128, type Document } from 'bson';
import { cloneValue, getPath, isPlainObject, setPath, toNumber, serializeSafeEqual } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { mingoOptions, refuseUnsupportedOperators } from './query-engine';

const SUPPORTED_UPDATE_OPERATORS = new Set([
  '$set',
  '$unset',
  '$inc',
  '$mul',
  '$min',
  '$max',
  '$push',
  '$pull',
  '$pullAll',
  '$addToSet',
  '$pop',
  '$rename',
  '$currentDate',
  '$bit',
  '$setOnInsert',
]);

export type UpdateSpec = Document | Document[];

export function isPipelineUpdate(u: UpdateSpec): u is Document[] {
  return Array.isArray(u);
}

/** An update document with no `$` operators is a replacement. */
export function isReplacement(u: UpdateSpec): boolean {
  if (Array.isArray(u)) return false;
  const keys = Object.keys(u);
  return keys.length === 0 || !keys[0]!.startsWith('$');
}

export function validateUpdate(u: unknown): UpdateSpec {
  if (Array.isArray(u)) {
    for (const stage of u) {
      if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
        throw new CommandError(ErrorCodes.FailedToParse, 'Invalid update pipeline stage');
      }
      const name = Object.keys(stage)[0]!;
      if (!['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith'].includes(name)) {
        throw new CommandError(ErrorCodes.FailedToParse, `${name} is not allowed to be used within an update`);
      }
    }
    refuseUnsupportedOperators(u);
    return u as Document[];
  }
  if (!isPlainObject(u)) throw new CommandError(ErrorCodes.FailedToParse, 'Update argument must be either an object or an array');
  const keys = Object.keys(u);
  const hasOps = keys.some((k) => k.startsWith('$'));
  if (hasOps) {
    for (const k of keys) {
      if (!k.startsWith('$')) throw new CommandError(ErrorCodes.FailedToParse, `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
      if (!SUPPORTED_UPDATE_OPERATORS.has(k)) throw new CommandError(ErrorCodes.FailedToParse, `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
      if (!isPlainObject(u[k])) throw new CommandError(ErrorCodes.FailedToParse, `Modifiers operate on fields but we found type ${typeof u[k]} instead.`);
    }
  }
  return u as Document;
}

function usesPositional(modifier: Document): boolean {
  for (const op of Object.keys(modifier)) {
    const expr = modifier[op];
    if (!isPlainObject(expr)) continue;
    for (const path of Object.keys(expr)) {
      if (path === '$' || path.includes('.$.') || path.endsWith('.$') || path.startsWith('$.')) return true;
    }
  }
  return false;
}

function isLongLike(v: unknown): v is Long | Decimal128 {
  return v instanceof Long || v instanceof Decimal128;
}

/**
 * mingo's `$inc`/`$mul` only work on JS numbers; Int64 and Decimal128 operands are computed here and
 * turned into `$set`s (Int64 arithmetic stays Int64; Decimal128 via doubles).
 */
function rewriteWideArithmetic(doc: Document, modifier: Document): Document {
  const out: Document = { ...modifier };
  for (const op of ['$inc', '$mul'] as const) {
    const expr = modifier[op];
    if (!isPlainObject(expr)) continue;
    let rest: Document | undefined;
    for (const path of Object.keys(expr)) {
      const amount = expr[path];
      const current = path.includes('$') ? undefined : getPath(doc, path);
      if (current !== undefined && current !== null && toNumber(current) === undefined) {
        throw new CommandError(ErrorCodes.TypeMismatch, `Cannot apply ${op} to a value of non-numeric type. {_id: ${String(doc._id)}} has the field '${path}' of non-numeric type ${Array.isArray(current) ? 'array' : typeof current}`);
      }
      if (!isLongLike(amount) && !isLongLike(current)) continue;
      if (path.includes('$')) throw new CommandError(ErrorCodes.BadValue, `${op} with Int64/Decimal128 on positional paths is not supported by the built-in wire store`);
      const amountNum = toNumber(amount);
      if (amountNum === undefined) throw new CommandError(ErrorCodes.TypeMismatch, `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument`);
      let result: unknown;
      if (amount instanceof Decimal128 || current instanceof Decimal128) {
        const base = current === undefined || current === null ? (op === '$inc' ? 0 : 0) : toNumber(current)!;
        result = Decimal128.fromString(String(op === '$inc' ? base + amountNum : base * amountNum));
      } else {
        const a = amount instanceof Long ? amount : Number.isInteger(amount) ? Long.fromNumber(amount as number) : undefined;
        const c = current instanceof Long ? current : current === undefined || current === null ? Long.ZERO : Number.isInteger(current) ? Long.fromNumber(current as number) : undefined;
        if (a && c) result = op === '$inc' ? c.add(a) : current === undefined || current === null ? Long.ZERO : c.multiply(a);
        else {
          const base = current === undefined || current === null ? 0 : toNumber(current)!;
          result = op === '$inc' ? base + amountNum : base * amountNum;
        }
      }
      rest ??= { ...expr };
      delete rest[path];
      out.$set = { ...(out.$set as Document | undefined), [path]: result };
    }
    if (rest) {
      if (Object.keys(rest).length) out[op] = rest;
      else delete out[op];
    }
  }
  return out;
}

export interface ApplyOptions {
  /** The command's query (needed for the positional `$` operator). */
  filter?: Document;
  arrayFilters?: Document[];
  /** True when the document is being created by an upsert (`$setOnInsert` applies). */
  inserting?: boolean;
}

export interface ApplyResult {
  doc: Document;
  changed: boolean;
}

/** Returns the updated copy of `doc`; the stored document is never mutated. */
export function applyUpdate(doc: Document, u: UpdateSpec, options: ApplyOptions = {}): ApplyResult {
  try {
    if (isPipelineUpdate(u)) {
      const docs = [cloneValue(doc)];
      mingoUpdateOne(docs, {}, u as never, {}, mingoOptions());
      const out = docs[0]!;
      return { doc: out, changed: !serializeSafeEqual(doc, out) };
    }
    if (isReplacement(u)) {
      const out: Document = { _id: doc._id };
      for (const k of Object.keys(u)) if (k !== '_id') out[k] = cloneValue(u[k]);
      if ('_id' in u && u._id !== undefined) out._id = u._id;
      if (out._id === undefined) delete out._id;
      return { doc: out, changed: !serializeSafeEqual(doc, out) };
    }
    const clone = cloneValue(doc);
    let modifier: Document = { ...u };
    let changed = false;
    const setOnInsert = modifier.$setOnInsert as Document | undefined;
    delete modifier.$setOnInsert;
    if (setOnInsert && options.inserting) {
      for (const path of Object.keys(setOnInsert)) setPath(clone, path, cloneValue(setOnInsert[path]));
      changed = Object.keys(setOnInsert).length > 0;
    }
    modifier = rewriteWideArithmetic(clone, modifier);
    const fast = applySimpleOperators(clone, modifier);
    if (fast !== undefined) return { doc: clone, changed: changed || fast };
    if (Object.keys(modifier).length > 0) {
      const condition = options.filter && usesPositional(modifier) ? options.filter : undefined;
      const fields = mingoUpdate(clone, modifier, options.arrayFilters, condition, { cloneMode: 'deep', queryOptions: mingoOptions() });
      if (fields.length > 0) changed = true;
    }
    return { doc: clone, changed };
  } catch (err) {
    if (err instanceof CommandError) throw err;
    const message = (err as Error).message;
    if (/immutable field '_id'/.test(message)) throw new CommandError(ErrorCodes.ImmutableField, message);
    throw new CommandError(ErrorCodes.BadValue, message);
  }
}

const FAST_OPERATORS = new Set(['$set', '$inc', '$unset']);

/**
 * Fast path for the common `$set` / `$inc` / `$unset` on plain dotted paths through sub-documents (no
 * arrays, no positional operators, no overlapping paths). Returns whether the document changed, or
 * undefined when the update needs mingo's general updater (which is much slower per call).
 */
function applySimpleOperators(doc: Document, modifier: Document): boolean | undefined {
  const ops = Object.keys(modifier);
  const paths: string[] = [];
  for (const op of ops) {
    if (!FAST_OPERATORS.has(op)) return undefined;
    for (const path of Object.keys(modifier[op] as Document)) {
      if (path.length === 0 || path.includes('$')) return undefined;
      paths.push(path);
    }
  }
  if (paths.length > 1) {
    const sorted = [...paths].sort();
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      if (cur === prev || cur.startsWith(`${prev}.`)) return undefined;
    }
  }
  // Every intermediate value must be a plain object or missing; $inc targets must be numbers or missing.
  for (const op of ops) {
    const expr = modifier[op] as Document;
    for (const path of Object.keys(expr)) {
      const parts = path.split('.');
      let cur: unknown = doc;
      for (let i = 0; i < parts.length - 1; i++) {
        if (!isPlainObject(cur)) return undefined;
        cur = cur[parts[i]!];
        if (cur === undefined) break;
      }
      if (cur !== undefined && !isPlainObject(cur)) return undefined;
      if (op === '$inc') {
        if (typeof expr[path] !== 'number') return undefined;
        const current = cur === undefined ? undefined : (cur as Document)[parts[parts.length - 1]!];
        if (current !== undefined && typeof current !== 'number') return undefined;
      }
    }
  }
  let changed = false;
  for (const op of ops) {
    const expr = modifier[op] as Document;
    for (const path of Object.keys(expr)) {
      const parts = path.split('.');
      const leaf = parts[parts.length - 1]!;
      if (op === '$unset') {
        const parent = getPath(doc, parts.slice(0, -1).join('.') || '') as Document | undefined;
        const container = parts.length === 1 ? doc : parent;
        if (isPlainObject(container) && Object.prototype.hasOwnProperty.call(container, leaf)) {
          delete container[leaf];
          changed = true;
        }
        continue;
      }
      const old = getPath(doc, path);
      if (op === '$inc') {
        const amount = expr[path] as number;
        setPath(doc, path, old === undefined ? amount : (old as number) + amount);
        if (old === undefined || amount !== 0) changed = true;
      } else {
        const value = cloneValue(expr[path]);
        if (old === undefined || !bsonEqual(old, value)) changed = true;
        setPath(doc, path, value);
      }
    }
  }
  return changed;
}

function bsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return typeof a !== 'number' || Object.is(a, b) || a === 0;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  return serializeSafeEqual({ v: a }, { v: b });
}

/** The document an upsert starts from: the query's equality fields (`f: v`, `f: {$eq: v}`, inside `$and`). */
export function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  addEqualities(filter, seed);
  return seed;
}

function addEqualities(filter: Document, seed: Document): void {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) addEqualities(sub, seed);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (v instanceof RegExp) continue;
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length > 0 && keys[0]!.startsWith('$')) {
        if ('$eq' in v && !(v.$eq instanceof RegExp)) setPath(seed, key, cloneValue(v.$eq));
        continue;
      }
    }
    setPath(seed, key, cloneValue(v));
  }
}
