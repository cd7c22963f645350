// The array update operators \`$push\` (with \`$each\`/\`$slice\`/\`$sort\`/\`$position\`), \`$addToSet\`, \`$pop\`, \`$pull\` (mongod's
// three matchers) and \`$pullAll\`: their argument checks when an update is parsed, and their application.
import { compare as mingoCompare } from 'mingo/util';
import type { Document } from 'bson';
import { bsonIdentical, canonicalKey, cloneValue, isPlainObject, toNumber } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { compileFilter } from './query-engine';
import { NUMERIC_PART, checkTopLevelName, nonViable } from './update-paths';
import { docId, formatValue, typeName } from './update-messages';
import type { OperatorTarget, ParsedOp } from './parsed-update';

export const ARRAY_OPERATORS = new Set(['$push', '$addToSet', '$pop', '$pull', '$pullAll']);

interface PushArgs {
  each: unknown[];
  slice?: number;
  sort?: number | Document;
  position?: number;
}

const PATH_ACCEPTING_OPERATORS = new Set([
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exists', '$type', '$size', '$all', '$elemMatch',
  '$regex', '$options', '$mod', '$not', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear',
  '$geoWithin', '$geoIntersects', '$near', '$nearSphere', '$within', '$_internalSchemaType',
]);

type PullMatcher = (element: unknown) => boolean;

function integerArg(v: unknown): number | undefined {
  const n = toNumber(v);
  return n !== undefined && Number.isInteger(n) ? n : undefined;
}

/** The argument checks mongod does when parsing an array operator (other operators are left alone). */
export function prepareArrayOperator(p: ParsedOp): void {
  const { op, arg } = p;
  switch (op) {
    case '$pop': {
      const n = toNumber(arg);
      if (n !== 1 && n !== -1) throw new CommandError(ErrorCodes.FailedToParse, `$pop expects 1 or -1, found: ${formatValue(arg)}`);
      break;
    }
    case '$pullAll':
      if (!Array.isArray(arg)) throw new CommandError(ErrorCodes.BadValue, `$pullAll requires an array argument but was given a ${typeName(arg)}`);
      break;
    case '$pull':
      p.prepared = pullMatcher(arg);
      break;
    case '$push':
      p.prepared = pushArgs(arg);
      break;
    case '$addToSet': {
      let values: unknown[] = [arg];
      if (isPlainObject(arg)) {
        const keys = Object.keys(arg);
        if (keys[0] === '$each') {
          if (!Array.isArray(arg.$each)) throw new CommandError(ErrorCodes.TypeMismatch, `The argument to $each in $addToSet must be an array but it was of type ${typeName(arg.$each)}`);
          if (keys.length > 1) throw new CommandError(ErrorCodes.BadValue, `Found unexpected fields after $each in $addToSet: ${formatValue(arg)}`);
          values = arg.$each;
        }
      }
      const seen = new Set<string>();
      p.prepared = values.filter((v) => {
        const key = canonicalKey(v);
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      });
      break;
    }
    default:
      break;
  }
}

/** mongod's three $pull matchers: a query on sub-documents, a wrapped operator condition, or equality. */
function pullMatcher(cond: unknown): PullMatcher {
  if (isPlainObject(cond)) {
    const first = Object.keys(cond)[0];
    if (first === undefined || !PATH_ACCEPTING_OPERATORS.has(first)) {
      const query = compileFilter(cond);
      return (el) => isPlainObject(el) && query.test(el as Document);
    }
    const query = compileFilter({ v: cond });
    return (el) => query.test({ v: el });
  }
  if (cond instanceof RegExp) {
    const query = compileFilter({ v: cond });
    return (el) => query.test({ v: el });
  }
  const key = canonicalKey(cond);
  return (el) => el !== undefined && canonicalKey(el) === key && sameNullness(el, cond);
}

function sameNullness(a: unknown, b: unknown): boolean {
  return (a === null) === (b === null);
}

function pushArgs(arg: unknown): PushArgs {
  if (!isPlainObject(arg) || !('$each' in arg)) return { each: [arg] };
  const out: PushArgs = { each: [] };
  for (const k of Object.keys(arg)) {
    if (!['$each', '$slice', '$sort', '$position'].includes(k)) throw new CommandError(ErrorCodes.BadValue, `Unrecognized clause in $push: ${k}`);
  }
  if (!Array.isArray(arg.$each)) throw new CommandError(ErrorCodes.BadValue, `The argument to $each in $push must be an array but it was of type: ${typeName(arg.$each)}`);
  out.each = arg.$each;
  if ('$slice' in arg) {
    const n = integerArg(arg.$slice);
    if (n === undefined) throw new CommandError(ErrorCodes.BadValue, `The value for $slice must be an integer value but was given type: ${typeName(arg.$slice)}`);
    out.slice = n;
  }
  if ('$position' in arg) {
    const n = integerArg(arg.$position);
    if (n === undefined) throw new CommandError(ErrorCodes.BadValue, `The value for $position must be an integer value, not of type: ${typeName(arg.$position)}`);
    out.position = n;
  }
  if ('$sort' in arg) {
    const s = arg.$sort;
    if (isPlainObject(s)) {
      const keys = Object.keys(s);
      if (keys.length === 0) throw new CommandError(ErrorCodes.BadValue, 'The $sort pattern is empty when it should be a set of fields.');
      for (const k of keys) {
        const dir = toNumber(s[k]);
        if (dir !== 1 && dir !== -1) throw new CommandError(ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
        if (k.split('.').some((x) => x.length === 0)) throw new CommandError(ErrorCodes.BadValue, `The $sort field is a dotted field but has an empty part: ${k}`);
      }
      out.sort = s;
    } else if (toNumber(s) === 1 || toNumber(s) === -1) {
      out.sort = toNumber(s);
    } else if (toNumber(s) !== undefined) {
      throw new CommandError(ErrorCodes.BadValue, 'The $sort element value must be either 1 or -1');
    } else {
      throw new CommandError(ErrorCodes.BadValue, 'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
    }
  }
  return out;
}

/** Applies an array operator at its concrete path; returns whether the document changed. */
export function applyArrayOperator(p: ParsedOp, t: OperatorTarget): boolean {
  const { doc, parts, path, w, old, options, setValue } = t;
  switch (p.op) {
    case '$push': {
      const args = p.prepared as PushArgs;
      if (w.kind === 'found' && !Array.isArray(old)) {
        throw new CommandError(ErrorCodes.BadValue, `The field '${path}' must be an array but is of type ${typeName(old)} in document {${docId(doc)}}`);
      }
      const before = w.kind === 'found' ? (old as unknown[]) : [];
      const after = pushInto(before.slice(), args);
      if (w.kind === 'found' && sameArray(before, after)) return false;
      return setValue(after);
    }
    case '$addToSet': {
      const values = p.prepared as unknown[];
      if (w.kind === 'found' && !Array.isArray(old)) {
        throw new CommandError(ErrorCodes.BadValue, `Cannot apply $addToSet to non-array field. Field named '${parts[parts.length - 1]}' has non-array type ${typeName(old)}`);
      }
      if (w.kind !== 'found') return setValue(values.map(cloneValue));
      const arr = old as unknown[];
      const present = new Set(arr.map(canonicalKey));
      const toAdd = values.filter((v) => !present.has(canonicalKey(v)));
      if (toAdd.length === 0) return false;
      checkTopLevelName(parts, options);
      for (const v of toAdd) arr.push(cloneValue(v));
      return true;
    }
    case '$pop':
    case '$pull':
    case '$pullAll': {
      if (w.kind === 'blocked') throw nonViable(parts, w);
      if (w.kind === 'missing') {
        if (Array.isArray(w.container) && !NUMERIC_PART.test(parts[w.at]!)) throw nonViable(parts, { at: w.at, name: parts[w.at - 1]!, value: w.container });
        return false;
      }
      if (!Array.isArray(old)) {
        if (p.op === '$pop') throw new CommandError(ErrorCodes.TypeMismatch, `Path '${path}' contains an element of non-array type '${typeName(old)}'`);
        throw new CommandError(ErrorCodes.BadValue, 'Cannot apply $pull to a non-array value');
      }
      if (old.length === 0) return false;
      if (p.op === '$pop') {
        if (toNumber(p.arg)! < 0) old.shift();
        else old.pop();
        return true;
      }
      let match: PullMatcher;
      if (p.op === '$pull') match = p.prepared as PullMatcher;
      else {
        const keys = new Set((p.arg as unknown[]).map(canonicalKey));
        match = (el) => keys.has(canonicalKey(el));
      }
      const kept = old.filter((el) => !match(el));
      if (kept.length === old.length) return false;
      (w.container as Record<string, unknown>)[w.key] = kept;
      return true;
    }
    default:
      return false;
  }
}

function sameArray(a: unknown[], b: unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!bsonIdentical(a[i], b[i])) return false;
  return true;
}

function pushInto(arr: unknown[], args: PushArgs): unknown[] {
  const values = args.each.map(cloneValue);
  const pos = args.position;
  if (pos === undefined || pos >= arr.length) arr.push(...values);
  else if (pos >= 0) arr.splice(pos, 0, ...values);
  else if (-pos < arr.length) arr.splice(arr.length + pos, 0, ...values);
  else arr.unshift(...values);
  if (args.sort !== undefined) {
    const sort = args.sort;
    if (typeof sort === 'number') arr.sort((x, y) => sort * mingoCompare(x as never, y as never));
    else {
      const keys = Object.keys(sort);
      const field = (el: unknown, k: string): unknown => {
        let cur: unknown = el;
        for (const part of k.split('.')) cur = isPlainObject(cur) ? cur[part] : undefined;
        return cur ?? null;
      };
      arr.sort((x, y) => {
        for (const k of keys) {
          const c = mingoCompare(field(x, k) as never, field(y, k) as never);
          if (c !== 0) return c * toNumber(sort[k])!;
        }
        return 0;
      });
    }
  }
  if (args.slice !== undefined) {
    const s = args.slice;
    if (s >= 0) arr.splice(s);
    else if (arr.length > -s) arr.splice(0, arr.length + s);
  }
  return arr;
}
