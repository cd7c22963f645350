// What the command families share: the handler signature and context, argument parsing, sorting, the $lookup resolver.
import { Long, type Document } from 'bson';
import { cloneValue, isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { validateCollectionName, type Store } from '../collection-store';
import type { CursorManager } from '../cursor-manager';
import { sortDocuments } from '../document-sort';
import type { CollectionResolver } from '../query-engine';

export interface ConnectionInfo {
  id: number;
  remote: string;
}

/** The state every command runs against. */
export interface CommandContext {
  readonly store: Store;
  readonly cursors: CursorManager;
  readonly afterWrite?: () => void;
}

export type Handler = (ctx: CommandContext, db: string, cmd: Document, conn: ConnectionInfo) => Document;

/** A command family: command name → handler. */
export type CommandTable = Record<string, Handler>;

export function asNumber(v: unknown, name: string, fallback?: number): number | undefined {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  if (v instanceof Long) return v.toNumber();
  if (typeof v === 'bigint') return Number(v);
  throw new CommandError(ErrorCodes.TypeMismatch, `'${name}' must be a number`);
}

export function asBool(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'number' && v !== 0);
}

export function collectionArg(cmd: Document, name: string): string {
  return validateCollectionName(cmd[name]);
}

export function optionalObject(v: unknown, name: string): Document | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw new CommandError(ErrorCodes.TypeMismatch, `'${name}' must be an object`);
  return v;
}

export function validateSort(sort: Document | undefined): Document | undefined {
  if (!sort) return undefined;
  const out: Document = {};
  for (const key of Object.keys(sort)) {
    const dir = sort[key];
    if (key === '$natural') {
      // Natural order is the store's order, so `{ $natural: 1 }` alone is no sort at all; anything else would be
      // answered in the wrong order.
      if (Object.keys(sort).length !== 1 || !(dir === 1 || (dir instanceof Long && dir.toNumber() === 1))) throw notSupported('A $natural sort other than { $natural: 1 } alone');
      continue;
    }
    if (isPlainObject(dir)) throw notSupported('Sorting by $meta');
    const n = typeof dir === 'number' ? dir : dir instanceof Long ? dir.toNumber() : NaN;
    if (n !== 1 && n !== -1) throw new CommandError(ErrorCodes.BadValue, `$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    out[key] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

/** Sorts in MongoDB's order (BSON type brackets, arrays by min/max element) without copying documents. */
export function sortDocs(docs: Document[], sort: Document): Document[] {
  return sortDocuments(docs, sort);
}

/** mingo's collection resolver for `db` (`$lookup` and the like): copies of the stored documents of the named collection. */
export function resolver(ctx: CommandContext, db: string): CollectionResolver {
  return (name: string) => {
    const coll = ctx.store.get(db, name);
    return coll ? cloneValue([...coll.docs.values()]) : [];
  };
}
