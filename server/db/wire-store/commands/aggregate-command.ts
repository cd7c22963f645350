// The aggregate command (cursor form): picks the input documents, then runs the pipeline with mingo.
import type { Document } from 'bson';
import { isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { validateCollectionName } from '../collection-store';
import { checkPipeline, compileFilter, refuseCollation, runPipeline } from '../query-engine';
import { asNumber, optionalObject, resolver, type CommandContext, type CommandTable } from './command-support';

function aggregate(ctx: CommandContext, db: string, cmd: Document): Document {
  const target = cmd.aggregate;
  refuseCollation(cmd);
  if (cmd.explain) throw notSupported('explain');
  const pipeline = checkPipeline(cmd.pipeline);
  if (!isPlainObject(cmd.cursor)) {
    throw new CommandError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const batchSize = asNumber(cmd.cursor.batchSize, 'batchSize');
  const resolve = resolver(ctx, db);
  let input: Document[] = [];
  let ns: string;
  if (target === 1) {
    ns = `${db}.$cmd.aggregate`;
  } else {
    const name = validateCollectionName(target);
    ns = `${db}.${name}`;
    const coll = ctx.store.get(db, name);
    if (coll) {
      const first = pipeline[0];
      if (first && isPlainObject(first.$match)) {
        const filter = compileFilter(first.$match, resolve);
        input = [...coll.candidates(filter)];
      } else {
        input = [...coll.docs.values()];
      }
    }
  }
  const variables = optionalObject(cmd.let, 'let');
  const out = runPipeline(input, pipeline, resolve, variables);
  return ctx.cursors.open(ns, out, batchSize);
}

export const aggregateCommands: CommandTable = { aggregate };
