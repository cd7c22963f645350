// Secondary indexes of one collection: canonical key string → ids, with unique enforcement (compound,
// sparse, partialFilterExpression, multikey) and equality lookups that avoid collection scans.
import type { Document } from 'bson';
import { canonicalKey, formatKeyValue, isPlainObject, type Value } from './bson-values';
import { pathValues, EMPTY_ARRAY } from './document-paths';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { compileFilter, type CompiledFilter } from './query-engine';

/**
 * One id, or a set of ids when several documents share a key. While an index is bulk-loaded (journal replay,
 * index builds) a shared key holds a plain array (appending is several times cheaper than growing a Set); the
 * array may repeat an id, readers only iterate it, and settle() (or the first change outside bulk loading)
 * turns it into a Set.
 */
type Bucket = string | Set<string> | string[];

const MAX_KEY_COMBINATIONS = 1000;

function toSetBucket(ids: string[]): string | Set<string> {
  const set = new Set(ids);
  return set.size === 1 ? ids[0]! : set;
}

/** Adds `id` under `key`; `pending` (bulk loading) collects the keys whose bucket became an array. */
function bucketAdd(map: Map<string, Bucket>, key: string, id: string, pending?: Array<[Map<string, Bucket>, string]>): void {
  const cur = map.get(key);
  // charCodeAt flattens the concatenated key in place: a long-lived key then costs one flat string,
  // not a tree of cons strings (~3× smaller for compound keys).
  if (cur === undefined) map.set((key.charCodeAt(0), key), id);
  else if (typeof cur === 'string') {
    if (cur === id) return;
    if (pending) {
      map.set(key, [cur, id]);
      pending.push([map, key]);
    } else map.set(key, new Set([cur, id]));
  } else if (Array.isArray(cur)) {
    if (pending) cur.push(id);
    else {
      const set = new Set(cur);
      set.add(id);
      map.set(key, set);
    }
  } else cur.add(id);
}

function bucketRemove(map: Map<string, Bucket>, key: string, id: string): void {
  let cur = map.get(key);
  if (cur === undefined) return;
  if (Array.isArray(cur)) {
    cur = new Set(cur);
    map.set(key, cur);
  }
  if (typeof cur === 'string') {
    if (cur === id) map.delete(key);
  } else {
    cur.delete(id);
    if (cur.size === 1) map.set(key, cur.values().next().value as string);
    else if (cur.size === 0) map.delete(key);
  }
}

function bucketOther(bucket: Bucket | undefined, self: string | undefined): string | undefined {
  if (bucket === undefined) return undefined;
  if (typeof bucket === 'string') return bucket !== self ? bucket : undefined;
  for (const id of bucket) if (id !== self) return id;
  return undefined;
}

/** Options kept in an index spec and reported by listIndexes as given (like MongoDB, `background` included). */
const SPEC_OPTION_KEYS = [
  'background',
  'unique',
  'sparse',
  'partialFilterExpression',
  'expireAfterSeconds',
  'hidden',
  'collation',
  'weights',
  'default_language',
  'language_override',
  'textIndexVersion',
  '2dsphereIndexVersion',
  'bits',
  'min',
  'max',
  'wildcardProjection',
  'storageEngine',
] as const;

/** Options that, when they differ for the same key pattern/name, are a conflict. */
const COMPARED_OPTIONS = ['unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'hidden'] as const;

export interface IndexSpec extends Document {
  v: number;
  key: Document;
  name: string;
}

export function defaultIndexName(key: Document): string {
  return Object.keys(key)
    .map((k) => `${k}_${key[k]}`)
    .join('_');
}

/** Validates and normalizes a createIndexes spec. */
export function normalizeIndexSpec(raw: Value): IndexSpec {
  if (!isPlainObject(raw)) throw new CommandError(ErrorCodes.TypeMismatch, 'index specification must be an object');
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(ErrorCodes.CannotCreateIndex, 'Index keys cannot be empty.');
  }
  for (const field of Object.keys(key)) {
    const dir = key[field];
    if (typeof dir === 'string') {
      if (dir === 'hashed') continue;
      throw notSupported(`Index type '${dir}'`);
    }
    if (typeof dir !== 'number' || dir === 0 || Number.isNaN(dir)) {
      throw new CommandError(ErrorCodes.CannotCreateIndex, `Values in the index key pattern can only be numbers or strings, got ${String(dir)} for ${field}`);
    }
    if (field.includes('$**')) throw notSupported('Wildcard indexes');
  }
  if (raw.collation !== undefined) throw notSupported('The collation option');
  const name = typeof raw.name === 'string' && raw.name ? raw.name : defaultIndexName(key);
  const spec: IndexSpec = { v: 2, key: { ...key }, name };
  for (const opt of SPEC_OPTION_KEYS) {
    if (raw[opt] !== undefined) spec[opt] = raw[opt];
  }
  if (spec.unique === false) delete spec.unique;
  if (spec.sparse === false) delete spec.sparse;
  if (spec.hidden === false) delete spec.hidden;
  if (spec.unique !== undefined) spec.unique = Boolean(spec.unique);
  if (spec.sparse !== undefined) spec.sparse = Boolean(spec.sparse);
  if (spec.partialFilterExpression !== undefined) {
    if (!isPlainObject(spec.partialFilterExpression)) {
      throw new CommandError(ErrorCodes.CannotCreateIndex, 'partialFilterExpression must be an object');
    }
    compileFilter(spec.partialFilterExpression);
  }
  return spec;
}

function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  return COMPARED_OPTIONS.every((k) => canonicalKey(a[k]) === canonicalKey(b[k]));
}

export function sameKeyPattern(a: Document, b: Document): boolean {
  return canonicalKey(a) === canonicalKey(b);
}

class Index {
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

function comboKey(combo: Value[], length: number): string {
  if (length === 1) return canonicalKey(combo[0]);
  let out = canonicalKey(combo[0]);
  for (let i = 1; i < length; i++) out += `|${canonicalKey(combo[i])}`;
  return out;
}

export interface PreparedIndexEntries {
  entries: Array<Value[][] | null>;
}

export class IndexManager {
  private readonly indexes: Index[] = [];
  /** The index a `hint` forces for the current command ('natural' = no index), see withHint. */
  private forced: Index | 'natural' | undefined;
  /** keyFields(), cached until the set of indexes changes. */
  private keyFieldsCache: readonly string[] | null | undefined;

  constructor(private readonly namespace: string) {}

  /** All specs including the implicit `_id_` index. */
  specs(): IndexSpec[] {
    return [{ v: 2, key: { _id: 1 }, name: '_id_' }, ...this.indexes.map((i) => i.spec)];
  }

  find(name: string): IndexSpec | undefined {
    if (name === '_id_') return { v: 2, key: { _id: 1 }, name: '_id_' };
    return this.indexes.find((i) => i.spec.name === name)?.spec;
  }

  findByKey(key: Document): IndexSpec[] {
    const out: IndexSpec[] = [];
    if (sameKeyPattern(key, { _id: 1 })) out.push({ v: 2, key: { _id: 1 }, name: '_id_' });
    for (const i of this.indexes) if (sameKeyPattern(i.spec.key, key)) out.push(i.spec);
    return out;
  }

  /**
   * Checks a spec against existing indexes. Returns 'exists' when an identical index exists,
   * 'new' when it can be created; throws on conflicts.
   */
  check(spec: IndexSpec): 'exists' | 'new' {
    if (spec.name === '_id_' || sameKeyPattern(spec.key, { _id: 1 })) {
      if (spec.name === '_id_' && !sameKeyPattern(spec.key, { _id: 1 })) {
        throw new CommandError(ErrorCodes.IndexKeySpecsConflict, `An existing index has the same name as the requested index. Requested index: ${formatKeyValue(spec.key)}, existing index: { _id: 1 }`);
      }
      if (spec.unique === false || spec.sparse || spec.partialFilterExpression) {
        throw new CommandError(ErrorCodes.InvalidOptions, "The field 'unique' is not valid for an _id index specification.");
      }
      return 'exists';
    }
    const byName = this.indexes.find((i) => i.spec.name === spec.name);
    if (byName) {
      if (!sameKeyPattern(byName.spec.key, spec.key)) {
        throw new CommandError(
          ErrorCodes.IndexKeySpecsConflict,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Requested index: ${formatKeyValue(spec.key)}, existing index: ${formatKeyValue(byName.spec.key)}`,
        );
      }
      if (!sameOptions(byName.spec, spec)) {
        throw new CommandError(ErrorCodes.IndexOptionsConflict, `An existing index has the same name as the requested index but different options: ${spec.name}`);
      }
      return 'exists';
    }
    for (const other of this.indexes) {
      if (sameKeyPattern(other.spec.key, spec.key) && canonicalKey(other.spec.partialFilterExpression) === canonicalKey(spec.partialFilterExpression)) {
        throw new CommandError(
          ErrorCodes.IndexOptionsConflict,
          `Index already exists with a different name: ${other.spec.name}`,
        );
      }
    }
    return 'new';
  }

  /** Builds a new index over the given documents; throws (and builds nothing) on a duplicate key. */
  create(spec: IndexSpec, docs: Iterable<[string, Document]>): void {
    const index = new Index(spec, this.namespace);
    for (const [id, doc] of docs) {
      const entries = index.entries(doc);
      if (!entries) continue;
      if (index.unique) {
        const dup = index.conflict(entries, id);
        if (dup) throw this.duplicateError(index, dup);
      }
      index.add(entries, id, true);
    }
    index.settle();
    this.indexes.push(index);
    this.keyFieldsCache = undefined;
  }

  drop(name: string): boolean {
    const at = this.indexes.findIndex((i) => i.spec.name === name);
    if (at < 0) return false;
    this.indexes.splice(at, 1);
    this.keyFieldsCache = undefined;
    return true;
  }

  dropAll(): void {
    this.indexes.length = 0;
    this.keyFieldsCache = undefined;
  }

  get count(): number {
    return this.indexes.length;
  }

  /**
   * The top-level fields a document's index entries depend on (`_id` and the first segment of every key path),
   * or null when some index also needs other fields (a partialFilterExpression). Used by journal replay to
   * decode only those fields of a stored document.
   */
  keyFields(): readonly string[] | null {
    if (this.keyFieldsCache !== undefined) return this.keyFieldsCache;
    const fields = new Set<string>(['_id']);
    for (const index of this.indexes) {
      if (index.partial) return (this.keyFieldsCache = null);
      for (const f of index.fields) fields.add(f.split('.')[0]!);
    }
    return (this.keyFieldsCache = [...fields]);
  }

  /** Computes index entries for a document and checks unique constraints (nothing is modified). */
  prepare(doc: Document, selfId: string | undefined): Array<Value[][] | null> {
    const all: Array<Value[][] | null> = [];
    for (const index of this.indexes) {
      const entries = index.entries(doc);
      if (entries && index.unique) {
        const dup = index.conflict(entries, selfId);
        if (dup) throw this.duplicateError(index, dup);
      }
      all.push(entries);
    }
    return all;
  }

  /** Entries of a stored document (no checks). */
  entriesOf(doc: Document): Array<Value[][] | null> {
    return this.indexes.map((index) => index.entries(doc));
  }

  /** `bulk`: a bulk load (journal replay) that ends with settle(). */
  apply(id: string, removed: Array<Value[][] | null> | null, added: Array<Value[][] | null> | null, bulk = false): void {
    for (let i = 0; i < this.indexes.length; i++) {
      const index = this.indexes[i]!;
      const r = removed?.[i];
      if (r) index.remove(r, id);
      const a = added?.[i];
      if (a) index.add(a, id, bulk);
    }
  }

  /**
   * Journal replay of a new document: adds its entries in bulk mode (see apply), checking unique indexes as it
   * goes. A duplicate key throws, and may leave some of the document's keys added: replay then fails as a whole.
   */
  load(id: string, doc: Document): void {
    for (const index of this.indexes) {
      const entries = index.entries(doc);
      if (entries) index.add(entries, id, true, true);
    }
  }

  /** Ends a bulk load (see apply): every index's shared keys become Sets again. */
  settle(): void {
    for (const index of this.indexes) index.settle();
  }

  /**
   * The index a lookup with these equality constraints uses, with the number of leading fields it covers, or
   * null when none applies: a unique index fully covered first, then the index with the longest covered prefix.
   */
  choose(eq: Map<string, Value[]>): { spec: IndexSpec; length: number } | null {
    const best = this.best(eq);
    return best ? { spec: best.index.spec, length: best.length } : null;
  }

  /**
   * Runs `fn` with lookups forced to the named index (`null`: the `$natural` hint, no index), as a command's `hint`
   * asks. A hinted index that does not cover the filter's leading field means scanning every document (MongoDB
   * scans the whole index): the same documents either way.
   */
  withHint<T>(name: string | null, fn: () => T): T {
    const previous = this.forced;
    this.forced = name === null || name === '_id_' ? 'natural' : this.indexes.find((i) => i.spec.name === name);
    try {
      return fn();
    } finally {
      this.forced = previous;
    }
  }

  /** The index forced by a hint for the current command: its spec, 'natural', or undefined (no hint). */
  get hinted(): IndexSpec | 'natural' | undefined {
    return this.forced === 'natural' ? 'natural' : this.forced?.spec;
  }

  private best(eq: Map<string, Value[]>): { index: Index; length: number } | null {
    if (this.forced === 'natural') return null;
    if (this.forced) {
      let length = 0;
      while (length < this.forced.fields.length && eq.has(this.forced.fields[length]!)) length++;
      return length > 0 ? { index: this.forced, length } : null;
    }
    if (eq.size === 0) return null;
    let best: Index | undefined;
    let bestLength = 0;
    let bestScore = 0;
    for (const index of this.indexes) {
      if (!index.usableForLookup) continue;
      let length = 0;
      while (length < index.fields.length && eq.has(index.fields[length]!)) length++;
      if (length === 0) continue;
      const score = (index.unique && length === index.fields.length ? 1000 : 0) + length;
      if (score > bestScore) {
        best = index;
        bestLength = length;
        bestScore = score;
      }
    }
    return best ? { index: best, length: bestLength } : null;
  }

  /** Candidate ids for the equality constraints (through the index `choose` picks), or null when no index applies. */
  candidates(eq: Map<string, Value[]>): Set<string> | null {
    const chosen = this.best(eq);
    if (!chosen) return null;
    const { index: best, length: bestLength } = chosen;
    let combos: Value[][] = [[]];
    for (let i = 0; i < bestLength; i++) {
      const values = eq.get(best.fields[i]!)!;
      const next: Value[][] = [];
      for (const c of combos) for (const v of values) next.push([...c, v]);
      combos = next;
      if (combos.length > MAX_KEY_COMBINATIONS) return null;
    }
    const map = bestLength === best.fields.length ? best.full : best.prefixes[bestLength - 1]!;
    const out = new Set<string>();
    for (const combo of combos) {
      const bucket = map.get(comboKey(combo, bestLength));
      if (bucket === undefined) continue;
      if (typeof bucket === 'string') out.add(bucket);
      else for (const id of bucket) out.add(id);
    }
    return out;
  }

  /**
   * Changes options of an existing index in place (collMod): `expireAfterSeconds` and `hidden`. Returns the
   * stored spec; the caller validates and journals.
   */
  modify(name: string, changes: { expireAfterSeconds?: number; hidden?: boolean }): IndexSpec {
    const index = this.indexes.find((i) => i.spec.name === name);
    if (!index) throw new CommandError(ErrorCodes.IndexNotFound, `cannot find index ${name} for ns ${this.namespace}`);
    if (changes.expireAfterSeconds !== undefined) index.spec.expireAfterSeconds = changes.expireAfterSeconds;
    if (changes.hidden === true) index.spec.hidden = true;
    else if (changes.hidden === false) delete index.spec.hidden;
    return index.spec;
  }

  /** Replaces the options of an index by those of `spec` (same name and key; journal replay of collMod). */
  restoreSpec(spec: IndexSpec): void {
    const index = this.indexes.find((i) => i.spec.name === spec.name);
    if (!index) return;
    for (const key of Object.keys(index.spec)) if (!(key in spec)) delete index.spec[key];
    Object.assign(index.spec, spec);
  }

  private duplicateError(index: Index, combo: Value[]): CommandError {
    return duplicateKeyError(this.namespace, index.spec.name, index.spec.key, index.fields, combo);
  }
}

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
