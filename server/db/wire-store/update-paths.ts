// Update paths like mongod's update tree: splitting and checking a path, mongod's field-name order, prefix
// conflicts between paths, and following (or creating) a concrete path in a document.
import type { Document } from 'bson';
import { isPlainObject } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { dollarPrefixedError, formatElement } from './update-messages';

export const NUMERIC_PART = /^\d+$/;

export function isPositional(part: string): boolean {
  return part === '$' || (part.startsWith('$[') && part.endsWith(']'));
}

export function splitPath(path: string, op: string): string[] {
  if (path.length === 0) throw new CommandError(ErrorCodes.EmptyFieldName, "An empty update path is not valid.");
  const parts = path.split('.');
  if (parts.some((p) => p.length === 0)) {
    throw new CommandError(ErrorCodes.EmptyFieldName, `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
  let dollars = 0;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (!isPositional(p)) continue;
    if (i === 0) {
      throw new CommandError(ErrorCodes.BadValue, p === '$'
        ? `Cannot have positional (i.e. '$') element in the first position in path '${path}'`
        : `Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${path}'`);
    }
    if (p === '$' && ++dollars > 1) throw new CommandError(ErrorCodes.BadValue, `Too many positional (i.e. '$') elements found in path '${path}'`);
    if (op === '$rename') throw new CommandError(ErrorCodes.BadValue, `The source field for $rename may not be dynamic: ${path}`);
  }
  return parts;
}

export function comparePartLists(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const c = compareFieldNames(a[i]!, b[i]!);
    if (c !== 0) return c;
  }
  return a.length - b.length;
}

/** mongod's field order for update paths: numeric names in numeric order, others as strings. */
function compareFieldNames(a: string, b: string): number {
  if (a === b) return 0;
  if (NUMERIC_PART.test(a) && NUMERIC_PART.test(b) && a.length < 16 && b.length < 16) return Number(a) - Number(b);
  return a < b ? -1 : 1;
}

export function isPrefixOf(a: string[], b: string[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkConflicts(paths: string[][]): void {
  if (paths.length < 2) return;
  const sorted = [...paths].sort(comparePartLists);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (isPrefixOf(prev, cur)) {
      throw new CommandError(ErrorCodes.ConflictingUpdateOperators, `Updating the path '${cur.join('.')}' would create a conflict at '${prev.join('.')}'`);
    }
  }
}

export type WalkResult =
  | { kind: 'found'; container: Record<string, unknown> | unknown[]; key: string }
  | { kind: 'missing'; container: Record<string, unknown> | unknown[]; at: number }
  | { kind: 'blocked'; at: number; name: string; value: unknown };

/** Follows `parts` without array expansion: found, missing (creatable from `container`), or blocked by a non-container. */
export function walk(doc: Document, parts: string[]): WalkResult {
  let cur: unknown = doc;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (isPlainObject(cur)) {
      if (!Object.prototype.hasOwnProperty.call(cur, part) || cur[part] === undefined) return { kind: 'missing', container: cur, at: i };
      if (i === parts.length - 1) return { kind: 'found', container: cur, key: part };
      cur = cur[part];
    } else if (Array.isArray(cur) && NUMERIC_PART.test(part)) {
      const idx = Number(part);
      if (idx >= cur.length) return { kind: 'missing', container: cur, at: i };
      if (i === parts.length - 1) return { kind: 'found', container: cur, key: part };
      cur = cur[idx];
    } else {
      return { kind: 'blocked', at: i, name: parts[i - 1]!, value: cur };
    }
  }
  return { kind: 'missing', container: doc, at: 0 };
}

export function create(doc: Document, parts: string[], value: unknown): void {
  const w = walk(doc, parts);
  if (w.kind === 'blocked') {
    throw new CommandError(ErrorCodes.PathNotViable, `Cannot create field '${parts[w.at]}' in element {${formatElement(w.name, w.value)}}`);
  }
  if (w.kind === 'found') {
    (w.container as Record<string, unknown>)[w.key] = value;
    return;
  }
  let container: Record<string, unknown> | unknown[] = w.container;
  for (let i = w.at; i < parts.length; i++) {
    const part = parts[i]!;
    const last = i === parts.length - 1;
    const next = last ? value : {};
    if (Array.isArray(container)) {
      const idx = Number(part);
      while (container.length < idx) container.push(null);
      container[idx] = next;
    } else {
      container[part] = next;
    }
    container = next as Record<string, unknown>;
  }
}

export function nonViable(parts: string[], w: { at: number; name: string; value: unknown }): CommandError {
  const taken = parts.slice(0, w.at).join('.');
  const rest = parts.slice(w.at).join('.');
  return new CommandError(ErrorCodes.PathNotViable, `Cannot use the part (${parts[w.at]}) of (${taken}.${rest}) to traverse the element ({${formatElement(w.name, w.value)}})`);
}

/** A path may start with `$` only in a document an upsert creates. */
export function checkTopLevelName(parts: string[], options: { inserting?: boolean }): void {
  if (!options.inserting && parts[0]!.startsWith('$')) throw dollarPrefixedError(parts[0]!, parts[0]!);
}
