// The field update operators \`$set\`, \`$setOnInsert\`, \`$unset\`, \`$inc\`, \`$mul\`, \`$min\`, \`$max\`, \`$currentDate\`, \`$bit\`
// and \`$rename\`: their argument checks when an update is parsed, their application, and the arithmetic that
// keeps Int32/Int64/Decimal128 types the way mongod does.
import { compare as mingoCompare } from 'mingo/util';
import { Long, Decimal128, Timestamp, type Document } from 'bson';
import { bsonIdentical, cloneValue, isInt32, isPlainObject, toNumber } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { create, isPositional, isPrefixOf, walk } from './update-paths';
import { docId, dollarPrefixedError, formatElement, formatValue, typeName } from './update-messages';
import type { OperatorTarget, ParsedOp } from './parsed-update';

/** The argument checks mongod does when parsing a field operator (other operators are left alone). */
export function prepareFieldOperator(p: ParsedOp): void {
  const { op, arg, path } = p;
  switch (op) {
    case '$inc':
    case '$mul':
      if (toNumber(arg) === undefined) {
        throw new CommandError(ErrorCodes.TypeMismatch, `Cannot ${op === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${formatValue(arg)}}`);
      }
      break;
    case '$rename': {
      if (typeof arg !== 'string') throw new CommandError(ErrorCodes.BadValue, `The 'to' field for $rename must be a string: ${path}: ${formatValue(arg)}`);
      const to = arg.split('.');
      if (arg.length === 0 || to.some((s) => s.length === 0)) throw new CommandError(ErrorCodes.EmptyFieldName, "An empty update path is not valid.");
      if (to.some(isPositional)) throw new CommandError(ErrorCodes.BadValue, `The destination field for $rename may not be dynamic: ${arg}`);
      if (arg === path) throw new CommandError(ErrorCodes.BadValue, `The source and target field for $rename must differ: ${path}: ${formatValue(arg)}`);
      if (isPrefixOf(p.parts, to) || isPrefixOf(to, p.parts)) {
        throw new CommandError(ErrorCodes.BadValue, `The source and target field for $rename must not be on the same path: ${path}: ${formatValue(arg)}`);
      }
      p.to = to;
      break;
    }
    case '$currentDate': {
      if (arg === true || arg === false) break;
      if (isPlainObject(arg) && Object.keys(arg).length === 1 && (arg.$type === 'date' || arg.$type === 'timestamp')) break;
      if (isPlainObject(arg) && '$type' in arg) throw new CommandError(ErrorCodes.BadValue, "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
      throw new CommandError(ErrorCodes.BadValue, `${typeName(arg)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
    }
    case '$bit': {
      if (!isPlainObject(arg)) throw new CommandError(ErrorCodes.BadValue, `The $bit modifier is not compatible with a ${typeName(arg)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`);
      const keys = Object.keys(arg);
      if (keys.length === 0) throw new CommandError(ErrorCodes.BadValue, `You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}`);
      for (const k of keys) {
        if (k !== 'and' && k !== 'or' && k !== 'xor') throw new CommandError(ErrorCodes.BadValue, `The $bit modifier only supports 'and', 'or', and 'xor', not '${k}' which is an unknown operator: {${k}: ${formatValue(arg[k])}}`);
        const v = arg[k];
        if (!(v instanceof Long) && !(typeof v === 'number' && Number.isInteger(v))) {
          throw new CommandError(ErrorCodes.BadValue, `The $bit modifier field must be an Integer(32/64 bit); a '${typeName(v)}' is not supported here: {${k}: ${formatValue(v)}}`);
        }
      }
      break;
    }
    default:
      break;
  }
}

/** Applies a field operator at its concrete path; returns whether the document changed. */
export function applyFieldOperator(p: ParsedOp, t: OperatorTarget): boolean {
  const { doc, parts, path, w, old, options, setValue } = t;
  switch (p.op) {
    case '$set':
    case '$setOnInsert': {
      if (w.kind === 'found' && bsonIdentical(old, p.arg)) return false;
      return setValue(cloneValue(p.arg));
    }
    case '$unset': {
      if (w.kind !== 'found') return false;
      if (Array.isArray(w.container)) {
        if (w.container[Number(w.key)] === null) return false;
        w.container[Number(w.key)] = null;
      } else {
        delete w.container[w.key];
      }
      return true;
    }
    case '$inc':
    case '$mul': {
      if (w.kind === 'found' && toNumber(old) === undefined) {
        throw new CommandError(ErrorCodes.TypeMismatch, `Cannot apply ${p.op} to a value of non-numeric type. {${docId(doc)}} has the field '${parts[parts.length - 1]}' of non-numeric type ${typeName(old)}`);
      }
      const result = arithmetic(p.op, w.kind === 'found' ? old : undefined, p.arg);
      if (w.kind === 'found' && bsonIdentical(old, result)) return false;
      return setValue(result);
    }
    case '$min':
    case '$max': {
      if (w.kind === 'found') {
        const c = mingoCompare(p.arg as never, old as never);
        if (p.op === '$min' ? c >= 0 : c <= 0) return false;
      }
      return setValue(cloneValue(p.arg));
    }
    case '$currentDate': {
      const now = new Date();
      const value = isPlainObject(p.arg) && p.arg.$type === 'timestamp' ? Timestamp.fromBits(1, Math.floor(now.getTime() / 1000)) : now;
      return setValue(value);
    }
    case '$bit': {
      if (w.kind === 'found' && !(old instanceof Long) && !(typeof old === 'number' && Number.isInteger(old))) {
        throw new CommandError(ErrorCodes.BadValue, `Cannot apply $bit to a value of non-integral type.{${docId(doc)}} has the field ${parts[parts.length - 1]} of non-integer type ${typeName(old)}`);
      }
      const result = bitwise(w.kind === 'found' ? old : 0, p.arg as Document);
      if (w.kind === 'found' && bsonIdentical(old, result)) return false;
      return setValue(result);
    }
    case '$rename': {
      if (w.kind !== 'found') return false;
      if (Array.isArray(w.container)) throw new CommandError(ErrorCodes.BadValue, `The source field cannot be an array element, '${path}' in doc with ${formatElement(parts[0]!, doc[parts[0]!])}`);
      const to = p.to!;
      const dest = walk(doc, to);
      if (dest.kind === 'found' && Array.isArray(dest.container)) throw new CommandError(ErrorCodes.BadValue, `The destination field cannot be an array element, '${to.join('.')}' in doc with ${formatElement(to[0]!, doc[to[0]!])}`);
      if (!options.inserting && to[0]!.startsWith('$')) throw dollarPrefixedError(to[0]!, to[0]!);
      delete w.container[w.key];
      create(doc, to, old);
      return true;
    }
    default:
      return false;
  }
}

/** `$inc`/`$mul`: JS numbers stay numbers (Int32 overflow becomes Int64), Int64 stays Int64, Decimal128 via doubles. */
function arithmetic(op: string, current: unknown, amount: unknown): unknown {
  const inc = op === '$inc';
  if (amount instanceof Decimal128 || current instanceof Decimal128) {
    const base = current === undefined ? 0 : toNumber(current)!;
    return Decimal128.fromString(String(inc ? base + toNumber(amount)! : base * toNumber(amount)!));
  }
  if (amount instanceof Long || current instanceof Long) {
    const a = amount instanceof Long ? amount : Number.isInteger(amount) ? Long.fromNumber(amount as number) : undefined;
    const c = current instanceof Long ? current : current === undefined ? Long.ZERO : Number.isInteger(current) ? Long.fromNumber(current as number) : undefined;
    if (a && c) return inc ? c.add(a) : current === undefined ? Long.ZERO : c.multiply(a);
    const base = current === undefined ? 0 : toNumber(current)!;
    return inc ? base + toNumber(amount)! : base * toNumber(amount)!;
  }
  const a = amount as number;
  if (current === undefined) return inc ? a : 0;
  const c = current as number;
  const result = inc ? c + a : c * a;
  if (isInt32(c) && isInt32(a) && !isInt32(result) && Number.isSafeInteger(result)) return Long.fromNumber(result);
  return result;
}

function bitwise(current: unknown, spec: Document): unknown {
  const wide = current instanceof Long || Object.values(spec).some((v) => v instanceof Long);
  if (wide) {
    let cur = current instanceof Long ? current : Long.fromNumber(current as number);
    for (const k of Object.keys(spec)) {
      const v = spec[k] instanceof Long ? (spec[k] as Long) : Long.fromNumber(spec[k] as number);
      cur = k === 'and' ? cur.and(v) : k === 'or' ? cur.or(v) : cur.xor(v);
    }
    return cur;
  }
  let cur = current as number;
  for (const k of Object.keys(spec)) {
    const v = spec[k] as number;
    cur = k === 'and' ? cur & v : k === 'or' ? cur | v : cur ^ v;
  }
  return cur;
}
