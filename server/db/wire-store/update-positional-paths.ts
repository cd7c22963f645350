// Positional update paths: the array filters of \`$[id]\` (parsed and checked against the paths that use them),
// and the resolution of \`$\`, \`$[]\` and \`$[id]\` into the concrete paths of one document.
import type { Document } from 'bson';
import { isPlainObject } from './bson-values';
import { setPath } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { compileFilter, type CompiledFilter } from './query-engine';
import { NUMERIC_PART, isPositional, walk } from './update-paths';
import { formatElement, formatValue } from './update-messages';
import type { ConcreteOp, ParsedOp, ParsedUpdate } from './parsed-update';

const ARRAY_FILTER_ID = /^[a-z][a-zA-Z0-9]*$/;

function renameFilterKeys(filter: Document, id: string): Document {
  const out: Document = {};
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(v)) {
      out[key] = v.map((sub) => (isPlainObject(sub) ? renameFilterKeys(sub, id) : sub));
    } else if (key === id || key.startsWith(`${id}.`)) {
      out[`v${key.slice(id.length)}`] = v;
    } else {
      out[key] = v;
    }
  }
  return out;
}

function filterIdentifier(filter: Document): string {
  let id: string | undefined;
  const visit = (f: Document): void => {
    for (const key of Object.keys(f)) {
      const v = f[key];
      if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(v)) {
        for (const sub of v) if (isPlainObject(sub)) visit(sub);
        continue;
      }
      if (key.startsWith('$')) continue;
      const name = key.split('.')[0]!;
      if (id !== undefined && id !== name) {
        throw new CommandError(ErrorCodes.FailedToParse, `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${id}' and '${name}'`);
      }
      id = name;
    }
  };
  visit(filter);
  if (id === undefined) throw new CommandError(ErrorCodes.FailedToParse, 'Cannot use an expression without a top-level field name in arrayFilters');
  if (!ARRAY_FILTER_ID.test(id)) {
    throw new CommandError(ErrorCodes.BadValue, `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${id}'`);
  }
  return id;
}

export function parseArrayFilters(raw: Document[] | undefined, paths: string[][], u: Document): Map<string, CompiledFilter> {
  const filters = new Map<string, CompiledFilter>();
  for (const f of raw ?? []) {
    if (!isPlainObject(f)) throw new CommandError(ErrorCodes.TypeMismatch, 'Each array filter must be an object');
    const id = filterIdentifier(f);
    if (filters.has(id)) throw new CommandError(ErrorCodes.FailedToParse, `Found multiple array filters with the same top-level field name ${id}`);
    filters.set(id, compileFilter(renameFilterKeys(f, id)));
  }
  const used = new Set<string>();
  for (const parts of paths) {
    for (const p of parts) {
      if (!p.startsWith('$[') || p === '$[]' || !p.endsWith(']')) continue;
      const id = p.slice(2, -1);
      if (!filters.has(id)) throw new CommandError(ErrorCodes.BadValue, `No array filter found for identifier '${id}' in path '${parts.join('.')}'`);
      used.add(id);
    }
  }
  for (const id of filters.keys()) {
    if (!used.has(id)) throw new CommandError(ErrorCodes.FailedToParse, `The array filter for identifier '${id}' was not used in the update ${formatValue(u)}`);
  }
  return filters;
}

function positionalMatchIndex(doc: Document, prefix: string[], filter: Document | undefined): number {
  const notFound = () => new CommandError(ErrorCodes.BadValue, 'The positional operator did not find the match needed from the query.');
  const prefixPath = prefix.join('.');
  const clauses: Document[] = [];
  const collect = (f: Document): void => {
    for (const key of Object.keys(f)) {
      if (key === '$and' && Array.isArray(f.$and)) {
        for (const sub of f.$and) if (isPlainObject(sub)) collect(sub);
      } else if (key === prefixPath || key.startsWith(`${prefixPath}.`)) {
        clauses.push({ [key]: f[key] });
      }
    }
  };
  if (filter) collect(filter);
  if (clauses.length === 0) throw notFound();
  const arr = walk(doc, prefix);
  if (arr.kind !== 'found') throw notFound();
  const value = (arr.container as Record<string, unknown>)[arr.key];
  if (!Array.isArray(value)) throw notFound();
  const queries = clauses.map((c) => compileFilter(c));
  for (let i = 0; i < value.length; i++) {
    const probe: Document = {};
    setPath(probe, prefixPath, [value[i]]);
    if (queries.every((q) => q.test(probe))) return i;
  }
  throw notFound();
}

export function expandPaths(doc: Document, op: ParsedOp, update: ParsedUpdate, filter: Document | undefined, out: ConcreteOp[]): void {
  const parts = op.parts;
  if (!parts.some(isPositional)) {
    out.push({ parsed: op, parts });
    return;
  }
  const recurse = (cur: unknown, i: number, acc: string[]): void => {
    if (i === parts.length) {
      out.push({ parsed: op, parts: acc });
      return;
    }
    const part = parts[i]!;
    if (part === '$') {
      const index = positionalMatchIndex(doc, acc, filter);
      const arr = cur as unknown[];
      recurse(arr[index], i + 1, [...acc, String(index)]);
      return;
    }
    if (isPositional(part)) {
      const where = acc.join('.');
      if (cur === undefined) throw new CommandError(ErrorCodes.BadValue, `The path '${where}' must exist in the document in order to apply array updates.`);
      if (!Array.isArray(cur)) throw new CommandError(ErrorCodes.BadValue, `Cannot apply array updates to non-array element ${formatElement(acc[acc.length - 1]!, cur)}`);
      const query = part === '$[]' ? undefined : update.arrayFilters.get(part.slice(2, -1));
      for (let k = 0; k < cur.length; k++) {
        if (query && !query.test({ v: cur[k] })) continue;
        recurse(cur[k], i + 1, [...acc, String(k)]);
      }
      return;
    }
    let next: unknown;
    if (isPlainObject(cur)) next = Object.prototype.hasOwnProperty.call(cur, part) ? cur[part] : undefined;
    else if (Array.isArray(cur) && NUMERIC_PART.test(part)) next = cur[Number(part)];
    recurse(next, i + 1, [...acc, part]);
  };
  recurse(doc, 0, []);
}
