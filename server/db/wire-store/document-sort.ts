// MongoDB's sort order of documents (find, findAndModify and the `$sort` stage).
import type { Document } from 'bson';
import type { Value } from './bson-values';
import { compareValues } from './bson-ordering';
import { queryCandidates } from './query-operators';

/** Sorts documents in MongoDB's order: ascending by the smallest, descending by the largest value at each key. */
export function sortDocuments(docs: Document[], sort: Document): Document[] {
  const keys = Object.keys(sort).filter((k) => k !== '$natural');
  if (keys.length === 0) return docs.slice();
  const dirs = keys.map((k) => (sort[k] === -1 ? -1 : 1));
  const decorated = docs.map((doc, index) => ({ doc, index, keys: keys.map((k, i) => sortKey(doc, k, dirs[i]!)) }));
  decorated.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareSortKeys(a.keys[i], b.keys[i]);
      if (c !== 0) return c * dirs[i]!;
    }
    return a.index - b.index;
  });
  return decorated.map((d) => d.doc);
}

const EMPTY_ARRAY_KEY = Symbol('empty-array');

function sortKey(doc: Value, path: string, dir: number): Value {
  const values = queryCandidates(doc, path, false);
  const flat: Value[] = [];
  for (const v of values) {
    if (Array.isArray(v)) flat.push(...v);
    else flat.push(v === undefined ? null : v);
  }
  if (flat.length === 0) return EMPTY_ARRAY_KEY; // an empty array sorts before null
  let best = flat[0];
  for (const v of flat) if (compareValues(v, best) * dir < 0) best = v;
  return best;
}

function compareSortKeys(a: Value, b: Value): number {
  if (a === EMPTY_ARRAY_KEY || b === EMPTY_ARRAY_KEY) return a === b ? 0 : a === EMPTY_ARRAY_KEY ? -1 : 1;
  return compareValues(a, b);
}
