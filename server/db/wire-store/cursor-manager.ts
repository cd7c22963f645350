// Server-side cursors: a materialized result list handed out in batches (find/aggregate/getMore).
import { Long, calculateObjectSize, type Document } from 'bson';
import { CommandError, ErrorCodes } from './command-error';

/** Reply batches stay well under the 16 MB BSON limit. */
const MAX_BATCH_BYTES = 15 * 1024 * 1024;
export const DEFAULT_FIRST_BATCH = 101;
/** Idle cursors are closed after 10 minutes, like mongod's cursorTimeoutMillis. */
const CURSOR_TIMEOUT_MS = 10 * 60 * 1000;

interface OpenCursor {
  ns: string;
  docs: Document[];
  pos: number;
  lastUsed: number;
}

export class CursorManager {
  private readonly cursors = new Map<string, OpenCursor>();
  private readonly sweeper: NodeJS.Timeout;

  constructor() {
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  close(): void {
    clearInterval(this.sweeper);
    this.cursors.clear();
  }

  private sweep(): void {
    const now = Date.now();
    for (const [id, c] of this.cursors) if (now - c.lastUsed > CURSOR_TIMEOUT_MS) this.cursors.delete(id);
  }

  private newId(): Long {
    for (;;) {
      const high = Math.floor(Math.random() * 0x7fffffff);
      const low = Math.floor(Math.random() * 0xffffffff) | 0;
      const id = Long.fromBits(low, high);
      if (!id.isZero() && !this.cursors.has(id.toString())) return id;
    }
  }

  /** Takes the next batch starting at `pos`: at most `limit` docs (Infinity = no count limit) and MAX_BATCH_BYTES. */
  private static take(docs: Document[], pos: number, limit: number): Document[] {
    const end = Math.min(docs.length, pos + Math.max(0, limit));
    if (end - pos <= 16) return docs.slice(pos, end);
    let bytes = 0;
    let i = pos;
    for (; i < end; i++) {
      bytes += calculateObjectSize(docs[i]!);
      if (bytes > MAX_BATCH_BYTES && i > pos) break;
    }
    return docs.slice(pos, i);
  }

  /**
   * Builds the `cursor` reply for a first batch and registers the rest (if any). `batchSize` undefined →
   * 101 documents (mongod's default first batch); 0 → an empty first batch; Infinity → everything.
   */
  open(ns: string, docs: Document[], batchSize: number | undefined, singleBatch = false): Document {
    const first = CursorManager.take(docs, 0, batchSize ?? DEFAULT_FIRST_BATCH);
    let id = Long.ZERO;
    if (!singleBatch && first.length < docs.length) {
      id = this.newId();
      this.cursors.set(id.toString(), { ns, docs, pos: first.length, lastUsed: Date.now() });
    }
    return { cursor: { firstBatch: first, id, ns }, ok: 1 };
  }

  getMore(cursorId: unknown, ns: string, batchSize: number | undefined): Document {
    const key = cursorKey(cursorId);
    const cursor = key === undefined ? undefined : this.cursors.get(key);
    if (!cursor || key === undefined) {
      throw new CommandError(ErrorCodes.CursorNotFound, `cursor id ${String(key ?? cursorId)} not found`);
    }
    if (cursor.ns !== ns) {
      throw new CommandError(ErrorCodes.IllegalOperation /* mongod uses Unauthorized */, `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${cursor.ns}`);
    }
    const batch = CursorManager.take(cursor.docs, cursor.pos, batchSize ?? Infinity);
    cursor.pos += batch.length;
    cursor.lastUsed = Date.now();
    let id: Long = Long.fromString(key);
    if (cursor.pos >= cursor.docs.length) {
      this.cursors.delete(key);
      id = Long.ZERO;
    }
    return { cursor: { nextBatch: batch, id, ns }, ok: 1 };
  }

  kill(ids: unknown[]): Document {
    const killed: Long[] = [];
    const notFound: Long[] = [];
    for (const raw of ids) {
      const key = cursorKey(raw);
      const long = key === undefined ? Long.ZERO : Long.fromString(key);
      if (key !== undefined && this.cursors.delete(key)) killed.push(long);
      else notFound.push(long);
    }
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
  }

  get size(): number {
    return this.cursors.size;
  }
}

function cursorKey(raw: unknown): string | undefined {
  if (raw instanceof Long) return raw.toString();
  if (typeof raw === 'number' && Number.isInteger(raw)) return Long.fromNumber(raw).toString();
  if (typeof raw === 'bigint') return raw.toString();
  return undefined;
}
