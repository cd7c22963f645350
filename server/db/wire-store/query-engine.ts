// Thin layer over mingo: compiles filters once per command, runs pipelines, and refuses operators and stages
// the store cannot answer correctly. The query operators where MongoDB's semantics differ from mingo's are in
// query-operators.ts, the sort order in document-sort.ts, the equalities index lookups use in filter-equalities.ts.
import { Context, ProcessingMode } from 'mingo/core';
import { Query } from 'mingo/query';
import { Aggregator } from 'mingo/aggregator';
import { Lazy, type Iterator as LazyIterator } from 'mingo/lazy';
import * as accumulatorOperators from 'mingo/operators/accumulator';
import * as expressionOperators from 'mingo/operators/expression';
import * as pipelineOperators from 'mingo/operators/pipeline';
import * as projectionOperators from 'mingo/operators/projection';
import * as queryOperators from 'mingo/operators/query';
import * as windowOperators from 'mingo/operators/window';
import type { Document } from 'bson';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { isPlainObject, type Value } from './bson-values';
import { sortDocuments } from './document-sort';
import { STORE_QUERY_OPERATORS, elemMatchElementPredicate, prepareFilter } from './query-operators';

const UNSUPPORTED_QUERY_OPERATORS = new Set([
  '$text',
  '$where',
  '$near',
  '$nearSphere',
  '$geoWithin',
  '$geoIntersects',
  '$within',
  '$jsonSchema',
  '$function',
  '$accumulator',
]);

const UNSUPPORTED_STAGES = new Set([
  '$out',
  '$merge',
  '$search',
  '$searchMeta',
  '$vectorSearch',
  '$geoNear',
  '$collStats',
  '$indexStats',
  '$currentOp',
  '$listSessions',
  '$listLocalSessions',
  '$changeStream',
  '$planCacheStats',
]);

export type CollectionResolver = (name: string) => Document[];

export function mingoOptions(resolver?: CollectionResolver, variables?: Document) {
  return {
    context: STORE_CONTEXT,
    idKey: '_id',
    scriptEnabled: false,
    useStrictMode: true,
    processingMode: ProcessingMode.CLONE_OFF,
    ...(resolver ? { collectionResolver: resolver } : {}),
    ...(variables ? { variables } : {}),
  };
}

/** Throws for operators that would otherwise give a wrong answer or run scripts. */
export function refuseUnsupportedOperators(expr: Value, what = 'operator'): void {
  if (Array.isArray(expr)) {
    for (const el of expr) refuseUnsupportedOperators(el, what);
    return;
  }
  if (!isPlainObject(expr)) return;
  for (const key of Object.keys(expr)) {
    if (key.charCodeAt(0) === 36 /* $ */ && UNSUPPORTED_QUERY_OPERATORS.has(key)) {
      throw notSupported(`The ${key} ${what}`);
    }
    refuseUnsupportedOperators(expr[key], what);
  }
}

export function refuseCollation(command: Document): void {
  const collation = command.collation;
  if (collation !== undefined && collation !== null && !(isPlainObject(collation) && Object.keys(collation).length === 0)) {
    throw notSupported('The collation option');
  }
}

export interface CompiledFilter {
  readonly filter: Document;
  readonly empty: boolean;
  test(doc: Document): boolean;
}

export function compileFilter(filter: Value, resolver?: CollectionResolver): CompiledFilter {
  if (filter === undefined || filter === null) filter = {};
  if (!isPlainObject(filter)) throw new CommandError(ErrorCodes.TypeMismatch, 'filter must be an object');
  refuseUnsupportedOperators(filter);
  const f = filter as Document;
  if (Object.keys(f).length === 0) return { filter: f, empty: true, test: () => true };
  const query = newQuery(f, resolver);
  return {
    filter: f,
    empty: false,
    test: (doc: Document) => query.test(doc),
  };
}

export function newQuery(filter: Document, resolver?: CollectionResolver): Query {
  try {
    return new Query(prepareFilter(filter), mingoOptions(resolver));
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

export function checkPipeline(pipeline: Value): Document[] {
  if (!Array.isArray(pipeline)) throw new CommandError(ErrorCodes.TypeMismatch, "'pipeline' option must be specified as an array");
  for (const stage of pipeline) {
    if (!isPlainObject(stage) || Object.keys(stage).length !== 1) {
      throw new CommandError(ErrorCodes.Location40324, 'A pipeline stage specification object must contain exactly one field.');
    }
    const name = Object.keys(stage)[0]!;
    if (UNSUPPORTED_STAGES.has(name)) throw notSupported(`The ${name} aggregation stage`);
    if (name === '$facet' && isPlainObject(stage.$facet)) {
      for (const sub of Object.values(stage.$facet)) checkPipeline(sub);
    }
    if (name === '$lookup' && isPlainObject(stage.$lookup) && Array.isArray(stage.$lookup.pipeline)) {
      checkPipeline(stage.$lookup.pipeline);
    }
    if (name === '$unionWith' && isPlainObject(stage.$unionWith) && Array.isArray(stage.$unionWith.pipeline)) {
      checkPipeline(stage.$unionWith.pipeline);
    }
  }
  refuseUnsupportedOperators(pipeline, 'operator');
  return pipeline as Document[];
}

export function runPipeline(input: Document[], pipeline: Document[], resolver: CollectionResolver, variables?: Document): Document[] {
  try {
    const agg = new Aggregator(pipeline, { ...mingoOptions(resolver, variables), processingMode: ProcessingMode.CLONE_INPUT });
    return agg.run(input) as Document[];
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

export { Context };

const storeSortStage = (collection: LazyIterator, sortKeys: Value): LazyIterator => {
  if (!isPlainObject(sortKeys) || Object.keys(sortKeys).length === 0) {
    throw new CommandError(ErrorCodes.BadValue, '$sort stage must have at least one sort key');
  }
  return collection.transform((docs) => Lazy(sortDocuments(docs as Document[], sortKeys)));
};

const STORE_CONTEXT = Context.init({
  accumulator: accumulatorOperators,
  expression: expressionOperators,
  pipeline: { ...pipelineOperators, $sort: storeSortStage },
  projection: projectionOperators,
  query: { ...queryOperators, ...STORE_QUERY_OPERATORS },
  window: windowOperators,
} as never);

/** The element test of an `$elemMatch` (query or projection): true for the elements the criteria match. */
export function elemMatchPredicate(criteria: Value): (el: Value) => boolean {
  try {
    return elemMatchElementPredicate(criteria, mingoOptions());
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}
