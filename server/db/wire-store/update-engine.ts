// Applies MongoDB update documents (operators, replacements, pipelines) to a copy of a stored document,
// and builds upsert seeds from a query's equality fields. Operator updates are in update-operators.ts.
import { updateOne as mingoUpdateOne } from 'mingo';
import type { Document } from 'bson';
import { cloneValue, isPlainObject, serializeSafeEqual } from './bson-values';
import { setPath } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { mingoOptions, refuseUnsupportedOperators } from './query-engine';
import { applyOperators, parseOperators } from './update-operators';
import { dollarPrefixedError, formatValue, typeName } from './update-messages';
import type { ApplyOptions } from './parsed-update';

export type { ApplyOptions };

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
