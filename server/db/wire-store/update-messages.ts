// mongod's renderings in update error messages: a value (`{ q: 1 }`, `[ 1, 2 ]`, `"x"`), a field, a type name,
// a document's `_id`; and the error for a `$`-prefixed field name.
import { Long, Decimal128, Timestamp, ObjectId, type Document } from 'bson';
import { isInt32, isPlainObject } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';

export function dollarPrefixedError(name: string, full: string): CommandError {
  return new CommandError(ErrorCodes.DollarPrefixedFieldName, `The dollar ($) prefixed field '${name}' in '${full}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
}

export function docId(doc: Document): string {
  return doc._id === undefined ? 'no id' : formatElement('_id', doc._id);
}

export function typeName(v: unknown): string {
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
export function formatValue(v: unknown): string {
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

export function formatElement(name: string, value: unknown): string {
  return `${name}: ${formatValue(value)}`;
}
