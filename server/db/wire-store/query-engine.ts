// Thin layer over mingo: compiles filters once per command, refuses operators the store cannot answer
// correctly, and extracts equality constraints that the index manager can use.
import { Context, ProcessingMode } from 'mingo/core';
import { Query } from 'mingo/query';
import { Aggregator } from 'mingo/aggregator';
import { Lazy, type Iterator as LazyIterator } from 'mingo/lazy';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import { BSONRegExp, DBRef, Decimal128, Long, type Document } from 'bson';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { dbRefFields, fieldOf, isEmbeddedDocument, isIndexableEqualityValue, isPlainObject, type Value } from './bson-values';
import { bsonTypeNumber, canonicalType, compareValues, valuesEqual } from './bson-ordering';

const UNSUPPORTED_QUERY_OPERATORS = new Set([
  '$text',
  '$where',
  '$near',
  '$nearSphere',
  '$geoWithin',
  '$geoIntersects',
  '$within',
  '$jsonSchema',
  '$function',
  '$accumulator',
]);

const UNSUPPORTED_STAGES = new Set([
  '$out',
  '$merge',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$geoNear',
  '$collStats',
  '$indexStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$changeStream',
  '$planCacheStats',
]);

export type CollectionResolver = (name: string) => Document[];

export function mingoOptions(resolver?: CollectionResolver, variables?: Document) {
  return {
    context: STORE_CONTEXT,
    idKey: '_id',
    scriptEnabled: false,
    useStrictMode: true,
    processingMode: ProcessingMode.CLONE_OFF,
    ...(resolver ? { collectionResolver: resolver } : {}),
    ...(variables ? { variables } : {}),
  };
}

/** Throws for operators that would otherwise give a wrong answer or run scripts. */
export function refuseUnsupportedOperators(expr: Value, what = 'operator'): void {
  if (Array.isArray(expr)) {
    for (const el of expr) refuseUnsupportedOperators(el, what);
    return;
  }
  if (!isPlainObject(expr)) return;
  for (const key of Object.keys(expr)) {
    if (key.charCodeAt(0) === 36 /* $ */ && UNSUPPORTED_QUERY_OPERATORS.has(key)) {
      throw notSupported(`The ${key} ${what}`);
    }
    refuseUnsupportedOperators(expr[key], what);
  }
}

export function refuseCollation(command: Document): void {
  const collation = command.collation;
  if (collation !== undefined && collation !== null && !(isPlainObject(collation) && Object.keys(collation).length === 0)) {
    throw notSupported('The collation option');
  }
}

export interface CompiledFilter {
  readonly filter: Document;
  readonly empty: boolean;
  test(doc: Document): boolean;
}

export function compileFilter(filter: Value, resolver?: CollectionResolver): CompiledFilter {
  if (filter === undefined || filter === null) filter = {};
  if (!isPlainObject(filter)) throw new CommandError(ErrorCodes.TypeMismatch, 'filter must be an object');
  refuseUnsupportedOperators(filter);
  const f = filter as Document;
  if (Object.keys(f).length === 0) return { filter: f, empty: true, test: () => true };
  const query = newQuery(f, resolver);
  return {
    filter: f,
    empty: false,
    test: (doc: Document) => query.test(doc),
  };
}

export function newQuery(filter: Document, resolver?: CollectionResolver): Query {
  try {
    return new Query(prepareFilter(filter), mingoOptions(resolver));
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

export function checkPipeline(pipeline: Value): Document[] {
  if (!Array.isArray(pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError(ErrorCodes.Location40324, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0]!;
    if (UNSUPPORTED_STAGES.has(name)) throw notSupported(`The ${name} aggregation stage`);
    if (name === '$facet' && isPlainObject(stage.$facet)) {
      for (const sub of Object.values(stage.$facet)) checkPipeline(sub);
    }
    if (name === '$lookup' && isPlainObject(stage.$lookup) && Array.isArray(stage.$lookup.pipeline)) {
      checkPipeline(stage.$lookup.pipeline);
    }
    if (name === '$unionWith' && isPlainObject(stage.$unionWith) && Array.isArray(stage.$unionWith.pipeline)) {
      checkPipeline(stage.$unionWith.pipeline);
    }
  }
  refuseUnsupportedOperators(pipeline, 'operator');
  return pipeline as Document[];
}

export function runPipeline(input: Document[], pipeline: Document[], resolver: CollectionResolver, variables?: Document): Document[] {
  try {
    const agg = new Aggregator(pipeline, { ...mingoOptions(resolver, variables), processingMode: ProcessingMode.CLONE_INPUT });
    return agg.run(input) as Document[];
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

export { Context };

/**
 * Equality constraints implied by a filter: field → candidate values (plain `field: value`, `$eq`, `$in`,
 * and the same inside `$and`). Any document matching the filter has one of these values at that field.
 */
export function extractEqualities(filter: Document): Map<string, Value[]> {
  const out = new Map<string, Value[]>();
  collectEqualities(filter, out);
  return out;
}

function collectEqualities(filter: Document, out: Map<string, Value[]>): void {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) collectEqualities(sub, out);
      continue;
    }
    if (key.charCodeAt(0) === 36) continue;
    if (out.has(key)) continue;
    if (isIndexableEqualityValue(v)) {
      out.set(key, [v]);
      continue;
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 || keys[0]!.charCodeAt(0) !== 36) continue;
      if ('$eq' in v && isIndexableEqualityValue(v.$eq)) {
        out.set(key, [v.$eq]);
      } else if ('$in' in v && Array.isArray(v.$in) && v.$in.every(isIndexableEqualityValue)) {
        out.set(key, v.$in as Value[]);
      }
    }
  }
}

// ---- MongoDB semantics for the query operators where mingo's differ (BSON types, type brackets, arrays) ----

type Predicate = (doc: Value) => boolean;
type QueryOperator = (selector: string, value: Value, options: unknown) => Predicate;

const isDigits = (s: string) => /^\d+$/.test(s);

/**
 * The values a query operator tests at a dotted path, as MongoDB's matcher walks it: arrays met along the path
 * are traversed (their embedded documents, or the element at a numeric component); at the end an array is
 * tested whole and, when `expandLeaf`, element by element. A missing value is `undefined`.
 */
export function queryCandidates(doc: Value, path: string, expandLeaf = true): Value[] {
  const out: Value[] = [];
  walkPath(doc, path.split('.'), 0, out, expandLeaf);
  if (out.length === 0) out.push(undefined);
  return out;
}

function walkPath(cur: Value, parts: string[], i: number, out: Value[], expandLeaf: boolean): void {
  const value = fieldOf(cur, parts[i]!);
  walkValue(value, parts, i + 1, out, expandLeaf);
}

function walkValue(value: Value, parts: string[], i: number, out: Value[], expandLeaf: boolean): void {
  if (i === parts.length) {
    out.push(value);
    if (expandLeaf && Array.isArray(value)) for (const el of value) out.push(el);
    return;
  }
  if (Array.isArray(value)) {
    const part = parts[i]!;
    const before = out.length;
    if (isDigits(part) && Number(part) < value.length) walkValue(value[Number(part)], parts, i + 1, out, expandLeaf);
    for (const el of value) if (isEmbeddedDocument(el)) walkPath(el, parts, i, out, expandLeaf);
    if (out.length === before) out.push(undefined);
    return;
  }
  if (isEmbeddedDocument(value)) walkPath(value, parts, i, out, expandLeaf);
  else out.push(undefined);
}

function isRegex(v: Value): v is RegExp | BSONRegExp {
  return v instanceof RegExp || v instanceof BSONRegExp;
}

function toRegExp(v: RegExp | BSONRegExp): RegExp {
  if (v instanceof RegExp) return v;
  return new RegExp(v.pattern, v.options.replace(/[^imsu]/g, ''));
}

function regexMatches(candidate: Value, re: RegExp | BSONRegExp): boolean {
  if (typeof candidate === 'string') return toRegExp(re).test(candidate);
  if (isRegex(candidate)) return valuesEqual(candidate, re);
  if (candidate !== null && typeof candidate === 'object' && (candidate as { _bsontype?: string })._bsontype === 'BSONSymbol') {
    return toRegExp(re).test(String((candidate as { value: string }).value));
  }
  return false;
}

function equalsQueryValue(candidate: Value, rhs: Value): boolean {
  if (rhs === null || rhs === undefined) return candidate === null || candidate === undefined;
  return valuesEqual(candidate, rhs);
}

type ComparisonKind = 'gt' | 'gte' | 'lt' | 'lte';

/** ComparisonMatchExpression::compare: only values of the same type bracket compare (null and missing are one). */
function comparisonMatches(candidate: Value, rhs: Value, kind: ComparisonKind): boolean {
  const tc = canonicalType(candidate);
  const tr = canonicalType(rhs);
  if (tc !== tr) {
    if (tc + tr === 5) return kind === 'gte' || kind === 'lte'; // missing vs null
    if (tr === -1) return kind === 'gt' || kind === 'gte'; // MinKey
    if (tr === 127) return kind === 'lt' || kind === 'lte'; // MaxKey
    return false;
  }
  if (tc === 10 && (isNaNValue(candidate) || isNaNValue(rhs))) {
    return (kind === 'gte' || kind === 'lte') && isNaNValue(candidate) && isNaNValue(rhs);
  }
  const c = compareValues(candidate, rhs);
  switch (kind) {
    case 'gt':
      return c > 0;
    case 'gte':
      return c >= 0;
    case 'lt':
      return c < 0;
    default:
      return c <= 0;
  }
}

function isNaNValue(v: Value): boolean {
  if (typeof v === 'number') return Number.isNaN(v);
  if (v instanceof Decimal128) return v.toString().endsWith('NaN');
  return false;
}

function inMatches(candidates: Value[], list: Value[]): boolean {
  for (const rhs of list) {
    if (isRegex(rhs)) {
      if (candidates.some((c) => regexMatches(c, rhs))) return true;
    } else if (candidates.some((c) => equalsQueryValue(c, rhs))) {
      return true;
    }
  }
  return false;
}

function requireArray(value: Value, op: string): Value[] {
  if (!Array.isArray(value)) throw new CommandError(ErrorCodes.BadValue, `${op} needs an array`);
  return value;
}

function comparisonOperator(kind: ComparisonKind): QueryOperator {
  return (selector, value) => (doc) => queryCandidates(doc, selector).some((c) => comparisonMatches(c, value, kind));
}

const TYPE_ALIASES: Record<string, number[]> = {
  double: [1],
  string: [2],
  object: [3],
  array: [4],
  binData: [5],
  undefined: [6],
  objectId: [7],
  bool: [8],
  date: [9],
  null: [10],
  regex: [11],
  dbPointer: [12],
  javascript: [13],
  symbol: [14],
  javascriptWithScope: [15],
  int: [16],
  timestamp: [17],
  long: [18],
  decimal: [19],
  minKey: [-1],
  maxKey: [127],
  number: [1, 16, 18, 19],
};
const TYPE_NUMBERS = new Set(Object.values(TYPE_ALIASES).flat());

function typeCodes(spec: Value): Set<number> {
  const out = new Set<number>();
  for (const t of Array.isArray(spec) ? spec : [spec]) {
    if (typeof t === 'string') {
      const codes = TYPE_ALIASES[t];
      if (!codes) throw new CommandError(ErrorCodes.BadValue, `Unknown type name alias: ${t}`);
      for (const c of codes) out.add(c);
      continue;
    }
    const n = typeof t === 'number' ? t : t instanceof Long ? t.toNumber() : t instanceof Decimal128 ? Number(t.toString()) : NaN;
    if (!Number.isInteger(n) || !TYPE_NUMBERS.has(n)) {
      throw new CommandError(ErrorCodes.BadValue, `Invalid numerical type code: ${String(t)}`);
    }
    out.add(n);
  }
  return out;
}

const DBREF_KEYS = new Set(['$ref', '$id', '$db']);
const OBJECT_FORM_OPERATORS = new Set(['$and', '$or', '$nor', '$expr', '$where', '$text', '$comment', '$jsonSchema', ...DBREF_KEYS]);
/** Prefix under which an element's `$ref`/`$id`/`$db` fields are visible to mingo's sub-query (which reads `$…` keys as operators). */
const DBREF_PREFIX = '\u0001';

function renameDbRefKeys(criteria: Document): Document {
  const out: Document = {};
  for (const [key, value] of Object.entries(criteria)) {
    const first = key.split('.', 1)[0]!;
    if (DBREF_KEYS.has(first)) out[DBREF_PREFIX + key] = value;
    else if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
      out[key] = value.map((sub) => (isPlainObject(sub) ? renameDbRefKeys(sub) : sub));
    } else out[key] = value;
  }
  return out;
}

function elementView(el: Value): Value {
  const fields = isPlainObject(el) ? el : el instanceof DBRef ? dbRefFields(el) : undefined;
  if (!fields) return el;
  let view: Record<string, unknown> | undefined;
  for (const key of Object.keys(fields)) {
    if (DBREF_KEYS.has(key)) {
      view ??= { ...fields };
      view[DBREF_PREFIX + key] = fields[key];
    }
  }
  return view ?? fields;
}

/** The element predicate of `$elemMatch`: value form (`{ $gte: 5 }`) or object form (`{ a: 1, $id: x }`). */
function elemMatchElementPredicate(criteria: Value, options: unknown): (el: Value) => boolean {
  // `{ $ref, $id }` criteria arrive deserialized as a DBRef.
  if (criteria instanceof DBRef) criteria = dbRefFields(criteria);
  if (!isPlainObject(criteria)) throw new CommandError(ErrorCodes.BadValue, '$elemMatch needs an Object');
  const keys = Object.keys(criteria);
  const first = keys[0];
  if (first !== undefined && first.startsWith('$') && !OBJECT_FORM_OPERATORS.has(first)) {
    const query = new Query(prepareFilter({ v: criteria }), options as never);
    return (el) => query.test({ v: el });
  }
  const query = new Query(prepareFilter(renameDbRefKeys(criteria)), options as never);
  return (el) => (isEmbeddedDocument(el) || Array.isArray(el)) && query.test(Array.isArray(el) ? { ...el } : (elementView(el) as Document));
}

const STORE_QUERY_OPERATORS: Record<string, QueryOperator> = {
  $eq: (selector, value) => (doc) => queryCandidates(doc, selector).some((c) => equalsQueryValue(c, value)),
  $ne: (selector, value) => (doc) => !queryCandidates(doc, selector).some((c) => equalsQueryValue(c, value)),
  $gt: comparisonOperator('gt'),
  $gte: comparisonOperator('gte'),
  $lt: comparisonOperator('lt'),
  $lte: comparisonOperator('lte'),
  $in: (selector, value) => {
    const list = requireArray(value, '$in');
    return (doc) => inMatches(queryCandidates(doc, selector), list);
  },
  $nin: (selector, value) => {
    const list = requireArray(value, '$nin');
    return (doc) => !inMatches(queryCandidates(doc, selector), list);
  },
  $type: (selector, value) => {
    const codes = typeCodes(value);
    return (doc) =>
      queryCandidates(doc, selector).some((c) => {
        const t = bsonTypeNumber(c);
        return t !== undefined && codes.has(t);
      });
  },
  $all: (selector, value, options) => {
    const list = requireArray(value, '$all');
    const tests = list.map((rhs): ((candidates: Value[], doc: Value) => boolean) => {
      if (isPlainObject(rhs) && Object.keys(rhs)[0] === '$elemMatch') {
        const pred = elemMatchElementPredicate(rhs.$elemMatch, options);
        return (_c, doc) => queryCandidates(doc, selector, false).some((arr) => Array.isArray(arr) && arr.some(pred));
      }
      if (isRegex(rhs)) return (candidates) => candidates.some((c) => regexMatches(c, rhs));
      return (candidates) => candidates.some((c) => equalsQueryValue(c, rhs));
    });
    return (doc) => {
      if (tests.length === 0) return false;
      const candidates = queryCandidates(doc, selector);
      return tests.every((t) => t(candidates, doc));
    };
  },
  $elemMatch: (selector, value, options) => {
    const pred = elemMatchElementPredicate(value, options);
    return (doc) => queryCandidates(doc, selector, false).some((arr) => Array.isArray(arr) && arr.some(pred));
  },
};

/**
 * Filter rewrites before mingo compiles it: a DBRef-shaped equality value (`{ $ref, $id }`) is an equality,
 * not operators `$ref`/`$id`.
 */
function prepareFilter(filter: Document): Document {
  let out: Document | undefined;
  for (const [key, value] of Object.entries(filter)) {
    let next = value;
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(value)) {
      next = value.map((sub) => (isPlainObject(sub) ? prepareFilter(sub) : sub));
    } else if (!key.startsWith('$') && isPlainObject(value)) {
      const keys = Object.keys(value);
      if (keys.length > 0 && DBREF_KEYS.has(keys[0]!)) next = { $eq: value };
    }
    if (next !== value) {
      out ??= { ...filter };
      out[key] = next;
    }
  }
  return out ?? filter;
}

/** Sorts documents in MongoDB's order: ascending by the smallest, descending by the largest value at each key. */
export function sortDocuments(docs: Document[], sort: Document): Document[] {
  const keys = Object.keys(sort).filter((k) => k !== '$natural');
  if (keys.length === 0) return docs.slice();
  const dirs = keys.map((k) => (sort[k] === -1 ? -1 : 1));
  const decorated = docs.map((doc, index) => ({ doc, index, keys: keys.map((k, i) => sortKey(doc, k, dirs[i]!)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareSortKeys(a.keys[i], b.keys[i]);
      if (c !== 0) return c * dirs[i]!;
    }
    return a.index - b.index;
  });
  return decorated.map((d) => d.doc);
}

const EMPTY_ARRAY_KEY = Symbol('empty-array');

function sortKey(doc: Value, path: string, dir: number): Value {
  const values = queryCandidates(doc, path, false);
  const flat: Value[] = [];
  for (const v of values) {
    if (Array.isArray(v)) flat.push(...v);
    else flat.push(v === undefined ? null : v);
  }
  if (flat.length === 0) return EMPTY_ARRAY_KEY; // an empty array sorts before null
  let best = flat[0];
  for (const v of flat) if (compareValues(v, best) * dir < 0) best = v;
  return best;
}

function compareSortKeys(a: Value, b: Value): number {
  if (a === EMPTY_ARRAY_KEY || b === EMPTY_ARRAY_KEY) return a === b ? 0 : a === EMPTY_ARRAY_KEY ? -1 : 1;
  return compareValues(a, b);
}

const storeSortStage = (collection: LazyIterator, sortKeys: Value): LazyIterator => {
  if (!isPlainObject(sortKeys) || Object.keys(sortKeys).length === 0) {
    throw new CommandError(ErrorCodes.BadValue, '$sort stage must have at least one sort key');
  }
  return collection.transform((docs) => Lazy(sortDocuments(docs as Document[], sortKeys)));
};

const STORE_CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: expressionOperators,
  pipeline: { ...pipelineOperators, $sort: storeSortStage },
  projection: projectionOperators,
  query: { ...queryOperators, ...STORE_QUERY_OPERATORS },
  window: windowOperators,
} as never);

/** The element test of an `$elemMatch` (query or projection): true for the elements the criteria match. */
export function elemMatchPredicate(criteria: Value): (el: Value) => boolean {
  try {
    return elemMatchElementPredicate(criteria, mingoOptions());
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}
