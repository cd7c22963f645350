// The aggregate command (cursor form): picks the input documents, then runs the pipeline with mingo.
import type { Document } from 'bson';
import { isPlainObject } from '../bson-values';
import { CommandError, ErrorCodes, notSupported } from '../command-error';
import { validateCollectionName } from '../collection-store';
import { checkPipeline, compileFilter, refuseCollation, runPipeline } from '../query-engine';
import { asNumber, optionalObject, resolver, type CommandContext, type CommandTable } from './command-support';

/** The aggregation stages MongoDB 7.0 knows (anything else is error 40324). */
const MONGODB_STAGES = new Set([
  '$addFields', '$bucket', '$bucketAuto', '$changeStream', '$changeStreamSplitLargeEvent', '$collStats', '$count',
  '$currentOp', '$densify', '$documents', '$facet', '$fill', '$geoNear', '$graphLookup', '$group', '$indexStats',
  '$limit', '$listLocalSessions', '$listSampledQueries', '$listSearchIndexes', '$listSessions', '$lookup', '$match',
  '$merge', '$out', '$planCacheStats', '$project', '$redact', '$replaceRoot', '$replaceWith', '$sample', '$search',
  '$searchMeta', '$set', '$setWindowFields', '$shardedDataDistribution', '$skip', '$sort', '$sortByCount',
  '$unionWith', '$unset', '$unwind', '$vectorSearch', '$listCatalog',
]);
/** Stages MongoDB knows that mingo does not run (the others refused are refused by checkPipeline). */
const UNRUN_STAGES = new Set(['$changeStreamSplitLargeEvent', '$listSampledQueries', '$listSearchIndexes', '$shardedDataDistribution', '$listCatalog']);

/** Checks stage names like MongoDB's parser (also inside $facet, $lookup and $unionWith pipelines). */
function checkStageNames(pipeline: unknown): void {
  if (!Array.isArray(pipeline)) return;
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError(ErrorCodes.Location40323, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0]!;
    if (!MONGODB_STAGES.has(name)) throw new CommandError(ErrorCodes.Location40324, `Unrecognized pipeline stage name: '${name}'`);
    if (UNRUN_STAGES.has(name)) throw notSupported(`The ${name} aggregation stage`);
    const spec = stage[name];
    if (name === '$facet' && isPlainObject(spec)) for (const sub of Object.values(spec)) checkStageNames(sub);
    if ((name === '$lookup' || name === '$unionWith') && isPlainObject(spec)) checkStageNames(spec.pipeline);
  }
}

function aggregate(ctx: CommandContext, db: string, cmd: Document): Document {
  const target = cmd.aggregate;
  refuseCollation(cmd);
  if (cmd.explain) throw notSupported('explain of aggregate');
  if (!Array.isArray(cmd.pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  checkStageNames(cmd.pipeline);
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
