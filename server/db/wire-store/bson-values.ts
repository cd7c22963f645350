// Helpers over stored BSON values: canonical key strings (for the _id map and indexes), deep copies,
// numbers, exact equality, a DBRef seen as an embedded document, and error-message formatting.
// Dotted paths are in document-paths.ts, MongoDB's ordering of values in bson-ordering.ts.
import { EJSON, Long, ObjectId, Decimal128, Binary, DBRef, serialize, type Document } from 'bson';

export type Value = unknown;

/** The `_bsontype` of a bson class instance (ObjectId, Long, …), if any. */
export function bsonType(v: object): string | undefined {
  const t = (v as { _bsontype?: unknown })._bsontype;
  return typeof t === 'string' ? t : undefined;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * A string that is equal for two values exactly when MongoDB would consider them equal index keys
 * (numbers compare across Int32/Double/Int64; null and missing share a key). Used as Map keys.
 */
export function canonicalKey(v: Value): string {
  switch (typeof v) {
    case 'undefined':
      return 'z';
    case 'number':
      return Object.is(v, -0) ? 'n0' : `n${v}`;
    case 'string':
      return `s${JSON.stringify(v)}`;
    case 'boolean':
      return v ? 'b1' : 'b0';
    case 'symbol':
      return 'u';
    case 'bigint':
      return Number.isSafeInteger(Number(v)) ? `n${Number(v)}` : `l${v.toString()}`;
    default:
      break;
  }
  if (v === null) return 'z';
  if (Array.isArray(v)) return `[${v.map(canonicalKey).join(',')}]`;
  if (v instanceof Date) return `t${v.getTime()}`;
  if (v instanceof RegExp) return `r/${v.source}/${v.flags}`;
  if (isPlainObject(v)) {
    let out = '{';
    let first = true;
    for (const k of Object.keys(v)) {
      out += `${first ? '' : ','}${JSON.stringify(k)}:${canonicalKey(v[k])}`;
      first = false;
    }
    return `${out}}`;
  }
  const t = bsonType(v as object);
  switch (t) {
    case 'ObjectId':
    case 'ObjectID':
      return `o${(v as ObjectId).toHexString()}`;
    case 'Long': {
      const l = v as Long;
      const n = l.toNumber();
      return Number.isSafeInteger(n) ? `n${n}` : `l${l.toString()}`;
    }
    case 'Int32':
    case 'Double':
      return `n${(v as { value: number }).value}`;
    case 'Decimal128': {
      const s = (v as Decimal128).toString();
      const n = Number(s);
      return Number.isFinite(n) && String(n) === s ? `n${n}` : `d${s}`;
    }
    case 'Binary':
      return `x${(v as Binary).sub_type}:${Buffer.from((v as Binary).buffer).toString('base64')}`;
    default:
      return `${t ?? 'obj'}:${EJSON.stringify(v as Document, { relaxed: false })}`;
  }
}

/** Whether a query value can be looked up in an index by its canonical key (a plain equality). */
export function isIndexableEqualityValue(v: Value): boolean {
  if (v === undefined) return false;
  if (v === null) return true;
  if (typeof v !== 'object') return typeof v !== 'function' && typeof v !== 'symbol';
  if (Array.isArray(v) || v instanceof RegExp) return false;
  if (isPlainObject(v)) return false;
  const t = bsonType(v);
  return t !== 'BSONRegExp' && t !== 'MinKey' && t !== 'MaxKey';
}

/** Deep copy of plain objects, arrays and Dates; bson value classes are immutable and shared. */
export function cloneValue<T>(v: T): T {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(cloneValue) as T;
  if (v instanceof Date) return new Date(v.getTime()) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) out[k] = cloneValue(v[k]);
    return out as T;
  }
  return v;
}

/** Returns the document with `_id` as its first field (the same object when it already is). */
export function idFirst(doc: Document): Document {
  const keys = Object.keys(doc);
  if (keys[0] === '_id' || !('_id' in doc)) return doc;
  const out: Document = { _id: doc._id };
  for (const k of keys) if (k !== '_id') out[k] = doc[k];
  return out;
}

function formatValue(v: Value): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Long) return `${v.toString()}`;
  if (isPlainObject(v)) return formatKeyValue(v);
  try {
    return EJSON.stringify(v as Document, { relaxed: true });
  } catch {
    return String(v);
  }
}

/** Formats `{ email: "x" }` the way mongod prints a dup key. */
export function formatKeyValue(obj: Record<string, unknown>): string {
  const parts = Object.keys(obj).map((k) => `${k}: ${formatValue(obj[k])}`);
  return parts.length ? `{ ${parts.join(', ')} }` : '{}';
}

/** A JS number, or undefined, for numeric bson values. */
export function toNumber(v: Value): number | undefined {
  if (typeof v === 'number') return v;
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  if (v !== null && typeof v === 'object') {
    const t = bsonType(v);
    if (t === 'Int32' || t === 'Double') return (v as { value: number }).value;
  }
  return undefined;
}

/** Exact equality of two documents (same BSON bytes). */
export function serializeSafeEqual(a: Document, b: Document): boolean {
  return Buffer.from(serialize(a)).equals(serialize(b));
}

/** Same value and same BSON type (what makes mongod treat a `$set` as a no-op). */
export function bsonIdentical(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' || typeof b === 'number') return false;
  if (a === null || b === null || a === undefined || b === undefined || typeof a !== 'object' || typeof b !== 'object') return false;
  return serializeSafeEqual({ v: a }, { v: b });
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** Whether a JS number is an integer that fits an Int32. */
export function isInt32(n: number): boolean {
  return Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX;
}

/** A DBRef seen as the embedded document it is on the wire: `{ $ref, $id, $db?, ...fields }`. */
export function dbRefFields(v: DBRef): Record<string, unknown> {
  const out: Record<string, unknown> = { $ref: v.collection, $id: v.oid };
  if (v.db !== undefined) out.$db = v.db;
  return Object.assign(out, v.fields);
}

/** Whether a value is an embedded document (plain object or DBRef). */
export function isEmbeddedDocument(v: unknown): v is Record<string, unknown> | DBRef {
  return isPlainObject(v) || v instanceof DBRef;
}

/** The value of `key` in an embedded document (a DBRef's `$ref`/`$id`/`$db` included); undefined otherwise. */
export function fieldOf(v: unknown, key: string): unknown {
  if (isPlainObject(v)) return Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
  if (v instanceof DBRef) return dbRefFields(v)[key];
  return undefined;
}
