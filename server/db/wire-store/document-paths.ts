// Dotted paths in stored documents: the values at a path with MongoDB's array expansion (what indexes
// key on), the single value at a path, and setting a path.
import { isPlainObject, type Value } from './bson-values';

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
