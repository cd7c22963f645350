// Helpers over stored BSON values: canonical key strings (for the _id map and indexes), dotted-path
// extraction with MongoDB's array expansion, deep copies, and error-message formatting.
import { EJSON, Long, ObjectId, Decimal128, Binary, DBRef, Timestamp, BSONRegExp, serialize, type Document } from 'bson';

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

// ---- MongoDB's ordering of BSON values (type brackets, then values), used by queries and sorts ----

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

/** The BSON type number of a stored value (what `$type` compares), or undefined for a missing value. */
export function bsonTypeNumber(v: Value): number | undefined {
  switch (typeof v) {
    case 'undefined':
      return undefined;
    case 'number':
      // Int32 and Double are both promoted to JS numbers; the store writes integers that fit back as Int32.
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0) ? 16 : 1;
    case 'string':
      return 2;
    case 'boolean':
      return 8;
    case 'bigint':
      return 18;
    default:
      break;
  }
  if (v === null) return 10;
  if (Array.isArray(v)) return 4;
  if (v instanceof Date) return 9;
  if (v instanceof RegExp) return 11;
  if (isPlainObject(v)) return 3;
  switch (bsonType(v as object)) {
    case 'Double':
      return 1;
    case 'Int32':
      return 16;
    case 'Binary':
      return 5;
    case 'ObjectId':
    case 'ObjectID':
      return 7;
    case 'BSONRegExp':
      return 11;
    case 'DBRef':
      return 3;
    case 'Code':
      return (v as { scope?: unknown }).scope ? 15 : 13;
    case 'BSONSymbol':
    case 'Symbol':
      return 14;
    case 'Timestamp':
      return 17;
    case 'Long':
      return 18;
    case 'Decimal128':
      return 19;
    case 'MinKey':
      return -1;
    case 'MaxKey':
      return 127;
    default:
      return 3;
  }
}

/** MongoDB's canonical type bracket (bsontypes.h canonicalizeBSONType): values of different brackets never compare equal. */
export function canonicalType(v: Value): number {
  const t = bsonTypeNumber(v);
  switch (t) {
    case undefined:
      return 0;
    case 6: // undefined
      return 0;
    case 10:
      return 5;
    case 1:
    case 16:
    case 18:
    case 19:
      return 10;
    case 2:
    case 14:
      return 15;
    case 3:
      return 20;
    case 4:
      return 25;
    case 5:
      return 30;
    case 7:
      return 35;
    case 8:
      return 40;
    case 9:
      return 45;
    case 17:
      return 47;
    case 11:
      return 50;
    case 12:
      return 55;
    case 13:
      return 60;
    case 15:
      return 65;
    default:
      return t; // MinKey -1, MaxKey 127
  }
}

function cmp<T extends number | bigint | string>(a: T, b: T): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A numeric value as a JS number or, for Int64 values beyond 2^53, a bigint (exact). */
function numericOf(v: Value): number | bigint {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v;
  if (v instanceof Long) {
    const n = v.toNumber();
    return Number.isSafeInteger(n) ? n : BigInt(v.toString());
  }
  if (v instanceof Decimal128) {
    const s = v.toString();
    if (s === 'NaN' || s === '-NaN') return NaN;
    return Number(s);
  }
  return (v as { value: number }).value;
}

function compareNumbers(a: Value, b: Value): number {
  const x = numericOf(a);
  const y = numericOf(b);
  if (typeof x === 'number' && typeof y === 'number') {
    if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1; // NaN sorts below every number
    if (Number.isNaN(y)) return 1;
    return cmp(x, y);
  }
  const nx = typeof x === 'number' ? x : Number(x);
  const ny = typeof y === 'number' ? y : Number(y);
  if (Number.isNaN(nx)) return Number.isNaN(ny) ? 0 : -1;
  if (Number.isNaN(ny)) return 1;
  if (nx !== ny) return cmp(nx, ny);
  // Equal as doubles: decide exactly when both are integral.
  if (Number.isFinite(nx) && Number.isInteger(nx)) {
    const bx = typeof x === 'bigint' ? x : Number.isInteger(x) ? BigInt(x) : undefined;
    const by = typeof y === 'bigint' ? y : Number.isInteger(y) ? BigInt(y) : undefined;
    if (bx !== undefined && by !== undefined) return cmp(bx, by);
  }
  return 0;
}

function stringOf(v: Value): string {
  return typeof v === 'string' ? v : String((v as { value?: unknown }).value ?? v);
}

function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // MongoDB compares the UTF-8 bytes; UTF-16 code-unit order differs only around surrogate pairs.
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function bytesOf(v: Binary | ObjectId): Buffer {
  return v instanceof ObjectId ? Buffer.from(v.id) : Buffer.from(v.buffer.subarray(0, v.position));
}

function entriesOf(v: Value): [string, unknown][] {
  if (Array.isArray(v)) return v.map((el, i) => [String(i), el]);
  if (v instanceof DBRef) return Object.entries(dbRefFields(v));
  return Object.entries(v as Record<string, unknown>);
}

/** MongoDB's total order of BSON values (BSONElement::compareElements without collation): <0, 0, >0. */
export function compareValues(a: Value, b: Value): number {
  const ta = canonicalType(a);
  const tb = canonicalType(b);
  if (ta !== tb) return cmp(ta, tb);
  switch (ta) {
    case -1:
    case 0:
    case 5:
    case 127:
      return 0;
    case 10:
      return compareNumbers(a, b);
    case 15:
      return compareStrings(stringOf(a), stringOf(b));
    case 20:
    case 25: {
      const ea = entriesOf(a);
      const eb = entriesOf(b);
      const n = Math.min(ea.length, eb.length);
      for (let i = 0; i < n; i++) {
        const [ka, va] = ea[i]!;
        const [kb, vb] = eb[i]!;
        const byType = cmp(canonicalType(va), canonicalType(vb));
        if (byType) return byType;
        if (ta === 20) {
          const byName = compareStrings(ka, kb);
          if (byName) return byName;
        }
        const byValue = compareValues(va, vb);
        if (byValue) return byValue;
      }
      return cmp(ea.length, eb.length);
    }
    case 30: {
      const x = a as Binary;
      const y = b as Binary;
      return cmp(x.position, y.position) || cmp(x.sub_type, y.sub_type) || Buffer.compare(bytesOf(x), bytesOf(y));
    }
    case 35:
      return Buffer.compare(bytesOf(a as ObjectId), bytesOf(b as ObjectId));
    case 40:
      return cmp(Number(a), Number(b));
    case 45:
      return cmp((a as Date).getTime(), (b as Date).getTime());
    case 47: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      return cmp(x.high >>> 0, y.high >>> 0) || cmp(x.low >>> 0, y.low >>> 0);
    }
    case 50: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    default:
      return compareStrings(EJSON.stringify({ v: a } as Document), EJSON.stringify({ v: b } as Document));
  }
}

function regexParts(v: Value): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags.split('').sort().join('')];
  const r = v as BSONRegExp;
  return [r.pattern, r.options.split('').sort().join('')];
}

/** Equality as MongoDB's query language sees it (5 == 5.0 == Long(5); field order of documents matters). */
export function valuesEqual(a: Value, b: Value): boolean {
  if (a === b) return true;
  return compareValues(a, b) === 0;
}
