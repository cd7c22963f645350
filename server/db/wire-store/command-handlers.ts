// Command dispatch: one function per MongoDB command the store supports. Each command runs to completion
// synchronously (one thread), so every command is atomic with respect to the others.
import os from 'node:os';
import { Long, type Document } from 'bson';
import { find as mingoFind, Aggregator } from 'mingo';
import { canonicalKey, cloneValue, isPlainObject, pathValues, EMPTY_ARRAY } from './bson-values';
import { CommandError, ErrorCodes, notSupported } from './command-error';
import { Collection, Store, validateCollectionName, validateDbName } from './collection-store';
import { CursorManager } from './cursor-manager';
import { normalizeIndexSpec, type IndexSpec } from './index-manager';
import { checkPipeline, compileFilter, mingoOptions, refuseCollation, runPipeline, type CollectionResolver } from './query-engine';
import { applyUpdate, isReplacement, upsertSeed, validateUpdate, type UpdateSpec } from './update-engine';
import { MAX_BSON_OBJECT_SIZE, MAX_MESSAGE_SIZE } from './wire-protocol';

export interface Logger {
  info(...args: any[]): void;
  warn(...args: any[]): void;
  error(...args: any[]): void;
}

export interface ConnectionInfo {
  id: number;
  remote: string;
}

const MAX_WRITE_BATCH_SIZE = 100_000;
const MAX_WIRE_VERSION = 21;
const STARTED_AT = Date.now();

type Handler = (db: string, cmd: Document, conn: ConnectionInfo) => Document;

function asNumber(v: unknown, name: string, fallback?: number): number | undefined {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v;
  if (v instanceof Long) return v.toNumber();
  if (typeof v === 'bigint') return Number(v);
  throw new CommandError(ErrorCodes.TypeMismatch, `'${name}' must be a number`);
}

function asBool(v: unknown): boolean {
  return v === true || v === 1 || (typeof v === 'number' && v !== 0);
}

function collectionArg(cmd: Document, name: string): string {
  return validateCollectionName(cmd[name]);
}

function optionalObject(v: unknown, name: string): Document | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isPlainObject(v)) throw new CommandError(ErrorCodes.TypeMismatch, `'${name}' must be an object`);
  return v;
}

function validateSort(sort: Document | undefined): Document | undefined {
  if (!sort) return undefined;
  const out: Document = {};
  for (const key of Object.keys(sort)) {
    const dir = sort[key];
    if (key === '$natural') continue;
    if (isPlainObject(dir)) throw notSupported('Sorting by $meta');
    const n = typeof dir === 'number' ? dir : dir instanceof Long ? dir.toNumber() : NaN;
    if (n !== 1 && n !== -1) throw new CommandError(ErrorCodes.BadValue, `$sort key ordering must be 1 (for ascending) or -1 (for descending)`);
    out[key] = n;
  }
  return Object.keys(out).length ? out : undefined;
}

function writeErrorOf(index: number, err: unknown): Document {
  if (err instanceof CommandError) return { index, code: err.code, errmsg: err.message, ...err.extra };
  return { index, code: ErrorCodes.InternalError, errmsg: (err as Error)?.message ?? String(err) };
}

export class CommandHandlers {
  private readonly handlers: Record<string, Handler>;

  constructor(
    private readonly store: Store,
    private readonly cursors: CursorManager,
    private readonly logger?: Logger,
    private readonly afterWrite?: () => void,
  ) {
    const h: Record<string, Handler> = {
      hello: (db, cmd, conn) => this.hello(conn),
      isMaster: (db, cmd, conn) => this.hello(conn),
      ismaster: (db, cmd, conn) => this.hello(conn),
      ping: () => ({ ok: 1 }),
      buildInfo: () => this.buildInfo(),
      buildinfo: () => this.buildInfo(),
      getParameter: (db, cmd) => this.getParameter(cmd),
      hostInfo: () => this.hostInfo(),
      serverStatus: () => this.serverStatus(),
      whatsmyuri: (db, cmd, conn) => ({ you: conn.remote, ok: 1 }),
      connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
      getLog: () => ({ log: [], totalLinesWritten: 0, ok: 1 }),
      getCmdLineOpts: () => ({ argv: ['wire-store'], parsed: {}, ok: 1 }),
      getFreeMonitoringStatus: () => ({ state: 'disabled', ok: 1 }),
      dbStats: (db) => this.dbStats(db),
      collStats: (db, cmd) => this.collStats(db, cmd),
      create: (db, cmd) => this.create(db, cmd),
      drop: (db, cmd) => this.drop(db, cmd),
      dropDatabase: (db) => this.dropDatabase(db),
      renameCollection: (db, cmd) => this.renameCollection(db, cmd),
      listCollections: (db, cmd) => this.listCollections(db, cmd),
      listDatabases: (db, cmd) => this.listDatabases(cmd),
      createIndexes: (db, cmd) => this.createIndexes(db, cmd),
      listIndexes: (db, cmd) => this.listIndexes(db, cmd),
      dropIndexes: (db, cmd) => this.dropIndexes(db, cmd),
      deleteIndexes: (db, cmd) => this.dropIndexes(db, cmd),
      insert: (db, cmd) => this.insert(db, cmd),
      update: (db, cmd) => this.update(db, cmd),
      delete: (db, cmd) => this.delete(db, cmd),
      findAndModify: (db, cmd) => this.findAndModify(db, cmd),
      findandmodify: (db, cmd) => this.findAndModify(db, cmd),
      find: (db, cmd) => this.find(db, cmd),
      getMore: (db, cmd) => this.getMore(db, cmd),
      killCursors: (db, cmd) => this.cursors.kill(Array.isArray(cmd.cursors) ? cmd.cursors : []),
      aggregate: (db, cmd) => this.aggregate(db, cmd),
      count: (db, cmd) => this.count(db, cmd),
      distinct: (db, cmd) => this.distinct(db, cmd),
      endSessions: () => ({ ok: 1 }),
      killAllSessions: () => ({ ok: 1 }),
      killAllSessionsByPattern: () => ({ ok: 1 }),
      killSessions: () => ({ ok: 1 }),
      refreshSessions: () => ({ ok: 1 }),
      startSession: () => {
        throw notSupported('Sessions');
      },
      abortTransaction: () => {
        throw new CommandError(ErrorCodes.IllegalOperation, 'Transactions are not supported by the built-in wire store (no replica set)');
      },
      commitTransaction: () => {
        throw new CommandError(ErrorCodes.IllegalOperation, 'Transactions are not supported by the built-in wire store (no replica set)');
      },
    };
    this.handlers = h;
  }

  /** Runs one command and returns its reply (never throws). */
  handle(db: string, cmd: Document, conn: ConnectionInfo): Document {
    const name = Object.keys(cmd)[0];
    try {
      if (!name) throw new CommandError(ErrorCodes.FailedToParse, 'empty command');
      const handler = Object.prototype.hasOwnProperty.call(this.handlers, name) ? this.handlers[name] : undefined;
      if (!handler) {
        throw new CommandError(ErrorCodes.CommandNotFound, `no such command: '${name}'`);
      }
      if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
        throw new CommandError(ErrorCodes.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
      }
      return handler(validateDbName(db), cmd, conn);
    } catch (err) {
      if (err instanceof CommandError) return err.toReply();
      this.logger?.error({ err, command: name }, 'wire-store: command failed unexpectedly');
      return new CommandError(ErrorCodes.InternalError, (err as Error)?.message ?? String(err)).toReply();
    }
  }

  // ---- server / handshake -------------------------------------------------------------------------

  hello(conn: ConnectionInfo): Document {
    // No logicalSessionTimeoutMinutes: the driver then sends no lsid and refuses transactions client-side.
    return {
      helloOk: true,
      ismaster: true,
      isWritablePrimary: true,
      maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
      maxMessageSizeBytes: MAX_MESSAGE_SIZE,
      maxWriteBatchSize: MAX_WRITE_BATCH_SIZE,
      localTime: new Date(),
      connectionId: conn.id,
      minWireVersion: 0,
      maxWireVersion: MAX_WIRE_VERSION,
      readOnly: false,
      ok: 1,
    };
  }

  private buildInfo(): Document {
    return {
      version: '7.0.0',
      gitVersion: 'agent-host-wire-store',
      versionArray: [7, 0, 0, 0],
      bits: 64,
      debug: false,
      maxBsonObjectSize: MAX_BSON_OBJECT_SIZE,
      storageEngines: ['wire-store'],
      javascriptEngine: 'none',
      modules: [],
      ok: 1,
    };
  }

  private getParameter(cmd: Document): Document {
    const out: Document = {};
    if (cmd.featureCompatibilityVersion !== undefined || cmd.getParameter === '*') {
      out.featureCompatibilityVersion = { version: '7.0' };
    }
    return { ...out, ok: 1 };
  }

  private hostInfo(): Document {
    return {
      system: {
        currentTime: new Date(),
        hostname: os.hostname(),
        cpuAddrSize: 64,
        memSizeMB: Math.round(os.totalmem() / 2 ** 20),
        numCores: os.cpus().length,
        cpuArch: os.arch(),
      },
      os: { type: os.type(), name: os.platform(), version: os.release() },
      extra: {},
      ok: 1,
    };
  }

  private serverStatus(): Document {
    return {
      host: os.hostname(),
      version: '7.0.0',
      process: 'agent-host-wire-store',
      pid: Long.fromNumber(process.pid),
      uptime: (Date.now() - STARTED_AT) / 1000,
      localTime: new Date(),
      ok: 1,
    };
  }

  private dbStats(db: string): Document {
    const colls = this.store.collections(db);
    const objects = colls.reduce((n, c) => n + c.docs.size, 0);
    const dataSize = colls.reduce((n, c) => n + c.approximateSize, 0);
    return {
      db,
      collections: colls.length,
      views: 0,
      objects,
      avgObjSize: objects ? dataSize / objects : 0,
      dataSize,
      storageSize: dataSize,
      indexes: colls.reduce((n, c) => n + 1 + c.indexes.count, 0),
      indexSize: 0,
      ok: 1,
    };
  }

  private collStats(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'collStats');
    const coll = this.store.get(db, name);
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `Collection [${db}.${name}] not found.`);
    return { ns: coll.ns, count: coll.docs.size, size: coll.approximateSize, storageSize: coll.approximateSize, nindexes: 1 + coll.indexes.count, ok: 1 };
  }

  // ---- collections / databases --------------------------------------------------------------------

  private create(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'create');
    for (const opt of ['viewOn', 'timeseries', 'clusteredIndex', 'capped', 'changeStreamPreAndPostImages', 'encryptedFields']) {
      if (cmd[opt] !== undefined && cmd[opt] !== false) throw notSupported(`The create option '${opt}'`);
    }
    refuseCollation(cmd);
    const options: Document = {};
    for (const key of ['validator', 'validationLevel', 'validationAction']) if (cmd[key] !== undefined) options[key] = cmd[key];
    if (this.store.get(db, name)) throw new CommandError(ErrorCodes.NamespaceExists, `Collection ${db}.${name} already exists.`);
    this.store.create(db, name, options);
    return { ok: 1 };
  }

  private drop(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'drop');
    const coll = this.store.get(db, name);
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, 'ns not found');
    const nIndexesWas = 1 + coll.indexes.count;
    this.store.drop(db, name);
    return { nIndexesWas, ns: `${db}.${name}`, ok: 1 };
  }

  private dropDatabase(db: string): Document {
    this.store.dropDatabase(db);
    return { dropped: db, ok: 1 };
  }

  private renameCollection(db: string, cmd: Document): Document {
    if (db !== 'admin') throw new CommandError(ErrorCodes.IllegalOperation, 'renameCollection may only be run against the admin database.');
    const split = (ns: unknown): [string, string] => {
      if (typeof ns !== 'string' || !ns.includes('.')) throw new CommandError(ErrorCodes.InvalidNamespace, `Invalid namespace specified '${String(ns)}'`);
      const dot = ns.indexOf('.');
      return [ns.slice(0, dot), ns.slice(dot + 1)];
    };
    const [fromDb, from] = split(cmd.renameCollection);
    const [toDb, to] = split(cmd.to);
    this.store.rename(fromDb, from, toDb, to, asBool(cmd.dropTarget));
    return { ok: 1 };
  }

  private listCollections(db: string, cmd: Document): Document {
    const filter = compileFilter(optionalObject(cmd.filter, 'filter') ?? {});
    const nameOnly = asBool(cmd.nameOnly);
    const docs: Document[] = [];
    for (const coll of this.store.collections(db)) {
      const full: Document = {
        name: coll.name,
        type: 'collection',
        options: coll.options,
        info: { readOnly: false },
        idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
      };
      if (!filter.test(full)) continue;
      docs.push(nameOnly ? { name: coll.name, type: 'collection' } : full);
    }
    const batchSize = asNumber(isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined, 'batchSize');
    return this.cursors.open(`${db}.$cmd.listCollections`, docs, batchSize ?? Infinity);
  }

  private listDatabases(cmd: Document): Document {
    const filter = compileFilter(optionalObject(cmd.filter, 'filter') ?? {});
    const dbs: Document[] = [];
    let total = 0;
    for (const name of this.store.databaseNames()) {
      const size = this.store.collections(name).reduce((n, c) => n + c.approximateSize, 0);
      const entry = { name, sizeOnDisk: size, empty: size === 0 };
      if (!filter.test(entry)) continue;
      total += size;
      dbs.push(asBool(cmd.nameOnly) ? { name } : entry);
    }
    return asBool(cmd.nameOnly) ? { databases: dbs, ok: 1 } : { databases: dbs, totalSize: total, totalSizeMb: Math.round(total / 2 ** 20), ok: 1 };
  }

  // ---- indexes ------------------------------------------------------------------------------------

  private createIndexes(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'createIndexes');
    if (!Array.isArray(cmd.indexes) || cmd.indexes.length === 0) {
      throw new CommandError(ErrorCodes.BadValue, "Must specify at least one index to create");
    }
    const specs: IndexSpec[] = cmd.indexes.map((raw: unknown) => normalizeIndexSpec(raw));
    const existed = this.store.get(db, name);
    const coll = existed ?? this.store.getOrCreate(db, name);
    const before = 1 + coll.indexes.count;
    // Validate every spec first (conflicts with existing indexes and with each other).
    const seen = new Map<string, IndexSpec>();
    for (const spec of specs) {
      coll.indexes.check(spec);
      const prior = seen.get(spec.name);
      if (prior && canonicalKey(prior) !== canonicalKey(spec)) {
        throw new CommandError(ErrorCodes.IndexKeySpecsConflict, `Index with name: ${spec.name} specified twice with different specs`);
      }
      seen.set(spec.name, spec);
    }
    const created: string[] = [];
    try {
      for (const spec of seen.values()) {
        if (coll.createIndex(spec) === 'created') created.push(spec.name);
      }
    } catch (err) {
      for (const n of created) coll.dropIndex(n);
      throw err;
    }
    const reply: Document = {
      numIndexesBefore: before,
      numIndexesAfter: 1 + coll.indexes.count,
      createdCollectionAutomatically: !existed,
      ok: 1,
    };
    if (created.length === 0) reply.note = 'all indexes already exist';
    return reply;
  }

  private listIndexes(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'listIndexes');
    const coll = this.store.get(db, name);
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns does not exist: ${db}.${name}`);
    const batchSize = asNumber(isPlainObject(cmd.cursor) ? cmd.cursor.batchSize : undefined, 'batchSize');
    return this.cursors.open(`${db}.${name}`, coll.indexes.specs().map((s) => cloneValue(s)), batchSize ?? Infinity);
  }

  private dropIndexes(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, Object.keys(cmd)[0]!);
    const coll = this.store.get(db, name);
    if (!coll) throw new CommandError(ErrorCodes.NamespaceNotFound, `ns not found ${db}.${name}`);
    const nIndexesWas = 1 + coll.indexes.count;
    const target = cmd.index;
    if (target === '*') {
      for (const spec of coll.indexes.specs()) if (spec.name !== '_id_') coll.dropIndex(spec.name);
    } else if (typeof target === 'string') {
      coll.dropIndex(target);
    } else if (Array.isArray(target)) {
      for (const n of target) if (!coll.indexes.find(String(n))) throw new CommandError(ErrorCodes.IndexNotFound, `index not found with name [${String(n)}]`);
      for (const n of target) coll.dropIndex(String(n));
    } else if (isPlainObject(target)) {
      const matches = coll.indexes.findByKey(target);
      if (matches.length === 0) throw new CommandError(ErrorCodes.IndexNotFound, `can't find index with key: ${JSON.stringify(target)}`);
      if (matches.length > 1) throw new CommandError(ErrorCodes.IndexNotFound /* AmbiguousIndexKeyPattern */, 'index key pattern matches more than one index');
      coll.dropIndex(matches[0]!.name);
    } else {
      throw new CommandError(ErrorCodes.TypeMismatch, "'index' must be a string, an array of strings or an object");
    }
    return { nIndexesWas, ok: 1 };
  }

  // ---- writes -------------------------------------------------------------------------------------

  private resolver(db: string): CollectionResolver {
    return (name: string) => {
      const coll = this.store.get(db, name);
      return coll ? cloneValue([...coll.docs.values()]) : [];
    };
  }

  private insert(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'insert');
    const docs = cmd.documents;
    if (!Array.isArray(docs)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'insert.documents' is missing but a required field");
    const ordered = cmd.ordered !== false;
    const coll = this.store.getOrCreate(db, name);
    let n = 0;
    const writeErrors: Document[] = [];
    for (let i = 0; i < docs.length; i++) {
      try {
        const doc = docs[i];
        if (!isPlainObject(doc)) throw new CommandError(ErrorCodes.TypeMismatch, 'document to insert must be an object');
        coll.insert(doc);
        n++;
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    this.afterWrite?.();
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  private update(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'update');
    const updates = cmd.updates;
    if (!Array.isArray(updates)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'update.updates' is missing but a required field");
    const ordered = cmd.ordered !== false;
    const coll = this.store.getOrCreate(db, name);
    const resolver = this.resolver(db);
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const writeErrors: Document[] = [];
    for (let i = 0; i < updates.length; i++) {
      try {
        const stmt = updates[i];
        if (!isPlainObject(stmt)) throw new CommandError(ErrorCodes.TypeMismatch, 'update statement must be an object');
        refuseCollation(stmt);
        const filterDoc = optionalObject(stmt.q, 'q') ?? {};
        const filter = compileFilter(filterDoc, resolver);
        const u = validateUpdate(stmt.u);
        const multi = asBool(stmt.multi);
        if (multi && isReplacement(u)) throw new CommandError(ErrorCodes.FailedToParse, 'multi update is not supported for replacement-style update');
        const arrayFilters = Array.isArray(stmt.arrayFilters) ? (stmt.arrayFilters as Document[]) : undefined;
        const sort = validateSort(optionalObject(stmt.sort, 'sort'));
        let matches = multi ? coll.match(filter) : sort ? coll.match(filter) : coll.match(filter, 1);
        if (!multi && sort) matches = sortDocs(matches, sort).slice(0, 1);
        if (matches.length === 0) {
          if (asBool(stmt.upsert)) {
            const doc = this.upsertDocument(filterDoc, u, arrayFilters);
            const stored = coll.insert(doc);
            upserted.push({ index: i, _id: stored._id });
            n++;
          }
          continue;
        }
        for (const match of matches) {
          const result = applyUpdate(match, u, { filter: filterDoc, arrayFilters });
          if (result.changed) {
            coll.replace(match, result.doc);
            nModified++;
          }
          n++;
        }
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    this.afterWrite?.();
    const reply: Document = { n, nModified };
    if (upserted.length) reply.upserted = upserted;
    if (writeErrors.length) reply.writeErrors = writeErrors;
    reply.ok = 1;
    return reply;
  }

  private upsertDocument(filterDoc: Document, u: UpdateSpec, arrayFilters?: Document[]): Document {
    const seed = upsertSeed(filterDoc);
    if (isReplacement(u)) {
      const base: Document = seed._id !== undefined ? { _id: seed._id } : {};
      return Collection.withId(applyUpdate(base, u, { inserting: true }).doc);
    }
    const result = applyUpdate(seed, u, { filter: filterDoc, arrayFilters, inserting: true });
    return Collection.withId(result.doc);
  }

  private delete(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'delete');
    const deletes = cmd.deletes;
    if (!Array.isArray(deletes)) throw new CommandError(ErrorCodes.FailedToParse, "BSON field 'delete.deletes' is missing but a required field");
    const ordered = cmd.ordered !== false;
    const coll = this.store.get(db, name);
    const resolver = this.resolver(db);
    let n = 0;
    const writeErrors: Document[] = [];
    for (let i = 0; i < deletes.length; i++) {
      try {
        const stmt = deletes[i];
        if (!isPlainObject(stmt)) throw new CommandError(ErrorCodes.TypeMismatch, 'delete statement must be an object');
        refuseCollation(stmt);
        const filter = compileFilter(optionalObject(stmt.q, 'q') ?? {}, resolver);
        const limit = asNumber(stmt.limit, 'limit', 0)!;
        if (limit !== 0 && limit !== 1) throw new CommandError(ErrorCodes.BadValue, 'The limit field in delete objects must be 0 or 1');
        if (!coll) continue;
        for (const doc of coll.match(filter, limit)) {
          coll.remove(doc);
          n++;
        }
      } catch (err) {
        writeErrors.push(writeErrorOf(i, err));
        if (ordered) break;
      }
    }
    this.afterWrite?.();
    return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
  }

  private findAndModify(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, Object.keys(cmd)[0]!);
    refuseCollation(cmd);
    const resolver = this.resolver(db);
    const filterDoc = optionalObject(cmd.query, 'query') ?? {};
    const filter = compileFilter(filterDoc, resolver);
    const sort = validateSort(optionalObject(cmd.sort, 'sort'));
    const fields = optionalObject(cmd.fields, 'fields');
    const remove = asBool(cmd.remove);
    const returnNew = asBool(cmd.new);
    const upsert = asBool(cmd.upsert);
    if (remove && (cmd.update !== undefined || returnNew || upsert)) {
      throw new CommandError(ErrorCodes.FailedToParse, 'Cannot specify both an update and remove=true');
    }
    if (!remove && cmd.update === undefined) throw new CommandError(ErrorCodes.FailedToParse, 'Either an update or remove=true must be specified');
    const coll = remove ? this.store.get(db, name) : this.store.getOrCreate(db, name);
    let target: Document | undefined;
    if (coll) {
      if (sort) target = sortDocs(coll.match(filter), sort)[0];
      else target = coll.match(filter, 1)[0];
    }
    const project = (doc: Document | null | undefined): Document | null => {
      if (!doc) return null;
      if (!fields || Object.keys(fields).length === 0) return doc;
      return projectDocs([doc], fields, filterDoc)[0] ?? null;
    };
    if (remove) {
      if (target && coll) coll.remove(target);
      this.afterWrite?.();
      return { lastErrorObject: { n: target ? 1 : 0 }, value: project(target), ok: 1 };
    }
    const u = validateUpdate(cmd.update);
    const arrayFilters = Array.isArray(cmd.arrayFilters) ? (cmd.arrayFilters as Document[]) : undefined;
    if (target && coll) {
      const result = applyUpdate(target, u, { filter: filterDoc, arrayFilters });
      const after = result.changed ? coll.replace(target, result.doc) : target;
      this.afterWrite?.();
      return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(returnNew ? after : target), ok: 1 };
    }
    if (upsert && coll) {
      const stored = coll.insert(this.upsertDocument(filterDoc, u, arrayFilters));
      this.afterWrite?.();
      return { lastErrorObject: { n: 1, updatedExisting: false, upserted: stored._id }, value: returnNew ? project(stored) : null, ok: 1 };
    }
    return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  }

  // ---- reads --------------------------------------------------------------------------------------

  private find(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'find');
    refuseCollation(cmd);
    if (cmd.tailable) throw notSupported('Tailable cursors');
    if (cmd.min !== undefined || cmd.max !== undefined) throw notSupported('find min/max');
    const filterDoc = optionalObject(cmd.filter, 'filter') ?? {};
    const filter = compileFilter(filterDoc, this.resolver(db));
    const sort = validateSort(optionalObject(cmd.sort, 'sort'));
    const projection = optionalObject(cmd.projection, 'projection');
    const skip = asNumber(cmd.skip, 'skip', 0)!;
    let limit = asNumber(cmd.limit, 'limit', 0)!;
    const batchSize = asNumber(cmd.batchSize, 'batchSize');
    let singleBatch = asBool(cmd.singleBatch);
    if (skip < 0) throw new CommandError(ErrorCodes.BadValue, 'skip value must be non-negative');
    if (limit < 0) {
      limit = -limit;
      singleBatch = true;
    }
    if (batchSize !== undefined && batchSize < 0) throw new CommandError(ErrorCodes.BadValue, 'batchSize value must be non-negative');
    const coll = this.store.get(db, name);
    let docs: Document[] = [];
    if (coll) {
      const early = !sort && limit > 0 ? skip + limit : 0;
      docs = coll.match(filter, early);
      if (sort) docs = sortDocs(docs, sort);
      if (skip > 0) docs = docs.slice(skip);
      if (limit > 0) docs = docs.slice(0, limit);
      if (projection && Object.keys(projection).length > 0) docs = projectDocs(docs, projection, filterDoc);
    }
    return this.cursors.open(`${db}.${name}`, docs, batchSize, singleBatch);
  }

  private getMore(db: string, cmd: Document): Document {
    const collection = collectionArg(cmd, 'collection');
    const batchSize = asNumber(cmd.batchSize, 'batchSize');
    return this.cursors.getMore(cmd.getMore, `${db}.${collection}`, batchSize && batchSize > 0 ? batchSize : undefined);
  }

  private aggregate(db: string, cmd: Document): Document {
    const target = cmd.aggregate;
    refuseCollation(cmd);
    if (cmd.explain) throw notSupported('explain');
    const pipeline = checkPipeline(cmd.pipeline);
    if (!isPlainObject(cmd.cursor)) {
      throw new CommandError(ErrorCodes.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
    }
    const batchSize = asNumber(cmd.cursor.batchSize, 'batchSize');
    const resolver = this.resolver(db);
    let input: Document[] = [];
    let ns: string;
    if (target === 1) {
      ns = `${db}.$cmd.aggregate`;
    } else {
      const name = validateCollectionName(target);
      ns = `${db}.${name}`;
      const coll = this.store.get(db, name);
      if (coll) {
        const first = pipeline[0];
        if (first && isPlainObject(first.$match)) {
          const filter = compileFilter(first.$match, resolver);
          input = [...coll.candidates(filter)];
        } else {
          input = [...coll.docs.values()];
        }
      }
    }
    const variables = optionalObject(cmd.let, 'let');
    const out = runPipeline(input, pipeline, resolver, variables);
    return this.cursors.open(ns, out, batchSize);
  }

  private count(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'count');
    refuseCollation(cmd);
    const coll = this.store.get(db, name);
    if (!coll) return { n: 0, ok: 1 };
    const query = optionalObject(cmd.query, 'query') ?? {};
    const skip = Math.max(0, asNumber(cmd.skip, 'skip', 0)!);
    const limit = Math.abs(asNumber(cmd.limit, 'limit', 0)!);
    let n: number;
    if (Object.keys(query).length === 0) n = coll.docs.size;
    else n = coll.match(compileFilter(query, this.resolver(db))).length;
    n = Math.max(0, n - skip);
    if (limit > 0) n = Math.min(n, limit);
    return { n, ok: 1 };
  }

  private distinct(db: string, cmd: Document): Document {
    const name = collectionArg(cmd, 'distinct');
    refuseCollation(cmd);
    const key = cmd.key;
    if (typeof key !== 'string' || !key) throw new CommandError(ErrorCodes.TypeMismatch, "'key' must be a non-empty string");
    const coll = this.store.get(db, name);
    const values: unknown[] = [];
    if (coll) {
      const filter = compileFilter(optionalObject(cmd.query, 'query') ?? {}, this.resolver(db));
      const seen = new Set<string>();
      for (const doc of coll.match(filter)) {
        for (const v of pathValues(doc, key)) {
          if (v === undefined || v === EMPTY_ARRAY) continue;
          const k = canonicalKey(v);
          if (seen.has(k)) continue;
          seen.add(k);
          values.push(v);
        }
      }
    }
    return { values, ok: 1 };
  }
}

/** Sorts with mingo's $sort (MongoDB ordering, arrays by min/max element) without copying documents. */
function sortDocs(docs: Document[], sort: Document): Document[] {
  try {
    return new Aggregator([{ $sort: sort }], mingoOptions()).run(docs) as Document[];
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}

/** An inclusion projection as a tree: `true` keeps a field whole, a subtree keeps some of its sub-fields. */
interface InclusionTree {
  [field: string]: true | InclusionTree;
}

/**
 * `{ a: 1, 'b.c': 1 }` — inclusion only, plain (dotted) field names, `_id` kept or dropped — is what the platform's
 * reads use; it is picked directly (in document order, `_id` first, as MongoDB does), ~20× faster than mingo's general
 * projection. Anything else (exclusion, operators, positional) goes to mingo.
 */
function simpleInclusion(projection: Document): { tree: InclusionTree; includeId: boolean } | undefined {
  const tree: InclusionTree = {};
  let includeId = true;
  let fields = 0;
  for (const [key, value] of Object.entries(projection)) {
    const on = value === 1 || value === true;
    const off = value === 0 || value === false;
    if (key === '_id') {
      if (!on && !off) return undefined;
      includeId = on;
      continue;
    }
    if (!on || key.startsWith('$') || key.includes('$')) return undefined;
    const parts = key.split('.');
    if (parts.some((part) => part.length === 0)) return undefined;
    let node = tree;
    for (let index = 0; index < parts.length; index += 1) {
      const part = parts[index]!;
      const existing = node[part];
      if (existing === true) break; // a parent path is already kept whole
      if (index === parts.length - 1) {
        node[part] = true;
      } else {
        node[part] = existing ?? {};
        node = node[part] as InclusionTree;
      }
    }
    fields += 1;
  }
  return fields > 0 ? { tree, includeId } : undefined;
}

/** An embedded document (not an array, not a BSON value such as ObjectId, Date or Binary). */
function isPlainDocument(value: unknown): value is Document {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * MongoDB's inclusion semantics for a subtree: sub-fields of an embedded document are picked, an array applies the
 * subtree to each embedded document in it (other elements are dropped), and a scalar under a dotted path is left out.
 */
function pickSubtree(value: unknown, tree: InclusionTree): unknown {
  if (Array.isArray(value)) {
    const picked: unknown[] = [];
    for (const element of value) {
      if (Array.isArray(element) || isPlainDocument(element)) picked.push(pickSubtree(element, tree));
    }
    return picked;
  }
  if (!isPlainDocument(value)) return undefined;
  const out: Document = {};
  for (const key of Object.keys(value)) {
    const rule = tree[key];
    if (rule === undefined) continue;
    if (rule === true) out[key] = value[key];
    else {
      const sub = pickSubtree(value[key], rule);
      if (sub !== undefined) out[key] = sub;
    }
  }
  return out;
}

function projectDocs(docs: Document[], projection: Document, filter: Document): Document[] {
  const simple = simpleInclusion(projection);
  if (simple) {
    return docs.map((doc) => {
      const picked = pickSubtree(doc, simple.tree) as Document;
      return simple.includeId && doc._id !== undefined ? { _id: doc._id, ...picked } : picked;
    });
  }
  try {
    const usesPositional = Object.keys(projection).some((k) => k.endsWith('.$'));
    return mingoFind(docs, usesPositional ? filter : {}, projection, mingoOptions()).all() as Document[];
  } catch (err) {
    throw new CommandError(ErrorCodes.BadValue, (err as Error).message);
  }
}
