// MongoDB's ordering of BSON values (type brackets, then values), used by queries and sorts, and the BSON
// type numbers `$type` compares.
import { EJSON, Long, ObjectId, Decimal128, Binary, DBRef, Timestamp, BSONRegExp, type Document } from 'bson';
import { bsonType, dbRefFields, isPlainObject, type Value } from './bson-values';

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
