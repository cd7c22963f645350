// In-memory databases and collections. Documents live in a Map keyed by the canonical string of `_id`, each
// held as its BSON bytes (see DocumentMap) and decoded on every read; every mutation goes through here so
// indexes and the journal stay consistent.
import { ObjectId, deserialize, serialize, type Document } from 'bson';
import { canonicalKey, isPlainObject, idFirst } from './bson-values';
import { getPath } from './document-paths';
import { CommandError, ErrorCodes } from './command-error';
import { IndexManager, duplicateKeyError, normalizeIndexSpec, type IndexSpec } from './index-manager';
import { extractEqualities, type CompiledFilter } from './query-engine';
import { DESERIALIZE_OPTIONS } from './wire-protocol';

export interface JournalSink {
  append(record: Document): void;
  /** Appends `{ op, ns, doc }` with the document given as its BSON bytes (saves serializing it again). */
  appendDocument?(op: 'i' | 'u', ns: string, doc: Uint8Array): void;
}

/** The BSON bytes of a document, as stored (the same bytes a reply would carry). */
export function encodeDocument(doc: Document): Uint8Array {
  return serialize(doc);
}

/** A fresh, independent document decoded from stored bytes (the wire's own deserialize options). */
export function decodeDocument(bytes: Uint8Array): Document {
  return deserialize(bytes, DESERIALIZE_OPTIONS);
}

/** Flattens a concatenated (cons) string in place, so a long-lived Map key costs one flat string. */
function flat(s: string): string {
  s.charCodeAt(0);
  return s;
}

/**
 * The documents of one collection: `_id` key → the document's BSON bytes, held as a one-byte (latin1)
 * string. That costs the BSON size plus a 16-byte header (a JS object graph of a small document costs
 * ~10× more), lives in V8's heap (so the GC compacts it; no per-document ArrayBuffer), and can never be
 * shared with a caller: every read decodes a new copy, which the caller may mutate freely.
 * Iteration is in insertion order and live, like a Map's.
 */
export class DocumentMap implements Iterable<[string, Document]> {
  private readonly map = new Map<string, string>();
  private bytes = 0;

  get size(): number {
    return this.map.size;
  }

  /** Total BSON bytes of the stored documents. */
  get encodedBytes(): number {
    return this.bytes;
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): Document | undefined {
    const stored = this.map.get(id);
    return stored === undefined ? undefined : decodeDocument(Buffer.from(stored, 'latin1'));
  }

  /** The stored BSON bytes (a copy). */
  getEncoded(id: string): Buffer | undefined {
    const stored = this.map.get(id);
    return stored === undefined ? undefined : Buffer.from(stored, 'latin1');
  }

  set(id: string, encoded: Uint8Array): void {
    const stored = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength).toString('latin1');
    const previous = this.map.get(id);
    if (previous !== undefined) this.bytes -= previous.length;
    this.map.set(flat(id), stored);
    this.bytes += stored.length;
  }

  delete(id: string): boolean {
    const previous = this.map.get(id);
    if (previous === undefined) return false;
    this.bytes -= previous.length;
    return this.map.delete(id);
  }

  keys(): IterableIterator<string> {
    return this.map.keys();
  }

  *values(): IterableIterator<Document> {
    for (const stored of this.map.values()) yield decodeDocument(Buffer.from(stored, 'latin1'));
  }

  *entries(): IterableIterator<[string, Document]> {
    for (const [id, stored] of this.map) yield [id, decodeDocument(Buffer.from(stored, 'latin1'))];
  }

  /** The stored BSON bytes of every document (copies), in insertion order. */
  *encodedValues(): IterableIterator<Buffer> {
    for (const stored of this.map.values()) yield Buffer.from(stored, 'latin1');
  }

  [Symbol.iterator](): IterableIterator<[string, Document]> {
    return this.entries();
  }
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
  readonly docs = new DocumentMap();
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
    this.store.recordDocument('i', this.ns, bytes);
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
    this.store.recordDocument('u', this.ns, bytes);
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

export class Store {
  private readonly dbs = new Map<string, Map<string, Collection>>();
  /** When false (journal replay), mutations are not re-journaled. */
  private journaling = true;
  /** The collection of the last replayed new document, while only such records follow (see replay). */
  private replayNs: string | undefined;
  private replayColl: Collection | undefined;

  constructor(private journal?: JournalSink) {}

  setJournal(journal: JournalSink | undefined): void {
    this.journal = journal;
  }

  record(record: JournalRecord): void {
    if (this.journaling && this.journal) this.journal.append(record as unknown as Document);
  }

  /** Journals an insert or a new version of a document, given as its stored BSON bytes. */
  recordDocument(op: 'i' | 'u', ns: string, doc: Uint8Array): void {
    if (!this.journaling || !this.journal) return;
    if (this.journal.appendDocument) this.journal.appendDocument(op, ns, doc);
    else this.journal.append({ op, ns, doc: decodeDocument(doc) });
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
      for (const bytes of source.docs.encodedValues()) target.insert(decodeDocument(bytes), bytes);
      this.dbs.get(db)?.delete(from);
    } finally {
      this.journaling = wasJournaling;
    }
    this.record({ op: 'rc', ns: `${db}.${from}`, to: `${toDb}.${to}` });
  }

  /**
   * Applies one journal record during replay (no re-journaling). For `i`/`u` records the journal may pass
   * the document as its BSON bytes (`encodedDoc`) instead of `record.doc`.
   */
  replay(record: Document, encodedDoc?: Uint8Array): void {
    // Runs of new documents for one collection (the bulk of a journal) skip the namespace lookup.
    if (encodedDoc && record.op === 'i' && record.ns === this.replayNs && this.replayColl?.loadEncoded(toBuffer(encodedDoc))) return;
    this.replayNs = undefined;
    this.replayColl = undefined;
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
          if (encodedDoc && coll.loadEncoded(toBuffer(encodedDoc))) {
            this.replayNs = record.ns;
            this.replayColl = coll;
            break;
          }
          const doc: Document = encodedDoc ? decodeDocument(encodedDoc) : record.doc;
          const existing = coll.getById(doc._id);
          if (existing) coll.replace(existing, doc);
          else coll.insert(doc, encodedDoc);
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

  /** Ends journal replay: indexes bulk-loaded by it get their final shape (see IndexManager.settle). */
  finishReplay(): void {
    this.replayNs = undefined;
    this.replayColl = undefined;
    for (const colls of this.dbs.values()) for (const coll of colls.values()) coll.indexes.settle();
  }

  /**
   * Records that recreate the current state (used to compact the journal). Insert records come as their
   * BSON bytes (`{ op: 'i', ns, doc }`, built from the stored bytes without decoding them).
   */
  *snapshot(): Generator<JournalRecord | Uint8Array> {
    for (const [db, colls] of this.dbs) {
      for (const coll of colls.values()) {
        yield { op: 'cc', ns: `${db}.${coll.name}`, options: coll.options };
        for (const spec of coll.indexes.specs()) if (spec.name !== '_id_') yield { op: 'ci', ns: coll.ns, spec };
        for (const bytes of coll.docs.encodedValues()) yield encodeDocumentRecord('i', coll.ns, bytes);
      }
    }
  }

  /** About the size of a snapshot, in bytes (without building it): documents' BSON plus record framing. */
  get liveBytes(): number {
    let bytes = 0;
    for (const [db, colls] of this.dbs) {
      for (const coll of colls.values()) {
        const ns = Buffer.byteLength(`${db}.${coll.name}`);
        bytes += coll.docs.encodedBytes + coll.docs.size * (ns + 24) + 256 * (1 + coll.indexes.count);
      }
    }
    return bytes;
  }

  get documentCount(): number {
    let n = 0;
    for (const colls of this.dbs.values()) for (const c of colls.values()) n += c.docs.size;
    return n;
  }
}

export { normalizeIndexSpec };

/**
 * The BSON bytes of the journal record `{ op, ns, doc }` with `doc` given as BSON bytes — the same bytes
 * `serialize({ op, ns, doc: decodeDocument(doc) })` gives, without decoding or re-encoding the document.
 */
export function encodeDocumentRecord(op: 'i' | 'u', ns: string, doc: Uint8Array): Buffer {
  const nsBytes = Buffer.byteLength(ns);
  // int32 size | 0x02 "op\0" int32 2 op "\0" | 0x02 "ns\0" int32 n+1 ns "\0" | 0x03 "doc\0" doc | 0x00
  const size = 4 + (1 + 3 + 4 + 2) + (1 + 3 + 4 + nsBytes + 1) + (1 + 4) + doc.byteLength + 1;
  const out = Buffer.allocUnsafe(size);
  let at = out.writeInt32LE(size, 0);
  at = out.writeUInt8(0x02, at);
  at += out.write('op\0', at, 'latin1');
  at = out.writeInt32LE(2, at);
  at += out.write(`${op}\0`, at, 'latin1');
  at = out.writeUInt8(0x02, at);
  at += out.write('ns\0', at, 'latin1');
  at = out.writeInt32LE(nsBytes + 1, at);
  at += out.write(ns, at, 'utf8');
  at = out.writeUInt8(0, at);
  at = out.writeUInt8(0x03, at);
  at += out.write('doc\0', at, 'latin1');
  out.set(doc, at);
  at += doc.byteLength;
  out.writeUInt8(0, at);
  return out;
}

/**
 * Reads a journal record of the form `{ op: 'i' | 'u', ns, doc }` (fields in that order, as written by
 * encodeDocumentRecord and by serializing such a record) without decoding `doc`; undefined for any other record.
 */
export function parseDocumentRecord(record: Buffer): { op: 'i' | 'u'; ns: string; doc: Buffer } | undefined {
  // 0x02 "op\0" int32 2 ("i"|"u") "\0"
  if (record.length < 32 || record[4] !== 0x02 || record[5] !== 0x6f || record[6] !== 0x70 || record[7] !== 0) return undefined;
  if (record.readInt32LE(8) !== 2 || record[13] !== 0) return undefined;
  const opCode = record[12];
  if (opCode !== 0x69 && opCode !== 0x75) return undefined;
  let at = 14;
  if (record[at] !== 0x02 || record[at + 1] !== 0x6e || record[at + 2] !== 0x73 || record[at + 3] !== 0) return undefined;
  const nsLength = record.readInt32LE(at + 4);
  at += 8;
  if (nsLength < 1 || at + nsLength > record.length || record[at + nsLength - 1] !== 0) return undefined;
  const ns = record.toString('utf8', at, at + nsLength - 1);
  at += nsLength;
  if (record[at] !== 0x03 || record[at + 1] !== 0x64 || record[at + 2] !== 0x6f || record[at + 3] !== 0x63 || record[at + 4] !== 0) return undefined;
  at += 5;
  if (at + 5 > record.length) return undefined;
  const docSize = record.readInt32LE(at);
  // The document must end exactly one byte (the record's terminator) before the record does.
  if (docSize < 5 || at + docSize + 1 !== record.length || record[at + docSize - 1] !== 0) return undefined;
  return { op: opCode === 0x69 ? 'i' : 'u', ns, doc: record.subarray(at, at + docSize) };
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

const fieldNameBytes = new WeakMap<readonly string[], Buffer[]>();

/** Size of a BSON element's value starting at `at`, or -1 for an unknown type. */
function int32At(b: Buffer, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

function bsonValueSize(b: Buffer, type: number, at: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // code
    case 0x0e: // symbol
      return 4 + int32At(b, at);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return int32At(b, at);
    case 0x05: // binary
      return 5 + int32At(b, at);
    case 0x06: // undefined
    case 0x0a: // null
    case 0xff: // min key
    case 0x7f: // max key
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // boolean
      return 1;
    case 0x0b: {
      // regex: two cstrings
      const patternEnd = b.indexOf(0, at);
      const flagsEnd = patternEnd < 0 ? -1 : b.indexOf(0, patternEnd + 1);
      return flagsEnd < 0 ? -1 : flagsEnd + 1 - at;
    }
    case 0x0c: // DBPointer
      return 4 + int32At(b, at) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      return -1;
  }
}

/**
 * The top-level fields `names` of a BSON document, decoded (values exactly as decodeDocument gives them) without
 * decoding the other fields; undefined when the document's first field is not `_id` or its bytes do not parse.
 * Common scalar types are read here; any other picked field goes through the BSON decoder in a small document.
 */
export function decodeTopLevelFields(bytes: Buffer, names: readonly string[]): Document | undefined {
  let wanted = fieldNameBytes.get(names);
  if (!wanted) {
    wanted = names.map((n) => Buffer.from(n, 'utf8'));
    fieldNameBytes.set(names, wanted);
  }
  const end = bytes.length - 1;
  if (end < 4 || bytes.readInt32LE(0) !== bytes.length || bytes[end] !== 0) return undefined;
  // The first element must be `_id` (0x5f 0x69 0x64), as Collection.withId stores it.
  if (end < 9 || bytes[5] !== 0x5f || bytes[6] !== 0x69 || bytes[7] !== 0x64 || bytes[8] !== 0) return undefined;
  if (wanted.length > 30) return undefined;
  const out: Document = {};
  let seen = 0;
  let rest: number[] | undefined;
  let restBytes = 0;
  let at = 4;
  while (at < end) {
    const type = bytes[at]!;
    // Field names are short: a plain loop beats a native indexOf call here.
    let nameEnd = at + 1;
    while (nameEnd < end && bytes[nameEnd] !== 0) nameEnd++;
    if (nameEnd >= end) return undefined;
    const value = nameEnd + 1;
    const size = bsonValueSize(bytes, type, value);
    const next = value + size;
    if (size < 0 || next > end) return undefined;
    const nameLength = nameEnd - at - 1;
    for (let w = 0; w < wanted.length; w++) {
      const name = wanted[w]!;
      if (name.length !== nameLength) continue;
      let same = true;
      for (let k = 0; k < nameLength; k++) {
        if (name[k] !== bytes[at + 1 + k]) {
          same = false;
          break;
        }
      }
      if (!same) continue;
      // A repeated field name: leave it to the full decoder.
      if (seen & (1 << w)) return undefined;
      seen |= 1 << w;
      const key = names[w]!;
      switch (type) {
        case 0x02:
          out[key] = bytes.toString('utf8', value + 4, next - 1);
          break;
        case 0x07: {
          const id = Buffer.allocUnsafe(12);
          bytes.copy(id, 0, value, next);
          out[key] = new ObjectId(id);
          break;
        }
        case 0x09:
          out[key] = new Date(bytes.readInt32LE(value + 4) * 4294967296 + bytes.readUInt32LE(value));
          break;
        case 0x10:
          out[key] = bytes.readInt32LE(value);
          break;
        case 0x01:
          out[key] = bytes.readDoubleLE(value);
          break;
        case 0x08:
          out[key] = bytes[value] === 1;
          break;
        case 0x0a:
          out[key] = null;
          break;
        default:
          (rest ??= []).push(at, next);
          restBytes += next - at;
      }
      break;
    }
    at = next;
  }
  if (at !== end) return undefined;
  if (rest) {
    const mini = Buffer.allocUnsafe(restBytes + 5);
    mini.writeInt32LE(restBytes + 5, 0);
    let w = 4;
    for (let i = 0; i < rest.length; i += 2) w += bytes.copy(mini, w, rest[i]!, rest[i + 1]!);
    mini[w] = 0;
    Object.assign(out, decodeDocument(mini));
  }
  return out;
}
