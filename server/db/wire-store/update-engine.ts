// Applies MongoDB update documents (operators, replacements, pipelines) to a copy of a stored document,
// and builds upsert seeds from a query's equality fields. Operator updates follow mongod's update
// tree: paths are checked for conflicts when parsed, positional elements (`$`, `$[]`, `$[id]`) are
// resolved against the document, and the resulting concrete paths are applied in field-name order.
import { updateOne as mingoUpdateOne } from 'mingo';
import { compare as mingoCompare } from 'mingo/util';
import { Long, Decimal128, Timestamp, ObjectId, type Document } from 'bson';
import { canonicalKey, cloneValue, isPlainObject, toNumber, serializeSafeEqual } from './bson-values';
import { setPath } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { compileFilter, mingoOptions, refuseUnsupportedOperators, type CompiledFilter } from './query-engine';

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

/** An update document whose first field is not a `$` operator is a replacement (like mongod). */
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
  if (isReplacement(u)) return u as Document;
  for (const k of Object.keys(u)) {
    if (!k.startsWith('$') || !SUPPORTED_UPDATE_OPERATORS.has(k)) {
      throw new CommandError(ErrorCodes.FailedToParse, `Unknown modifier: ${k}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    if (!isPlainObject(u[k])) throw new CommandError(ErrorCodes.FailedToParse, `Modifiers operate on fields but we found type ${typeName(u[k])} instead. For example: {$mod: {<field>: ...}} not {${k}: ${formatValue(u[k])}}`);
  }
  return u as Document;
}

export interface ApplyOptions {
  /** The command's query (needed for the positional `$` operator). */
  filter?: Document;
  arrayFilters?: Document[];
  /** True when the document is being created by an upsert (`$setOnInsert` applies, `$` field names are allowed). */
  inserting?: boolean;
}

export interface ApplyResult {
  doc: Document;
  changed: boolean;
}

/** Returns the updated copy of `doc`; the stored document is never mutated. */
export function applyUpdate(doc: Document, u: UpdateSpec, options: ApplyOptions = {}): ApplyResult {
  if (isPipelineUpdate(u)) {
    const docs = [cloneValue(doc)];
    try {
      mingoUpdateOne(docs, {}, u as never, {}, mingoOptions());
    } catch (err) {
      if (err instanceof CommandError) throw err;
      throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
    }
    const out = docs[0]!;
    return { doc: out, changed: !serializeSafeEqual(doc, out) };
  }
  if (isReplacement(u)) {
    if (!options.inserting) {
      for (const k of Object.keys(u)) if (k.startsWith('$')) throw dollarPrefixedError(k, k);
    }
    const out: Document = { _id: doc._id };
    for (const k of Object.keys(u)) if (k !== '_id') out[k] = cloneValue(u[k]);
    if ('_id' in u && u._id !== undefined) out._id = u._id;
    if (out._id === undefined) delete out._id;
    return { doc: out, changed: !serializeSafeEqual(doc, out) };
  }
  const ops = parseOperators(u, options);
  const clone = cloneValue(doc);
  const changed = applyOperators(clone, ops, options);
  return { doc: clone, changed };
}

// ---------------------------------------------------------------------------------------------
// Parsing: one entry per (operator, path); conflicts between paths are found here (code 40).

interface ParsedOp {
  op: string;
  path: string;
  parts: string[];
  arg: unknown;
  /** `$rename`'s destination. */
  to?: string[];
  /** Prepared operator state (pull matcher, push modifiers, …). */
  prepared?: unknown;
}

interface ParsedUpdate {
  ops: ParsedOp[];
  arrayFilters: Map<string, CompiledFilter>;
}

const ARRAY_FILTER_ID = /^[a-z][a-zA-Z0-9]*$/;

function isPositional(part: string): boolean {
  return part === '$' || (part.startsWith('$[') && part.endsWith(']'));
}

function splitPath(path: string, op: string): string[] {
  if (path.length === 0) throw new CommandError(ErrorCodes.EmptyFieldName, "An empty update path is not valid.");
  const parts = path.split('.');
  if (parts.some((p) => p.length === 0)) {
    throw new CommandError(ErrorCodes.EmptyFieldName, `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
  let dollars = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!isPositional(p)) continue;
    if (i === 0) {
      throw new CommandError(ErrorCodes.BadValue, p === '$'
        ? `Cannot have positional (i.e. '$') element in the first position in path '${path}'`
        : `Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${path}'`);
    }
    if (p === '$' && ++dollars > 1) throw new CommandError(ErrorCodes.BadValue, `Too many positional (i.e. '$') elements found in path '${path}'`);
    if (op === '$rename') throw new CommandError(ErrorCodes.BadValue, `The source field for $rename may not be dynamic: ${path}`);
  }
  return parts;
}

function parseOperators(u: Document, options: ApplyOptions): ParsedUpdate {
  const ops: ParsedOp[] = [];
  const allPaths: string[][] = [];
  for (const op of Object.keys(u)) {
    const expr = u[op] as Document;
    for (const path of Object.keys(expr)) {
      const parts = splitPath(path, op);
      const arg = expr[path];
      const parsed: ParsedOp = { op, path, parts, arg };
      prepareOperator(parsed);
      allPaths.push(parts);
      if (parsed.to) allPaths.push(parsed.to);
      if (op === '$setOnInsert' && !options.inserting) continue;
      ops.push(parsed);
    }
  }
  checkConflicts(allPaths);
  const arrayFilters = parseArrayFilters(options.arrayFilters, allPaths, u);
  return { ops, arrayFilters };
}

function comparePartLists(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareFieldNames(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

const NUMERIC_PART = /^\d+$/;

/** mongod's field order for update paths: numeric names in numeric order, others as strings. */
function compareFieldNames(a: string, b: string): number {
  if (a === b) return 0;
  if (NUMERIC_PART.test(a) && NUMERIC_PART.test(b) && a.length < 16 && b.length < 16) return Number(a) - Number(b);
  return a < b ? -1 : 1;
}

function isPrefixOf(a: string[], b: string[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function checkConflicts(paths: string[][]): void {
  if (paths.length < 2) return;
  const sorted = [...paths].sort(comparePartLists);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (isPrefixOf(prev, cur)) {
      throw new CommandError(ErrorCodes.ConflictingUpdateOperators, `Updating the path '${cur.join('.')}' would create a conflict at '${prev.join('.')}'`);
    }
  }
}

function renameFilterKeys(filter: Document, id: string): Document {
  const out: Document = {};
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(v)) {
      out[key] = v.map((sub) => (isPlainObject(sub) ? renameFilterKeys(sub, id) : sub));
    } else if (key === id || key.startsWith(`${id}.`)) {
      out[`v${key.slice(id.length)}`] = v;
    } else {
      out[key] = v;
    }
  }
  return out;
}

function filterIdentifier(filter: Document): string {
  let id: string | undefined;
  const visit = (f: Document): void => {
    for (const key of Object.keys(f)) {
      const v = f[key];
      if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (key.startsWith('$')) continue;
      const name = key.split('.')[0]!;
      if (id !== undefined && id !== name) {
        throw new CommandError(ErrorCodes.FailedToParse, `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${id}' and '${name}'`);
      }
      id = name;
    }
  };
  visit(filter);
  if (id === undefined) throw new CommandError(ErrorCodes.FailedToParse, 'Cannot use an expression without a top-level field name in arrayFilters');
  if (!ARRAY_FILTER_ID.test(id)) {
    throw new CommandError(ErrorCodes.BadValue, `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
  }
  return id;
}

function parseArrayFilters(raw: Document[] | undefined, paths: string[][], u: Document): Map<string, CompiledFilter> {
  const filters = new Map<string, CompiledFilter>();
  for (const f of raw ?? []) {
    if (!isPlainObject(f)) throw new CommandError(ErrorCodes.TypeMismatch, 'Each array filter must be an object');
    const id = filterIdentifier(f);
    if (filters.has(id)) throw new CommandError(ErrorCodes.FailedToParse, `Found multiple array filters with the same top-level field name ${id}`);
    filters.set(id, compileFilter(renameFilterKeys(f, id)));
  }
  const used = new Set<string>();
  for (const parts of paths) {
    for (const p of parts) {
      if (!p.startsWith('$[') || p === '$[]' || !p.endsWith(']')) continue;
      const id = p.slice(2, -1);
      if (!filters.has(id)) throw new CommandError(ErrorCodes.BadValue, `No array filter found for identifier '${id}' in path '${parts.join('.')}'`);
      used.add(id);
    }
  }
  for (const id of filters.keys()) {
    if (!used.has(id)) throw new CommandError(ErrorCodes.FailedToParse, `The array filter for identifier '${id}' was not used in the update ${formatValue(u)}`);
  }
  return filters;
}

// ---------------------------------------------------------------------------------------------
// Operator preparation (argument checks that mongod does when parsing).

interface PushArgs {
  each: unknown[];
  slice?: number;
  sort?: number | Document;
  position?: number;
}

const PATH_ACCEPTING_OPERATORS = new Set([
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$size', '$all', '$elemMatch',
  '$regex', '$options', '$mod', '$not', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear',
  '$geoWithin', '$geoIntersects', '$near', '$nearSphere', '$within', '$_internalSchemaType',
]);

type PullMatcher = (element: unknown) => boolean;

function integerArg(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

function prepareOperator(p: ParsedOp): void {
  const { op, arg, path } = p;
  switch (op) {
    case '$inc':
    case '$mul':
      if (toNumber(arg) === undefined) {
        throw new CommandError(ErrorCodes.TypeMismatch, `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
      }
      break;
    case '$pop': {
      const n = toNumber(arg);
      if (n !== 1 && n !== -1) throw new CommandError(ErrorCodes.FailedToParse, `$pop expects 1 or -1, found: ${formatValue(arg)}`);
      break;
    }
    case '$pullAll':
      if (!Array.isArray(arg)) throw new CommandError(ErrorCodes.BadValue, `$pullAll requires an array argument but was given a ${typeName(arg)}`);
      break;
    case '$pull':
      p.prepared = pullMatcher(arg);
      break;
    case '$push':
      p.prepared = pushArgs(arg);
      break;
    case '$addToSet': {
      let values: unknown[] = [arg];
      if (isPlainObject(arg)) {
        const keys = Object.keys(arg);
        if (keys[0] === '$each') {
          if (!Array.isArray(arg.$each)) throw new CommandError(ErrorCodes.TypeMismatch, `The argument to $each in $addToSet must be an array but it was of type ${typeName(arg.$each)}`);
          if (keys.length > 1) throw new CommandError(ErrorCodes.BadValue, `Found unexpected fields after $each in $addToSet: ${formatValue(arg)}`);
          values = arg.$each;
        }
      }
      const seen = new Set<string>();
      p.prepared = values.filter((v) => {
        const key = canonicalKey(v);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      break;
    }
    case '$rename': {
      if (typeof arg !== 'string') throw new CommandError(ErrorCodes.BadValue, `The 'to' field for $rename must be a string: ${path}: ${formatValue(arg)}`);
      const to = arg.split('.');
      if (arg.length === 0 || to.some((s) => s.length === 0)) throw new CommandError(ErrorCodes.EmptyFieldName, "An empty update path is not valid.");
      if (to.some(isPositional)) throw new CommandError(ErrorCodes.BadValue, `The destination field for $rename may not be dynamic: ${arg}`);
      if (arg === path) throw new CommandError(ErrorCodes.BadValue, `The source and target field for $rename must differ: ${path}: ${formatValue(arg)}`);
      if (isPrefixOf(p.parts, to) || isPrefixOf(to, p.parts)) {
        throw new CommandError(ErrorCodes.BadValue, `The source and target field for $rename must not be on the same path: ${path}: ${formatValue(arg)}`);
      }
      p.to = to;
      break;
    }
    case '$currentDate': {
      if (arg === true || arg === false) break;
      if (isPlainObject(arg) && Object.keys(arg).length === 1 && (arg.$type === 'date' || arg.$type === 'timestamp')) break;
      if (isPlainObject(arg) && '$type' in arg) throw new CommandError(ErrorCodes.BadValue, "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
      throw new CommandError(ErrorCodes.BadValue, `${typeName(arg)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
    }
    case '$bit': {
      if (!isPlainObject(arg)) throw new CommandError(ErrorCodes.BadValue, `The $bit modifier is not compatible with a ${typeName(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`);
      const keys = Object.keys(arg);
      if (keys.length === 0) throw new CommandError(ErrorCodes.BadValue, `You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}`);
      for (const k of keys) {
        if (k !== 'and' && k !== 'or' && k !== 'xor') throw new CommandError(ErrorCodes.BadValue, `The $bit modifier only supports 'and', 'or', and 'xor', not '${k}' which is an unknown operator: {${k}: ${formatValue(arg[k])}}`);
        const v = arg[k];
        if (!(v instanceof Long) && !(typeof v === 'number' && Number.isInteger(v))) {
          throw new CommandError(ErrorCodes.BadValue, `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(v)}' is not supported here: {${k}: ${formatValue(v)}}`);
        }
      }
      break;
    }
    default:
      break;
  }
}

/** mongod's three $pull matchers: a query on sub-documents, a wrapped operator condition, or equality. */
function pullMatcher(cond: unknown): PullMatcher {
  if (isPlainObject(cond)) {
    const first = Object.keys(cond)[0];
    if (first === undefined || !PATH_ACCEPTING_OPERATORS.has(first)) {
      const query = compileFilter(cond);
      return (el) => isPlainObject(el) && query.test(el as Document);
    }
    const query = compileFilter({ v: cond });
    return (el) => query.test({ v: el });
  }
  if (cond instanceof RegExp) {
    const query = compileFilter({ v: cond });
    return (el) => query.test({ v: el });
  }
  const key = canonicalKey(cond);
  return (el) => el !== undefined && canonicalKey(el) === key && sameNullness(el, cond);
}

function sameNullness(a: unknown, b: unknown): boolean {
  return (a === null) === (b === null);
}

function pushArgs(arg: unknown): PushArgs {
  if (!isPlainObject(arg) || !('$each' in arg)) return { each: [arg] };
  const out: PushArgs = { each: [] };
  for (const k of Object.keys(arg)) {
    if (!['$each', '$slice', '$sort', '$position'].includes(k)) throw new CommandError(ErrorCodes.BadValue, `Unrecognized clause in $push: ${k}`);
  }
  if (!Array.isArray(arg.$each)) throw new CommandError(ErrorCodes.BadValue, `The argument to $each in $push must be an array but it was of type: ${typeName(arg.$each)}`);
  out.each = arg.$each;
  if ('$slice' in arg) {
    const n = integerArg(arg.$slice);
    if (n === undefined) throw new CommandError(ErrorCodes.BadValue, `The value for $slice must be an integer value but was given type: ${typeName(arg.$slice)}`);
    out.slice = n;
  }
  if ('$position' in arg) {
    const n = integerArg(arg.$position);
    if (n === undefined) throw new CommandError(ErrorCodes.BadValue, `The value for $position must be an integer value, not of type: ${typeName(arg.$position)}`);
    out.position = n;
  }
  if ('$sort' in arg) {
    const s = arg.$sort;
    if (isPlainObject(s)) {
      const keys = Object.keys(s);
      if (keys.length === 0) throw new CommandError(ErrorCodes.BadValue, 'The $sort pattern is empty when it should be a set of fields.');
      for (const k of keys) {
        const dir = toNumber(s[k]);
        if (dir !== 1 && dir !== -1) throw new CommandError(ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
        if (k.split('.').some((x) => x.length === 0)) throw new CommandError(ErrorCodes.BadValue, `The $sort field is a dotted field but has an empty part: ${k}`);
      }
      out.sort = s;
    } else if (toNumber(s) === 1 || toNumber(s) === -1) {
      out.sort = toNumber(s);
    } else if (toNumber(s) !== undefined) {
      throw new CommandError(ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
    } else {
      throw new CommandError(ErrorCodes.BadValue, 'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resolution of positional elements into concrete paths, then application.

interface ConcreteOp {
  parsed: ParsedOp;
  parts: string[];
}

function positionalMatchIndex(doc: Document, prefix: string[], filter: Document | undefined): number {
  const notFound = () => new CommandError(ErrorCodes.BadValue, 'The positional operator did not find the match needed from the query.');
  const prefixPath = prefix.join('.');
  const clauses: Document[] = [];
  const collect = (f: Document): void => {
    for (const key of Object.keys(f)) {
      if (key === '$and' && Array.isArray(f.$and)) {
        for (const sub of f.$and) if (isPlainObject(sub)) collect(sub);
      } else if (key === prefixPath || key.startsWith(`${prefixPath}.`)) {
        clauses.push({ [key]: f[key] });
      }
    }
  };
  if (filter) collect(filter);
  if (clauses.length === 0) throw notFound();
  const arr = walk(doc, prefix);
  if (arr.kind !== 'found') throw notFound();
  const value = (arr.container as Record<string, unknown>)[arr.key];
  if (!Array.isArray(value)) throw notFound();
  const queries = clauses.map((c) => compileFilter(c));
  for (let i = 0; i < value.length; i++) {
    const probe: Document = {};
    setPath(probe, prefixPath, [value[i]]);
    if (queries.every((q) => q.test(probe))) return i;
  }
  throw notFound();
}

function expandPaths(doc: Document, op: ParsedOp, update: ParsedUpdate, filter: Document | undefined, out: ConcreteOp[]): void {
  const parts = op.parts;
  if (!parts.some(isPositional)) {
    out.push({ parsed: op, parts });
    return;
  }
  const recurse = (cur: unknown, i: number, acc: string[]): void => {
    if (i === parts.length) {
      out.push({ parsed: op, parts: acc });
      return;
    }
    const part = parts[i]!;
    if (part === '$') {
      const index = positionalMatchIndex(doc, acc, filter);
      const arr = cur as unknown[];
      recurse(arr[index], i + 1, [...acc, String(index)]);
      return;
    }
    if (isPositional(part)) {
      const where = acc.join('.');
      if (cur === undefined) throw new CommandError(ErrorCodes.BadValue, `The path '${where}' must exist in the document in order to apply array updates.`);
      if (!Array.isArray(cur)) throw new CommandError(ErrorCodes.BadValue, `Cannot apply array updates to non-array element ${formatElement(acc[acc.length - 1]!, cur)}`);
      const query = part === '$[]' ? undefined : update.arrayFilters.get(part.slice(2, -1));
      for (let k = 0; k < cur.length; k++) {
        if (query && !query.test({ v: cur[k] })) continue;
        recurse(cur[k], i + 1, [...acc, String(k)]);
      }
      return;
    }
    let next: unknown;
    if (isPlainObject(cur)) next = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    else if (Array.isArray(cur) && NUMERIC_PART.test(part)) next = cur[Number(part)];
    recurse(next, i + 1, [...acc, part]);
  };
  recurse(doc, 0, []);
}

type WalkResult =
  | { kind: 'found'; container: Record<string, unknown> | unknown[]; key: string }
  | { kind: 'missing'; container: Record<string, unknown> | unknown[]; at: number }
  | { kind: 'blocked'; at: number; name: string; value: unknown };

/** Follows `parts` without array expansion: found, missing (creatable from `container`), or blocked by a non-container. */
function walk(doc: Document, parts: string[]): WalkResult {
  let cur: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (isPlainObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, part) || cur[part] === undefined) return { kind: 'missing', container: cur, at: i };
      if (i === parts.length - 1) return { kind: 'found', container: cur, key: part };
      cur = cur[part];
    } else if (Array.isArray(cur) && NUMERIC_PART.test(part)) {
      const idx = Number(part);
      if (idx >= cur.length) return { kind: 'missing', container: cur, at: i };
      if (i === parts.length - 1) return { kind: 'found', container: cur, key: part };
      cur = cur[idx];
    } else {
      return { kind: 'blocked', at: i, name: parts[i - 1]!, value: cur };
    }
  }
  return { kind: 'missing', container: doc, at: 0 };
}

function create(doc: Document, parts: string[], value: unknown): void {
  const w = walk(doc, parts);
  if (w.kind === 'blocked') {
    throw new CommandError(ErrorCodes.PathNotViable, `Cannot create field '${parts[w.at]}' in element {${formatElement(w.name, w.value)}}`);
  }
  if (w.kind === 'found') {
    (w.container as Record<string, unknown>)[w.key] = value;
    return;
  }
  let container: Record<string, unknown> | unknown[] = w.container;
  for (let i = w.at; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    const next = last ? value : {};
    if (Array.isArray(container)) {
      const idx = Number(part);
      while (container.length < idx) container.push(null);
      container[idx] = next;
    } else {
      container[part] = next;
    }
    container = next as Record<string, unknown>;
  }
}

function nonViable(parts: string[], w: { at: number; name: string; value: unknown }): CommandError {
  const taken = parts.slice(0, w.at).join('.');
  const rest = parts.slice(w.at).join('.');
  return new CommandError(ErrorCodes.PathNotViable, `Cannot use the part (${parts[w.at]}) of (${taken}.${rest}) to traverse the element ({${formatElement(w.name, w.value)}})`);
}

function applyOperators(doc: Document, update: ParsedUpdate, options: ApplyOptions): boolean {
  const concrete: ConcreteOp[] = [];
  for (const op of update.ops) expandPaths(doc, op, update, options.filter, concrete);
  concrete.sort((a, b) => comparePartLists(a.parts, b.parts));
  for (let i = 1; i < concrete.length; i++) {
    const prev = concrete[i - 1]!.parts;
    const cur = concrete[i]!.parts;
    if (isPrefixOf(prev, cur)) throw new CommandError(ErrorCodes.ConflictingUpdateOperators, `Update created a conflict at '${cur.join('.')}'`);
  }
  let changed = false;
  for (const c of concrete) {
    if (applyOne(doc, c.parsed, c.parts, options)) changed = true;
  }
  return changed;
}

function checkTopLevelName(parts: string[], options: ApplyOptions): void {
  if (!options.inserting && parts[0]!.startsWith('$')) throw dollarPrefixedError(parts[0]!, parts[0]!);
}

function dollarPrefixedError(name: string, full: string): CommandError {
  return new CommandError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${name}' in '${full}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
}

function docId(doc: Document): string {
  return doc._id === undefined ? 'no id' : formatElement('_id', doc._id);
}

function applyOne(doc: Document, p: ParsedOp, parts: string[], options: ApplyOptions): boolean {
  const path = parts.join('.');
  const w = walk(doc, parts);
  const old = w.kind === 'found' ? (w.container as Record<string, unknown>)[w.key] : undefined;
  const setValue = (value: unknown): boolean => {
    checkTopLevelName(parts, options);
    if (w.kind === 'found') {
      (w.container as Record<string, unknown>)[w.key] = value;
    } else {
      create(doc, parts, value);
    }
    return true;
  };
  switch (p.op) {
    case '$set':
    case '$setOnInsert': {
      if (w.kind === 'found' && bsonIdentical(old, p.arg)) return false;
      return setValue(cloneValue(p.arg));
    }
    case '$unset': {
      if (w.kind !== 'found') return false;
      if (Array.isArray(w.container)) {
        if (w.container[Number(w.key)] === null) return false;
        w.container[Number(w.key)] = null;
      } else {
        delete w.container[w.key];
      }
      return true;
    }
    case '$inc':
    case '$mul': {
      if (w.kind === 'found' && toNumber(old) === undefined) {
        throw new CommandError(ErrorCodes.TypeMismatch, `Cannot apply ${p.op} to a value of non-numeric type. {${docId(doc)}} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeName(old)}`);
      }
      const result = arithmetic(p.op, w.kind === 'found' ? old : undefined, p.arg);
      if (w.kind === 'found' && bsonIdentical(old, result)) return false;
      return setValue(result);
    }
    case '$min':
    case '$max': {
      if (w.kind === 'found') {
        const c = mingoCompare(p.arg as never, old as never);
        if (p.op === '$min' ? c >= 0 : c <= 0) return false;
      }
      return setValue(cloneValue(p.arg));
    }
    case '$currentDate': {
      const now = new Date();
      const value = isPlainObject(p.arg) && p.arg.$type === 'timestamp' ? Timestamp.fromBits(1, Math.floor(now.getTime() / 1000)) : now;
      return setValue(value);
    }
    case '$bit': {
      if (w.kind === 'found' && !(old instanceof Long) && !(typeof old === 'number' && Number.isInteger(old))) {
        throw new CommandError(ErrorCodes.BadValue, `Cannot apply $bit to a value of non-integral type.{${docId(doc)}} has the field ${parts[parts.length - 1]} of non-integer type ${typeName(old)}`);
      }
      const result = bitwise(w.kind === 'found' ? old : 0, p.arg as Document);
      if (w.kind === 'found' && bsonIdentical(old, result)) return false;
      return setValue(result);
    }
    case '$push': {
      const args = p.prepared as PushArgs;
      if (w.kind === 'found' && !Array.isArray(old)) {
        throw new CommandError(ErrorCodes.BadValue, `The field '${path}' must be an array but is of type ${typeName(old)} in document {${docId(doc)}}`);
      }
      const before = w.kind === 'found' ? (old as unknown[]) : [];
      const after = pushInto(before.slice(), args);
      if (w.kind === 'found' && sameArray(before, after)) return false;
      return setValue(after);
    }
    case '$addToSet': {
      const values = p.prepared as unknown[];
      if (w.kind === 'found' && !Array.isArray(old)) {
        throw new CommandError(ErrorCodes.BadValue, `Cannot apply $addToSet to non-array field. Field named '${parts[parts.length - 1]}' has non-array type ${typeName(old)}`);
      }
      if (w.kind !== 'found') return setValue(values.map(cloneValue));
      const arr = old as unknown[];
      const present = new Set(arr.map(canonicalKey));
      const toAdd = values.filter((v) => !present.has(canonicalKey(v)));
      if (toAdd.length === 0) return false;
      checkTopLevelName(parts, options);
      for (const v of toAdd) arr.push(cloneValue(v));
      return true;
    }
    case '$pop':
    case '$pull':
    case '$pullAll': {
      if (w.kind === 'blocked') throw nonViable(parts, w);
      if (w.kind === 'missing') {
        if (Array.isArray(w.container) && !NUMERIC_PART.test(parts[w.at]!)) throw nonViable(parts, { at: w.at, name: parts[w.at - 1]!, value: w.container });
        return false;
      }
      if (!Array.isArray(old)) {
        if (p.op === '$pop') throw new CommandError(ErrorCodes.TypeMismatch, `Path '${path}' contains an element of non-array type '${typeName(old)}'`);
        throw new CommandError(ErrorCodes.BadValue, 'Cannot apply $pull to a non-array value');
      }
      if (old.length === 0) return false;
      if (p.op === '$pop') {
        if (toNumber(p.arg)! < 0) old.shift();
        else old.pop();
        return true;
      }
      let match: PullMatcher;
      if (p.op === '$pull') match = p.prepared as PullMatcher;
      else {
        const keys = new Set((p.arg as unknown[]).map(canonicalKey));
        match = (el) => keys.has(canonicalKey(el));
      }
      const kept = old.filter((el) => !match(el));
      if (kept.length === old.length) return false;
      (w.container as Record<string, unknown>)[w.key] = kept;
      return true;
    }
    case '$rename': {
      if (w.kind !== 'found') return false;
      if (Array.isArray(w.container)) throw new CommandError(ErrorCodes.BadValue, `The source field cannot be an array element, '${path}' in doc with ${formatElement(parts[0]!, doc[parts[0]!])}`);
      const to = p.to!;
      const dest = walk(doc, to);
      if (dest.kind === 'found' && Array.isArray(dest.container)) throw new CommandError(ErrorCodes.BadValue, `The destination field cannot be an array element, '${to.join('.')}' in doc with ${formatElement(to[0]!, doc[to[0]!])}`);
      if (!options.inserting && to[0]!.startsWith('$')) throw dollarPrefixedError(to[0]!, to[0]!);
      delete w.container[w.key];
      create(doc, to, old);
      return true;
    }
    default:
      return false;
  }
}

function sameArray(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!bsonIdentical(a[i], b[i])) return false;
  return true;
}

function pushInto(arr: unknown[], args: PushArgs): unknown[] {
  const values = args.each.map(cloneValue);
  const pos = args.position;
  if (pos === undefined || pos >= arr.length) arr.push(...values);
  else if (pos >= 0) arr.splice(pos, 0, ...values);
  else if (-pos < arr.length) arr.splice(arr.length + pos, 0, ...values);
  else arr.unshift(...values);
  if (args.sort !== undefined) {
    const sort = args.sort;
    if (typeof sort === 'number') arr.sort((x, y) => sort * mingoCompare(x as never, y as never));
    else {
      const keys = Object.keys(sort);
      const field = (el: unknown, k: string): unknown => {
        let cur: unknown = el;
        for (const part of k.split('.')) cur = isPlainObject(cur) ? cur[part] : undefined;
        return cur ?? null;
      };
      arr.sort((x, y) => {
        for (const k of keys) {
          const c = mingoCompare(field(x, k) as never, field(y, k) as never);
          if (c !== 0) return c * toNumber(sort[k])!;
        }
        return 0;
      });
    }
  }
  if (args.slice !== undefined) {
    const s = args.slice;
    if (s >= 0) arr.splice(s);
    else if (arr.length > -s) arr.splice(0, arr.length + s);
  }
  return arr;
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
}

/** `$inc`/`$mul`: JS numbers stay numbers (Int32 overflow becomes Int64), Int64 stays Int64, Decimal128 via doubles. */
function arithmetic(op: string, current: unknown, amount: unknown): unknown {
  const inc = op === '$inc';
  if (amount instanceof Decimal128 || current instanceof Decimal128) {
    const base = current === undefined ? 0 : toNumber(current)!;
    return Decimal128.fromString(String(inc ? base + toNumber(amount)! : base * toNumber(amount)!));
  }
  if (amount instanceof Long || current instanceof Long) {
    const a = amount instanceof Long ? amount : Number.isInteger(amount) ? Long.fromNumber(amount as number) : undefined;
    const c = current instanceof Long ? current : current === undefined ? Long.ZERO : Number.isInteger(current) ? Long.fromNumber(current as number) : undefined;
    if (a && c) return inc ? c.add(a) : current === undefined ? Long.ZERO : c.multiply(a);
    const base = current === undefined ? 0 : toNumber(current)!;
    return inc ? base + toNumber(amount)! : base * toNumber(amount)!;
  }
  const a = amount as number;
  if (current === undefined) return inc ? a : 0;
  const c = current as number;
  const result = inc ? c + a : c * a;
  if (isInt32(c) && isInt32(a) && !isInt32(result) && Number.isSafeInteger(result)) return Long.fromNumber(result);
  return result;
}

function bitwise(current: unknown, spec: Document): unknown {
  const wide = current instanceof Long || Object.values(spec).some((v) => v instanceof Long);
  if (wide) {
    let cur = current instanceof Long ? current : Long.fromNumber(current as number);
    for (const k of Object.keys(spec)) {
      const v = spec[k] instanceof Long ? (spec[k] as Long) : Long.fromNumber(spec[k] as number);
      cur = k === 'and' ? cur.and(v) : k === 'or' ? cur.or(v) : cur.xor(v);
    }
    return cur;
  }
  let cur = current as number;
  for (const k of Object.keys(spec)) {
    const v = spec[k] as number;
    cur = k === 'and' ? cur & v : k === 'or' ? cur | v : cur ^ v;
  }
  return cur;
}

/** Same value and same BSON type (what makes mongod treat a `$set` as a no-op). */
function bsonIdentical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return false;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  return serializeSafeEqual({ v: a }, { v: b });
}

function typeName(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isInt32(v) ? 'int' : 'double';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (isPlainObject(v)) return 'object';
  if (v instanceof Long) return 'long';
  if (v instanceof Decimal128) return 'decimal';
  if (v instanceof ObjectId) return 'objectId';
  if (v instanceof Timestamp) return 'timestamp';
  const t = (v as { _bsontype?: string })._bsontype;
  return t === 'Binary' ? 'binData' : (t ?? 'object').toLowerCase();
}

/** mongod's rendering of a value in error messages: `{ q: 1 }`, `[ 1, 2 ]`, `"x"`. */
function formatValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length ? `[ ${v.map(formatValue).join(', ')} ]` : '[]';
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length ? `{ ${keys.map((k) => `${k}: ${formatValue(v[k])}`).join(', ')} }` : '{}';
  }
  return String(v);
}

function formatElement(name: string, value: unknown): string {
  return `${name}: ${formatValue(value)}`;
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
