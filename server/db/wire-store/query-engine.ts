// Thin layer over mingo: compiles filters once per command, refuses operators the store cannot answer
// correctly, and extracts equality constraints that the index manager can use.
import { Query, Aggregator, Context, ProcessingMode } from 'mingo';
import type { Document } from 'bson';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { isIndexableEqualityValue, isPlainObject, type Value } from './bson-values';

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
  let query: Query;
  try {
    query = new Query(f, mingoOptions(resolver));
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
  return {
    filter: f,
    empty: false,
    test: (doc: Document) => query.test(doc),
  };
}

export function newQuery(filter: Document, resolver?: CollectionResolver): Query {
  try {
    return new Query(filter, mingoOptions(resolver));
  } catch (err) {
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

/**
 * Equality constraints implied by a filter: field → candidate values (plain `field: value`, `$eq`, `$in`,
 * and the same inside `$and`). Any document matching the filter has one of these values at that field.
 */
export function extractEqualities(filter: Document): Map<string, Value[]> {
  const out = new Map<string, Value[]>();
  collectEqualities(filter, out);
  return out;
}

function collectEqualities(filter: Document, out: Map<string, Value[]>): void {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) collectEqualities(sub, out);
      continue;
    }
    if (key.charCodeAt(0) === 36) continue;
    if (out.has(key)) continue;
    if (isIndexableEqualityValue(v)) {
      out.set(key, [v]);
      continue;
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 || keys[0]!.charCodeAt(0) !== 36) continue;
      if ('$eq' in v && isIndexableEqualityValue(v.$eq)) {
        out.set(key, [v.$eq]);
      } else if ('$in' in v && Array.isArray(v.$in) && v.$in.every(isIndexableEqualityValue)) {
        out.set(key, v.$in as Value[]);
      }
    }
  }
}
