// In-memory databases and their collections (see collection.ts), the journal a store writes its mutations to,
// and the replay of that journal.
import type { Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error';
import { Collection } from './collection';
import { decodeDocument } from './document-map';
import { encodeDocumentRecord, type JournalRecord, type JournalSink, type MutationJournal } from './journal-records';
import { toBuffer } from './wire-protocol';

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

export class Store implements MutationJournal {
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
