// One secondary index of a collection: its keys (full and, for compound indexes, per prefix) → ids, the index
// entries of a document (sparse, partialFilterExpression, multikey), and the duplicate-key error.
import type { Document } from 'bson';
import { canonicalKey, formatKeyValue, type Value } from './bson-values';
import { pathValues, EMPTY_ARRAY } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { compileFilter, type CompiledFilter } from './query-engine';
import { MAX_KEY_COMBINATIONS, bucketAdd, bucketOther, bucketRemove, toSetBucket, type Bucket } from './index-key-buckets';
import type { IndexSpec } from './index-spec';

export class SecondaryIndex {
  readonly spec: IndexSpec;
  readonly fields: string[];
  readonly unique: boolean;
  readonly sparse: boolean;
  readonly partial: CompiledFilter | null;
  /** Full key → ids. */
  readonly full = new Map<string, Bucket>();
  /** prefixes[i]: key of the first i+1 fields → ids (only for compound indexes, i < fields.length - 1). */
  readonly prefixes: Array<Map<string, Bucket>>;

  constructor(
    spec: IndexSpec,
    private readonly namespace: string,
  ) {
    this.spec = spec;
    this.fields = Object.keys(spec.key);
    this.unique = spec.unique === true;
    this.sparse = spec.sparse === true;
    this.partial = spec.partialFilterExpression ? compileFilter(spec.partialFilterExpression) : null;
    this.prefixes = [];
    for (let i = 0; i < this.fields.length - 1; i++) this.prefixes.push(new Map());
  }

  /** Whether lookups may use this index (sparse/partial indexes do not contain every document; hidden ones are not planned). */
  get usableForLookup(): boolean {
    return !this.sparse && !this.partial && this.spec.hidden !== true;
  }

  /** Raw value combinations of the document for this index, or null when the document is not indexed. */
  entries(doc: Document): Value[][] | null {
    if (this.partial && !this.partial.test(doc)) return null;
    const perField = this.fields.map((f) => pathValues(doc, f));
    if (this.sparse && perField.every((vals) => vals.length === 1 && vals[0] === undefined)) return null;
    // The common case, one value per field: a single combination.
    if (perField.every((vals) => vals.length === 1)) return [perField.map((vals) => vals[0])];
    let combos: Value[][] = [[]];
    for (const vals of perField) {
      const unique = dedupe(vals);
      const next: Value[][] = [];
      for (const c of combos) for (const v of unique) next.push([...c, v]);
      combos = next;
      if (combos.length > MAX_KEY_COMBINATIONS) {
        throw new CommandError(ErrorCodes.BadValue, `cannot index parallel arrays for index ${this.spec.name}`);
      }
    }
    return combos;
  }

  /** Buckets turned into arrays by bulk loading (see Bucket), until settle(). */
  private pending: Array<[Map<string, Bucket>, string]> | undefined;

  /**
   * Adds the entries of document `id`; `bulk` (journal replay, index builds) defers Set building to settle().
   * `check` (bulk loading without a prior prepare): a unique index throws the duplicate-key error when a key
   * is already another document's, possibly after adding some of the document's keys.
   */
  add(entries: Value[][], id: string, bulk = false, check = false): void {
    const pending = bulk ? (this.pending ??= []) : undefined;
    for (const combo of entries) {
      // The same keys as comboKey(combo, 1..n), each field's canonical form computed once.
      let key = canonicalKey(combo[0]);
      for (let i = 0; i < this.prefixes.length; i++) {
        bucketAdd(this.prefixes[i]!, key, id, pending);
        key += `|${canonicalKey(combo[i + 1])}`;
      }
      if (check && this.unique) {
        const other = bucketOther(this.full.get(key), id);
        if (other !== undefined) {
          throw duplicateKeyError(this.namespace, this.spec.name, this.spec.key, this.fields, combo);
        }
      }
      bucketAdd(this.full, key, id, pending);
    }
  }

  /** Ends bulk loading: array buckets become Sets (or single ids). */
  settle(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    for (const [map, key] of pending) {
      const cur = map.get(key);
      if (Array.isArray(cur)) map.set(key, toSetBucket(cur));
    }
  }

  remove(entries: Value[][], id: string): void {
    for (const combo of entries) {
      bucketRemove(this.full, comboKey(combo, combo.length), id);
      for (let i = 0; i < this.prefixes.length; i++) bucketRemove(this.prefixes[i]!, comboKey(combo, i + 1), id);
    }
  }

  /** The first combination that another document already owns, if any. */
  conflict(entries: Value[][], self: string | undefined): Value[] | undefined {
    for (const combo of entries) {
      if (bucketOther(this.full.get(comboKey(combo, combo.length)), self) !== undefined) return combo;
    }
    return undefined;
  }
}

function dedupe(values: Value[]): Value[] {
  if (values.length < 2) return values;
  const seen = new Set<string>();
  const out: Value[] = [];
  for (const v of values) {
    const k = canonicalKey(v);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(v);
    }
  }
  return out;
}

/** The key of a combination's first `length` values (their canonical keys joined by `|`). */
export function comboKey(combo: Value[], length: number): string {
  if (length === 1) return canonicalKey(combo[0]);
  let out = canonicalKey(combo[0]);
  for (let i = 1; i < length; i++) out += `|${canonicalKey(combo[i])}`;
  return out;
}

/** mongod's E11000 error for a key that another document already has. */
export function duplicateKeyError(namespace: string, indexName: string, keyPattern: Document, fields: string[], combo: Value[]): CommandError {
  const keyValue: Document = {};
  fields.forEach((f, i) => {
    const v = combo[i];
    keyValue[f] = v === EMPTY_ARRAY ? [] : v === undefined ? null : v;
  });
  return new CommandError(
    ErrorCodes.DuplicateKey,
    `E11000 duplicate key error collection: ${namespace} index: ${indexName} dup key: ${formatKeyValue(keyValue)}`,
    { keyPattern: { ...keyPattern }, keyValue },
  );
}
