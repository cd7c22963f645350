// Projections for find and findAndModify: a fast path for plain inclusion, mingo for everything else.
import type { Document } from 'bson';
import { find as mingoFind } from 'mingo';
import { CommandError, ErrorCodes } from '../command-error';
import { elemMatchPredicate, mingoOptions } from '../query-engine';
import { isPlainObject } from '../bson-values';

/** An inclusion projection as a tree: `true` keeps a field whole, a subtree keeps some of its sub-fields. */
interface InclusionTree {
  [field: string]: true | InclusionTree;
}

/**
 * `{ a: 1, 'b.c': 1 }` — inclusion only, plain (dotted) field names, `_id` kept or dropped — is what the platform's
 * reads use; it is picked directly (in document order, `_id` first, as MongoDB does), ~20× faster than mingo's general
 * projection. Anything else (exclusion, operators, positional) goes to mingo.
 */
function simpleInclusion(projection: Document): { tree: InclusionTree; includeId: boolean } | undefined {
  const tree: InclusionTree = {};
  let includeId = true;
  let fields = 0;
  for (const [key, value] of Object.entries(projection)) {
    const on = value === 1 || value === true;
    const off = value === 0 || value === false;
    if (key === '_id') {
      if (!on && !off) return undefined;
      includeId = on;
      continue;
    }
    if (!on || key.startsWith('$') || key.includes('$')) return undefined;
    const parts = key.split('.');
    if (parts.some((part) => part.length === 0)) return undefined;
    let node = tree;
    for (let index = 0; index < parts.length; index += 1) {
      const part = parts[index]!;
      const existing = node[part];
      if (existing === true) break; // a parent path is already kept whole
      if (index === parts.length - 1) {
        node[part] = true;
      } else {
        node[part] = existing ?? {};
        node = node[part] as InclusionTree;
      }
    }
    fields += 1;
  }
  return fields > 0 ? { tree, includeId } : undefined;
}

/** An embedded document (not an array, not a BSON value such as ObjectId, Date or Binary). */
function isPlainDocument(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * MongoDB's inclusion semantics for a subtree: sub-fields of an embedded document are picked, an array applies the
 * subtree to each embedded document in it (other elements are dropped), and a scalar under a dotted path is left out.
 */
function pickSubtree(value: unknown, tree: InclusionTree): unknown {
  if (Array.isArray(value)) {
    const picked: unknown[] = [];
    for (const element of value) {
      if (Array.isArray(element) || isPlainDocument(element)) picked.push(pickSubtree(element, tree));
    }
    return picked;
  }
  if (!isPlainDocument(value)) return undefined;
  const out: Document = {};
  for (const key of Object.keys(value)) {
    const rule = tree[key];
    if (rule === undefined) continue;
    if (rule === true) out[key] = value[key];
    else {
      const sub = pickSubtree(value[key], rule);
      if (sub !== undefined) out[key] = sub;
    }
  }
  return out;
}

export function projectDocs(docs: Document[], projection: Document, filter: Document): Document[] {
  const simple = simpleInclusion(projection);
  if (simple) {
    return docs.map((doc) => {
      const picked = pickSubtree(doc, simple.tree) as Document;
      return simple.includeId && doc._id !== undefined ? { _id: doc._id, ...picked } : picked;
    });
  }
  const split = splitArrayOperators(projection);
  if (split) return projectWithArrayOperators(docs, split, filter);
  try {
    const usesPositional = Object.keys(projection).some((k) => k.endsWith('.$'));
    return mingoFind(docs, usesPositional ? filter : {}, projection, mingoOptions()).all() as Document[];
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

/** `$slice` (count or `[skip, limit]`) and `$elemMatch` projections, taken out of the rest of the projection. */
interface ArrayOperators {
  rest: Document;
  slices: { path: string; skip: number; limit: number | undefined }[];
  elemMatches: { field: string; test: (el: unknown) => boolean }[];
}

function sliceSpec(path: string, spec: unknown): { path: string; skip: number; limit: number | undefined } {
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'toNumber' in v ? (v as { toNumber(): number }).toNumber() : NaN);
  if (Array.isArray(spec)) {
    const [skip, limit] = spec.map(num);
    if (spec.length !== 2 || !Number.isInteger(skip) || !Number.isInteger(limit)) {
      throw new CommandError(ErrorCodes.BadValue, '$slice only supports numbers and [skip, limit] arrays');
    }
    if (limit! <= 0) throw new CommandError(ErrorCodes.BadValue, `Invalid $slice syntax. The given syntax { $slice: [ ${skip}, ${limit} ] } did not match the find() syntax because :: Location31180: $slice limit must be positive`);
    return { path, skip: skip!, limit };
  }
  const n = num(spec);
  if (!Number.isFinite(n)) throw new CommandError(ErrorCodes.BadValue, '$slice only supports numbers and [skip, limit] arrays');
  return n >= 0 ? { path, skip: 0, limit: Math.trunc(n) } : { path, skip: Math.trunc(n), limit: undefined };
}

function splitArrayOperators(projection: Document): ArrayOperators | undefined {
  const out: ArrayOperators = { rest: {}, slices: [], elemMatches: [] };
  for (const [key, value] of Object.entries(projection)) {
    const keys = isPlainObject(value) ? Object.keys(value) : [];
    if (keys.length === 1 && keys[0] === '$slice') {
      out.slices.push(sliceSpec(key, (value as Document).$slice));
    } else if (keys.length === 1 && keys[0] === '$elemMatch') {
      if (key.includes('.')) throw new CommandError(ErrorCodes.BadValue, 'Cannot use $elemMatch projection on a nested field.');
      out.elemMatches.push({ field: key, test: elemMatchPredicate((value as Document).$elemMatch) });
    } else {
      out.rest[key] = value;
    }
  }
  return out.slices.length || out.elemMatches.length ? out : undefined;
}

const isExclusion = (v: unknown) => v === 0 || v === false || (typeof v === 'object' && v !== null && 'toNumber' in v && (v as { toNumber(): number }).toNumber() === 0);

/**
 * MongoDB: `$elemMatch` makes the projection an inclusion one unless other fields are excluded; `$slice` alone keeps
 * every field (exclusion), and in an inclusion projection the sliced field is included.
 */
function projectWithArrayOperators(docs: Document[], ops: ArrayOperators, filter: Document): Document[] {
  const restKeys = Object.keys(ops.rest).filter((k) => k !== '_id');
  const excludes = restKeys.some((k) => isExclusion(ops.rest[k]));
  const includes = restKeys.some((k) => !isExclusion(ops.rest[k]));
  const inclusion = includes || (!excludes && ops.elemMatches.length > 0);
  const rest: Document = { ...ops.rest };
  if (inclusion) {
    for (const s of ops.slices) rest[s.path] ??= 1;
    for (const e of ops.elemMatches) rest[e.field] ??= 1;
  }
  const base = Object.keys(rest).length > 0 ? projectDocs(docs, rest, filter) : docs;
  return base.map((projected, i) => {
    const out: Document = { ...projected };
    for (const s of ops.slices) applySlice(out, s.path.split('.'), 0, s.skip, s.limit);
    const original = docs[i]!;
    for (const e of ops.elemMatches) {
      const arr = original[e.field];
      const found = Array.isArray(arr) ? arr.find((el) => e.test(el)) : undefined;
      if (found === undefined) delete out[e.field];
      else out[e.field] = [found];
    }
    return out;
  });
}

function sliceArray(arr: unknown[], skip: number, limit: number | undefined): unknown[] {
  if (limit === undefined) return arr.slice(Math.max(0, arr.length + skip));
  const start = skip < 0 ? Math.max(0, arr.length + skip) : Math.min(skip, arr.length);
  return arr.slice(start, start + limit);
}

/** Slices the array at `parts` inside `container` (copying what it changes); arrays met on the way apply it to each document. */
function applySlice(container: Document, parts: string[], i: number, skip: number, limit: number | undefined): void {
  const key = parts[i]!;
  const value = container[key];
  if (i === parts.length - 1) {
    if (Array.isArray(value)) container[key] = sliceArray(value, skip, limit);
    return;
  }
  if (Array.isArray(value)) {
    container[key] = value.map((el) => {
      if (!isPlainDocument(el)) return el;
      const copy = { ...el };
      applySlice(copy, parts, i + 1, skip, limit);
      return copy;
    });
  } else if (isPlainDocument(value)) {
    const copy = { ...value };
    applySlice(copy, parts, i + 1, skip, limit);
    container[key] = copy;
  }
}
