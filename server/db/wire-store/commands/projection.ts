// Projections for find and findAndModify: a fast path for plain inclusion, mingo for everything else.
import type { Document } from 'bson';
import { find as mingoFind } from 'mingo';
import { CommandError, ErrorCodes } from '../command-error';
import { mingoOptions } from '../query-engine';

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
  try {
    const usesPositional = Object.keys(projection).some((k) => k.endsWith('.$'));
    return mingoFind(docs, usesPositional ? filter : {}, projection, mingoOptions()).all() as Document[];
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}
