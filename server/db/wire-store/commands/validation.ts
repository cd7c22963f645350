// Document validation (the `validator`, `validationLevel` and `validationAction` options of create/collMod):
// parses the options like MongoDB and checks written documents against the validator's query expression.
import type { Document } from 'bson';
import { isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import type { Collection } from '../collection';
import { compileFilter, type CompiledFilter } from '../query-engine';
import { asBool } from './command-support';

const LEVELS = ['off', 'strict', 'moderate'];
const ACTIONS = ['error', 'warn'];

/** Checks validation options given to create/collMod; throws like MongoDB (238 for `$jsonSchema`). */
export function parseValidationOptions(cmd: Document, command: string): Document {
  const out: Document = {};
  if (cmd.validator !== undefined) {
    if (!isPlainObject(cmd.validator)) {
      throw new CommandError(ErrorCodes.TypeMismatch, `BSON field '${command}.validator' is the wrong type '${typeof cmd.validator}', expected type 'object'`);
    }
    if ('$jsonSchema' in cmd.validator) throw notSupported('A $jsonSchema validator');
    compileFilter(cmd.validator);
    out.validator = cmd.validator;
  }
  for (const [key, allowed] of [['validationLevel', LEVELS], ['validationAction', ACTIONS]] as const) {
    const v = cmd[key];
    if (v === undefined) continue;
    if (typeof v !== 'string' || !allowed.includes(v)) {
      throw new CommandError(ErrorCodes.BadValue, `Enumeration value '${String(v)}' for field '${command}.${key}' is not a valid value.`);
    }
    out[key] = v;
  }
  return out;
}

const compiled = new WeakMap<Document, CompiledFilter>();

function validatorOf(coll: Collection): CompiledFilter | undefined {
  const validator = coll.options.validator;
  if (!isPlainObject(validator) || Object.keys(validator).length === 0) return undefined;
  let filter = compiled.get(validator);
  if (!filter) {
    filter = compileFilter(validator);
    compiled.set(validator, filter);
  }
  return filter;
}

/**
 * Checks a document about to be written (`before` is the stored version for an update, undefined for an insert or
 * upsert) against the collection's validator, as MongoDB does: `validationLevel` off / strict / moderate (updates of
 * documents that were already invalid are not checked), `validationAction: 'warn'` lets the write through (MongoDB
 * only logs), and `bypassDocumentValidation` of the write command skips the check. Throws code 121 otherwise.
 */
export function checkDocumentValidation(coll: Collection, doc: Document, before: Document | undefined, cmd: Document): void {
  const validator = validatorOf(coll);
  if (!validator || asBool(cmd.bypassDocumentValidation)) return;
  const level = coll.options.validationLevel ?? 'strict';
  if (level === 'off') return;
  if (level === 'moderate' && before && !validator.test(before)) return;
  if (validator.test(doc)) return;
  if (coll.options.validationAction === 'warn') return;
  throw new CommandError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', {
    errInfo: { failingDocumentId: doc._id },
  });
}
