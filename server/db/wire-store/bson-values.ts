// Helpers over stored BSON values: canonical key strings (for the _id map and indexes), dotted-path
// extraction with MongoDB's array expansion, deep copies, and error-message formatting.
import { EJSON, Long, ObjectId, Decimal128, Binary, serialize, type Document } from 'bson';

export type Value = unknown;

function bsonType(v: object): string | undefined {
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

/**
 * Values found at a dotted path, expanding arrays the way MongoDB indexes do (multikey). Missing → [undefined].
 * A leaf empty array yields the distinct "empty array" marker value `EMPTY_ARRAY`.
 */
export const EMPTY_ARRAY = Symbol('empty-array');

export function pathValues(doc: Value, path: string): Value[] {
  const parts = path.split('.');
  const out: Value[] = [];
  collect(doc, parts, 0, out, true);
  if (out.length === 0) out.push(undefined);
  return out;
}

function collect(cur: Value, parts: string[], i: number, out: Value[], expandLeafArray: boolean): void {
  if (i === parts.length) {
    if (Array.isArray(cur) && expandLeafArray) {
      if (cur.length === 0) out.push(EMPTY_ARRAY);
      else for (const el of cur) out.push(el);
    } else {
      out.push(cur);
    }
    return;
  }
  if (cur === null || cur === undefined || typeof cur !== 'object') {
    out.push(undefined);
    return;
  }
  const part = parts[i]!;
  if (Array.isArray(cur)) {
    if (/^\d+$/.test(part)) {
      collect(cur[Number(part)], parts, i + 1, out, expandLeafArray);
      return;
    }
    for (const el of cur) {
      if (el !== null && typeof el === 'object' && !Array.isArray(el)) collect(el, parts, i, out, expandLeafArray);
    }
    return;
  }
  if (!isPlainObject(cur)) {
    out.push(undefined);
    return;
  }
  collect(cur[part], parts, i + 1, out, expandLeafArray);
}

/** The single value at a dotted path without array expansion (undefined when missing or through an array). */
export function getPath(doc: Value, path: string): Value {
  let cur: Value = doc;
  for (const part of path.split('.')) {
    if (cur === null || cur === undefined || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(part)) return undefined;
      cur = cur[Number(part)];
    } else if (isPlainObject(cur)) {
      cur = cur[part];
    } else {
      return undefined;
    }
  }
  return cur;
}

/** Sets a dotted path, creating intermediate objects. */
export function setPath(doc: Record<string, unknown>, path: string, value: Value): void {
  const parts = path.split('.');
  let cur: Record<string, unknown> = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    const next = cur[part];
    if (next === null || typeof next !== 'object') {
      const created: Record<string, unknown> = {};
      cur[part] = created;
      cur = created;
    } else {
      cur = next as Record<string, unknown>;
    }
  }
  cur[parts[parts.length - 1]!] = value;
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
