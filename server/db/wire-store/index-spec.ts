// Index specs as createIndexes takes them: validation and normalization, default names, and the comparisons
// that decide whether a requested index already exists or conflicts with one.
import type { Document } from 'bson';
import { canonicalKey, isPlainObject, type Value } from './bson-values';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { compileFilter } from './query-engine';

/** Options kept in an index spec and reported by listIndexes as given (like MongoDB, `background` included). */
const SPEC_OPTION_KEYS = [
  'background',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'hidden',
  'collation',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'wildcardProjection',
  'storageEngine',
] as const;

/** Options that, when they differ for the same key pattern/name, are a conflict. */
const COMPARED_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'hidden'] as const;

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
}

export function defaultIndexName(key: Document): string {
  return Object.keys(key)
    .map((k) => `${k}_${key[k]}`)
    .join('_');
}

/** Validates and normalizes a createIndexes spec. */
export function normalizeIndexSpec(raw: Value): IndexSpec {
  if (!isPlainObject(raw)) throw new CommandError(ErrorCodes.TypeMismatch, 'index specification must be an object');
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(ErrorCodes.CannotCreateIndex, 'Index keys cannot be empty.');
  }
  for (const field of Object.keys(key)) {
    const dir = key[field];
    if (typeof dir === 'string') {
      if (dir === 'hashed') continue;
      throw notSupported(`Index type '${dir}'`);
    }
    if (typeof dir !== 'number' || dir === 0 || Number.isNaN(dir)) {
      throw new CommandError(ErrorCodes.CannotCreateIndex, `Values in the index key pattern can only be numbers or strings, got ${String(dir)} for ${field}`);
    }
    if (field.includes('$**')) throw notSupported('Wildcard indexes');
  }
  if (raw.collation !== undefined) throw notSupported('The collation option');
  const name = typeof raw.name === 'string' && raw.name ? raw.name : defaultIndexName(key);
  const spec: IndexSpec = { v: 2, key: { ...key }, name };
  for (const opt of SPEC_OPTION_KEYS) {
    if (raw[opt] !== undefined) spec[opt] = raw[opt];
  }
  if (spec.unique === false) delete spec.unique;
  if (spec.sparse === false) delete spec.sparse;
  if (spec.hidden === false) delete spec.hidden;
  if (spec.unique !== undefined) spec.unique = Boolean(spec.unique);
  if (spec.sparse !== undefined) spec.sparse = Boolean(spec.sparse);
  if (spec.partialFilterExpression !== undefined) {
    if (!isPlainObject(spec.partialFilterExpression)) {
      throw new CommandError(ErrorCodes.CannotCreateIndex, 'partialFilterExpression must be an object');
    }
    compileFilter(spec.partialFilterExpression);
  }
  return spec;
}

export function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return COMPARED_OPTIONS.every((k) => canonicalKey(a[k]) === canonicalKey(b[k]));
}

export function sameKeyPattern(a: Document, b: Document): boolean {
  return canonicalKey(a) === canonicalKey(b);
}
