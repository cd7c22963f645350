// Operator updates like mongod's update tree: parsed into one entry per (operator, path) with path conflicts
// found when parsing (code 40), positional elements resolved against the document, and the resulting concrete
// paths applied in field-name order by the operator's family (update-field-operators.ts, update-array-operators.ts).
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error';
import { checkConflicts, checkTopLevelName, comparePartLists, create, isPrefixOf, splitPath, walk } from './update-paths';
import { expandPaths, parseArrayFilters } from './update-positional-paths';
import { applyFieldOperator, prepareFieldOperator } from './update-field-operators';
import { ARRAY_OPERATORS, applyArrayOperator, prepareArrayOperator } from './update-array-operators';
import type { ApplyOptions, ConcreteOp, OperatorTarget, ParsedOp, ParsedUpdate } from './parsed-update';

export function parseOperators(u: Document, options: ApplyOptions): ParsedUpdate {
  const ops: ParsedOp[] = [];
  const allPaths: string[][] = [];
  for (const op of Object.keys(u)) {
    const expr = u[op] as Document;
    for (const path of Object.keys(expr)) {
      const parts = splitPath(path, op);
      const arg = expr[path];
      const parsed: ParsedOp = { op, path, parts, arg };
      prepareOperator(parsed);
      allPaths.push(parts);
      if (parsed.to) allPaths.push(parsed.to);
      if (op === '$setOnInsert' && !options.inserting) continue;
      ops.push(parsed);
    }
  }
  checkConflicts(allPaths);
  const arrayFilters = parseArrayFilters(options.arrayFilters, allPaths, u);
  return { ops, arrayFilters };
}

function prepareOperator(p: ParsedOp): void {
  prepareFieldOperator(p);
  prepareArrayOperator(p);
}

export function applyOperators(doc: Document, update: ParsedUpdate, options: ApplyOptions): boolean {
  const concrete: ConcreteOp[] = [];
  for (const op of update.ops) expandPaths(doc, op, update, options.filter, concrete);
  concrete.sort((a, b) => comparePartLists(a.parts, b.parts));
  for (let i = 1; i < concrete.length; i++) {
    const prev = concrete[i - 1]!.parts;
    const cur = concrete[i]!.parts;
    if (isPrefixOf(prev, cur)) throw new CommandError(ErrorCodes.ConflictingUpdateOperators, `Update created a conflict at '${cur.join('.')}'`);
  }
  let changed = false;
  for (const c of concrete) {
    if (applyOne(doc, c.parsed, c.parts, options)) changed = true;
  }
  return changed;
}

function applyOne(doc: Document, p: ParsedOp, parts: string[], options: ApplyOptions): boolean {
  const path = parts.join('.');
  const w = walk(doc, parts);
  const old = w.kind === 'found' ? (w.container as Record<string, unknown>)[w.key] : undefined;
  const setValue = (value: unknown): boolean => {
    checkTopLevelName(parts, options);
    if (w.kind === 'found') {
      (w.container as Record<string, unknown>)[w.key] = value;
    } else {
      create(doc, parts, value);
    }
    return true;
  };
  const target: OperatorTarget = { doc, parts, path, w, old, options, setValue };
  return ARRAY_OPERATORS.has(p.op) ? applyArrayOperator(p, target) : applyFieldOperator(p, target);
}
