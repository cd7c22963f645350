// Secondary indexes of one collection: canonical key string → ids, with unique enforcement (compound,
// sparse, partialFilterExpression, multikey) and equality lookups that avoid collection scans. One index is a
// SecondaryIndex (secondary-index.ts); specs are checked in index-spec.ts.
import type { Document } from 'bson';
import { canonicalKey, formatKeyValue, type Value } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { MAX_KEY_COMBINATIONS } from './index-key-buckets';
import { sameKeyPattern, sameOptions, type IndexSpec } from './index-spec';
import { SecondaryIndex, comboKey, duplicateKeyError } from './secondary-index';

export interface PreparedIndexEntries {
  entries: Array<Value[][] | null>;
}

export class IndexManager {
  private readonly indexes: SecondaryIndex[] = [];
  /** The index a `hint` forces for the current command ('natural' = no index), see withHint. */
  private forced: SecondaryIndex | 'natural' | undefined;
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
    const index = new SecondaryIndex(spec, this.namespace);
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

  private best(eq: Map<string, Value[]>): { index: SecondaryIndex; length: number } | null {
    if (this.forced === 'natural') return null;
    if (this.forced) {
      let length = 0;
      while (length < this.forced.fields.length && eq.has(this.forced.fields[length]!)) length++;
      return length > 0 ? { index: this.forced, length } : null;
    }
    if (eq.size === 0) return null;
    let best: SecondaryIndex | undefined;
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

  private duplicateError(index: SecondaryIndex, combo: Value[]): CommandError {
    return duplicateKeyError(this.namespace, index.spec.name, index.spec.key, index.fields, combo);
  }
}
