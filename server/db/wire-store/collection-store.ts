// In-memory databases and collections. Documents live in a Map keyed by the canonical string of `_id`;
// every mutation goes through here so indexes and the journal stay consistent.
import { ObjectId, type Document } from 'bson';
import { canonicalKey, isPlainObject, idFirst, getPath } from './bson-values';
import { CommandError, ErrorCodes } from './command-error';
import { IndexManager, duplicateKeyError, normalizeIndexSpec, type IndexSpec } from './index-manager';
import { extractEqualities, type CompiledFilter } from './query-engine';

export interface JournalSink {
  append(record: Document): void;
}

/** Journal record shapes (one per mutation). */
export type JournalRecord =
  | { op: 'cc'; ns: string; options: Document }
  | { op: 'dc'; ns: string }
  | { op: 'dd'; db: string }
  | { op: 'rc'; ns: string; to: string }
  | { op: 'ci'; ns: string; spec: IndexSpec }
  | { op: 'di'; ns: string; name: string }
  | { op: 'cm'; ns: string; options: Document }
  | { op: 'mi'; ns: string; spec: IndexSpec }
  | { op: 'i'; ns: string; doc: Document }
  | { op: 'u'; ns: string; doc: Document }
  | { op: 'd'; ns: string; id: unknown };

export function validateDbName(db: unknown): string {
  if (typeof db !== 'string' || db.length === 0 || /[/\\. "$\0]/.test(db) || db.length > 63) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid database name: '${String(db)}'`);
  }
  return db;
}

export function validateCollectionName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\0') || name.includes('$') || name.startsWith('.') || name.startsWith('system.')) {
    throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid collection name: '${String(name)}'`);
  }
  return name;
}

function validateId(id: unknown): void {
  if (Array.isArray(id)) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be an array');
  if (id instanceof RegExp) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be a regular expression');
  if (id === undefined) throw new CommandError(ErrorCodes.BadValue, 'The _id field cannot be undefined');
}

export class Collection {
  readonly docs = new Map<string, Document>();
  readonly indexes: IndexManager;

  constructor(
    readonly db: string,
    readonly name: string,
    public options: Document,
    private readonly store: Store,
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

  insert(input: Document): Document {
    const doc = Collection.withId(input);
    validateId(doc._id);
    const id = canonicalKey(doc._id);
    if (this.docs.has(id)) throw duplicateKeyError(this.ns, '_id_', { _id: 1 }, ['_id'], [doc._id]);
    const entries = this.indexes.prepare(doc, undefined);
    this.docs.set(id, doc);
    this.indexes.apply(id, null, entries);
    this.store.record({ op: 'i', ns: this.ns, doc });
    return doc;
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
    this.docs.set(id, newDoc);
    this.indexes.apply(id, removed, added);
    this.store.record({ op: 'u', ns: this.ns, doc: newDoc });
    return newDoc;
  }

  remove(doc: Document): void {
    const id = canonicalKey(doc._id);
    if (!this.docs.has(id)) return;
    const removed = this.indexes.entriesOf(doc);
    this.docs.delete(id);
    this.indexes.apply(id, removed, null);
    this.store.record({ op: 'd', ns: this.ns, id: doc._id });
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
    this.store.record({ op: 'ci', ns: this.ns, spec });
    return 'created';
  }

  dropIndex(name: string): void {
    if (name === '_id_') throw new CommandError(ErrorCodes.InvalidOptions, 'cannot drop _id index');
    if (!this.indexes.drop(name)) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${name}]`);
    this.store.record({ op: 'di', ns: this.ns, name });
  }

  /** Approximate data size (for listDatabases / stats); not exact. */
  get approximateSize(): number {
    return this.docs.size * 256;
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

export class Store {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  /** When false (journal replay), mutations are not re-journaled. */
  private journaling = true;

  constructor(private journal?: JournalSink) {}

  setJournal(journal: JournalSink | undefined): void {
    this.journal = journal;
  }

  record(record: JournalRecord): void {
    if (this.journaling && this.journal) this.journal.append(record as unknown as Document);
  }

  databaseNames(): string[] {
    return [...this.dbs.keys()].filter((name) => (this.dbs.get(name)?.size ?? 0) > 0);
  }

  collections(db: string): Collection[] {
    return [...(this.dbs.get(db)?.values() ?? [])];
  }

  get(db: string, name: string): Collection | undefined {
    return this.dbs.get(db)?.get(name);
  }

  /** Returns the collection, creating it implicitly (like an insert into a new collection). */
  getOrCreate(db: string, name: string): Collection {
    const existing = this.get(db, name);
    if (existing) return existing;
    return this.create(db, name, {});
  }

  create(db: string, name: string, options: Document): Collection {
    validateDbName(db);
    validateCollectionName(name);
    let colls = this.dbs.get(db);
    if (!colls) {
      colls = new Map();
      this.dbs.set(db, colls);
    }
    if (colls.has(name)) throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    const coll = new Collection(db, name, options, this);
    colls.set(name, coll);
    this.record({ op: 'cc', ns: coll.ns, options });
    return coll;
  }

  drop(db: string, name: string): boolean {
    const colls = this.dbs.get(db);
    if (!colls?.has(name)) return false;
    colls.delete(name);
    this.record({ op: 'dc', ns: `${db}.${name}` });
    return true;
  }

  dropDatabase(db: string): void {
    if (!this.dbs.has(db)) return;
    this.dbs.delete(db);
    this.record({ op: 'dd', db });
  }

  rename(db: string, from: string, toDb: string, to: string, dropTarget: boolean): void {
    const source = this.get(db, from);
    if (!source) throw new CommandError(ErrorCodes.NamespaceNotFound, 'source namespace does not exist');
    validateDbName(toDb);
    validateCollectionName(to);
    if (db === toDb && from === to) throw new CommandError(ErrorCodes.IllegalOperation, 'Can\'t rename a collection to itself');
    if (this.get(toDb, to) && !dropTarget) throw new CommandError(ErrorCodes.NamespaceExists, 'target namespace exists');
    const wasJournaling = this.journaling;
    this.journaling = false;
    try {
      this.drop(toDb, to);
      const target = this.create(toDb, to, source.options);
      for (const spec of source.indexes.specs()) if (spec.name !== '_id_') target.createIndex(spec);
      for (const doc of source.docs.values()) target.insert(doc);
      this.dbs.get(db)?.delete(from);
    } finally {
      this.journaling = wasJournaling;
    }
    this.record({ op: 'rc', ns: `${db}.${from}`, to: `${toDb}.${to}` });
  }

  /** Applies one journal record during replay (no re-journaling). */
  replay(record: Document): void {
    this.journaling = false;
    try {
      const split = (ns: string): [string, string] => {
        const dot = ns.indexOf('.');
        return [ns.slice(0, dot), ns.slice(dot + 1)];
      };
      switch (record.op) {
        case 'cc': {
          const [db, name] = split(record.ns);
          if (!this.get(db, name)) this.create(db, name, record.options ?? {});
          break;
        }
        case 'dc': {
          const [db, name] = split(record.ns);
          this.drop(db, name);
          break;
        }
        case 'dd':
          this.dropDatabase(record.db);
          break;
        case 'rc': {
          const [db, name] = split(record.ns);
          const [toDb, to] = split(record.to);
          if (this.get(db, name)) this.rename(db, name, toDb, to, true);
          break;
        }
        case 'ci': {
          const [db, name] = split(record.ns);
          this.getOrCreate(db, name).createIndex(record.spec);
          break;
        }
        case 'di': {
          const [db, name] = split(record.ns);
          const coll = this.get(db, name);
          if (coll?.indexes.find(record.name)) coll.dropIndex(record.name);
          break;
        }
        case 'cm': {
          const [db, name] = split(record.ns);
          const coll = this.get(db, name);
          if (coll) coll.options = record.options ?? {};
          break;
        }
        case 'mi': {
          const [db, name] = split(record.ns);
          this.get(db, name)?.indexes.restoreSpec(record.spec);
          break;
        }
        case 'i':
        case 'u': {
          const [db, name] = split(record.ns);
          const coll = this.getOrCreate(db, name);
          const existing = coll.getById(record.doc._id);
          if (existing) coll.replace(existing, record.doc);
          else coll.insert(record.doc);
          break;
        }
        case 'd': {
          const [db, name] = split(record.ns);
          const coll = this.get(db, name);
          const existing = coll?.getById(record.id);
          if (coll && existing) coll.remove(existing);
          break;
        }
        default:
          throw new Error(`unknown journal record op ${String(record.op)}`);
      }
    } finally {
      this.journaling = true;
    }
  }

  /** Records that recreate the current state (used to compact the journal). */
  *snapshot(): Generator<JournalRecord> {
    for (const [db, colls] of this.dbs) {
      for (const coll of colls.values()) {
        yield { op: 'cc', ns: `${db}.${coll.name}`, options: coll.options };
        for (const spec of coll.indexes.specs()) if (spec.name !== '_id_') yield { op: 'ci', ns: coll.ns, spec };
        for (const doc of coll.docs.values()) yield { op: 'i', ns: coll.ns, doc };
      }
    }
  }

  get documentCount(): number {
    let n = 0;
    for (const colls of this.dbs.values()) for (const c of colls.values()) n += c.docs.size;
    return n;
  }
}

export { normalizeIndexSpec };
