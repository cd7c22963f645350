// MongoDB semantics for the query operators where mingo's differ (BSON types, type brackets, arrays):
// `$eq`/`$ne`/`$gt`/`$gte`/`$lt`/`$lte`/`$in`/`$nin`/`$all`/`$type`/`$elemMatch`, given to mingo by query-engine.ts,
// and the filter rewrite done before mingo compiles a filter.
import { Query } from 'mingo/query';
import { BSONRegExp, DBRef, Decimal128, Long, type Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error';
import { dbRefFields, fieldOf, isEmbeddedDocument, isPlainObject, type Value } from './bson-values';
import { bsonTypeNumber, canonicalType, compareValues, valuesEqual } from './bson-ordering';

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
export function elemMatchElementPredicate(criteria: Value, options: unknown): (el: Value) => boolean {
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

export const STORE_QUERY_OPERATORS: Record<string, QueryOperator> = {
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
export function prepareFilter(filter: Document): Document {
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
