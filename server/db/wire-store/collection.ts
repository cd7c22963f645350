// One in-memory collection: its documents (see DocumentMap) and indexes. Every mutation goes through here so
// indexes and the journal stay consistent.
import { ObjectId, type Document } from 'bson';
import { canonicalKey, idFirst } from './bson-values';
import { getPath } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { DocumentMap, encodeDocument, flat } from './document-map';
import { IndexManager } from './index-manager';
import { normalizeIndexSpec } from './index-spec';
import { duplicateKeyError } from './secondary-index';
import { extractEqualities } from './filter-equalities';
import type { CompiledFilter } from './query-engine';
import type { MutationJournal } from './journal-records';
import { decodeTopLevelFields } from './top-level-fields';

function validateId(id: unknown): void {
  if (Array.isArray(id)) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be an array');
  if (id instanceof RegExp) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be a regular expression');
  if (id === undefined) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be undefined');
}

export class Collection {
  readonly docs = new DocumentMap();
  readonly indexes: IndexManager;

  constructor(
    readonly db: string,
    readonly name: string,
    public options: Document,
    private readonly journal: MutationJournal,
  ) {
    this.indexes = new IndexManager(`${db}.${name}`);
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  /** Prepares a document for insertion: `_id` generated when missing and moved first. */
  static withId(doc: Document): Document {
    if (!('_id' in doc) || doc._id === undefined) {
      const out: Document = { _id: new ObjectId() };
      for (const k of Object.keys(doc)) if (k !== '_id') out[k] = doc[k];
      return out;
    }
    return idFirst(doc);
  }

  /**
   * Inserts a document; returns it (with its `_id`). `encoded`, when given, must be the BSON bytes of
   * `input` (journal replay and renames pass them to skip serializing again).
   */
  insert(input: Document, encoded?: Uint8Array): Document {
    const doc = Collection.withId(input);
    validateId(doc._id);
    const id = flat(canonicalKey(doc._id));
    if (this.docs.has(id)) throw duplicateKeyError(this.ns, '_id_', { _id: 1 }, ['_id'], [doc._id]);
    const entries = this.indexes.prepare(doc, undefined);
    const bytes = encoded && doc === input ? encoded : encodeDocument(doc);
    this.docs.set(id, bytes);
    this.indexes.apply(id, null, entries);
    this.journal.recordDocument('i', this.ns, bytes);
    return doc;
  }

  /**
   * Journal replay of a new document given as its BSON bytes: decodes only `_id` and the fields the indexes
   * need, stores the bytes as they are, journals nothing. A unique index still refuses a duplicate key (the
   * replay then fails as a whole: a journal holds only writes that succeeded, so this means a damaged journal).
   * Returns false, having changed nothing, when this shortcut does not apply (the `_id` is taken, missing or not first, an
   * index has a partialFilterExpression, or the bytes are not plain BSON): the caller then decodes the whole
   * document and inserts or replaces it as usual.
   */
  loadEncoded(encoded: Buffer): boolean {
    const fields = this.indexes.keyFields();
    if (!fields) return false;
    const doc = decodeTopLevelFields(encoded, fields);
    if (!doc || doc._id === undefined) return false;
    validateId(doc._id);
    const id = flat(canonicalKey(doc._id));
    if (this.docs.has(id)) return false;
    this.indexes.load(id, doc);
    this.docs.set(id, encoded);
    return true;
  }

  /** Replaces a stored document with a new version having the same `_id`. Nothing changes on error. */
  replace(oldDoc: Document, newInput: Document): Document {
    const newDoc = idFirst(newInput);
    const id = canonicalKey(oldDoc._id);
    if (canonicalKey(newDoc._id) !== id) {
      throw new CommandError(ErrorCodes.ImmutableField, "Performing an update on the path '_id' would modify the immutable field '_id'");
    }
    const added = this.indexes.prepare(newDoc, id);
    const removed = this.indexes.entriesOf(oldDoc);
    const bytes = encodeDocument(newDoc);
    this.docs.set(id, bytes);
    this.indexes.apply(id, removed, added);
    this.journal.recordDocument('u', this.ns, bytes);
    return newDoc;
  }

  remove(doc: Document): void {
    const id = canonicalKey(doc._id);
    if (!this.docs.has(id)) return;
    const removed = this.indexes.entriesOf(doc);
    this.docs.delete(id);
    this.indexes.apply(id, removed, null);
    this.journal.record({ op: 'd', ns: this.ns, id: doc._id });
  }

  /** Documents that may match the filter: an `_id`/index lookup when possible, else every document. */
  candidates(filter: CompiledFilter): Iterable<Document> {
    if (filter.empty) return this.docs.values();
    const eq = extractEqualities(filter.filter);
    if (eq.size === 0) return this.docs.values();
    const ids = eq.get('_id');
    if (ids) {
      const out: Document[] = [];
      const seen = new Set<string>();
      for (const v of ids) {
        const key = canonicalKey(v);
        if (seen.has(key)) continue;
        seen.add(key);
        const doc = this.docs.get(key);
        if (doc) out.push(doc);
      }
      return out;
    }
    const set = this.indexes.candidates(eq);
    if (!set) return this.docs.values();
    const out: Document[] = [];
    // Keep natural (insertion) order for small candidate sets from multi-valued lookups.
    for (const id of set) {
      const doc = this.docs.get(id);
      if (doc) out.push(doc);
    }
    return out;
  }

  /** Matching documents, in natural order, up to `limit` (0 = all). */
  match(filter: CompiledFilter, limit = 0): Document[] {
    const out: Document[] = [];
    for (const doc of this.candidates(filter)) {
      if (filter.test(doc)) {
        out.push(doc);
        if (limit > 0 && out.length >= limit) break;
      }
    }
    return out;
  }

  createIndex(rawSpec: unknown): 'created' | 'exists' {
    const spec = normalizeIndexSpec(rawSpec);
    const state = this.indexes.check(spec);
    if (state === 'exists') return 'exists';
    this.indexes.create(spec, this.docs.entries());
    this.journal.record({ op: 'ci', ns: this.ns, spec });
    return 'created';
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!this.indexes.drop(name)) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    this.journal.record({ op: 'di', ns: this.ns, name });
  }

  /** Data size (for listDatabases / stats): the BSON bytes of the stored documents. */
  get approximateSize(): number {
    return this.docs.encodedBytes;
  }

  getById(id: unknown): Document | undefined {
    return this.docs.get(canonicalKey(id));
  }

  /** Value at a path for every document (used by TTL sweeping). */
  valuesAt(path: string): Array<[Document, unknown]> {
    const out: Array<[Document, unknown]> = [];
    for (const doc of this.docs.values()) out.push([doc, getPath(doc, path)]);
    return out;
  }
}
