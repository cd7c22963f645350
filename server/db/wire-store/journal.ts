// Append-only journal: a file of concatenated BSON documents (each self-length-prefixed), one per
// mutation. Records of one command are written with a single writeSync before the command's reply is
// sent, so a crash after a reply loses nothing (no fsync: a machine crash may lose the OS cache).
// On start the file is replayed; when it is much larger than the live data it is compacted into a
// snapshot (written to a temp file, fsynced, renamed over the journal).
import fs from 'node:fs';
import path from 'node:path';
import { serialize, deserialize, type Document } from 'bson';
import { DESERIALIZE_OPTIONS } from './wire-protocol';
import { encodeDocumentRecord, parseDocumentRecord, type JournalSink } from './collection-store';

const JOURNAL_FILE_MODE = 0o600;

export interface JournalLogger {
  info(...args: any[]): void;
  warn(...args: any[]): void;
  error(...args: any[]): void;
}

/** Compact at start when the journal is this many times larger than a snapshot would be… */
const COMPACT_RATIO = 2;
/** …and at least this big. */
const COMPACT_MIN_BYTES = 1024 * 1024;

export interface ReplayResult {
  records: number;
  bytes: number;
  truncatedBytes: number;
}

export class Journal implements JournalSink {
  private fd: number;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private written = 0;

  private constructor(
    readonly filePath: string,
    private readonly logger?: JournalLogger,
  ) {
    // The journal holds password hashes and sealed keys: only the owner may read it (existing files are tightened too).
    fs.mkdirSync(path.dirname(filePath), { recursive: true, mode: 0o700 });
    this.fd = fs.openSync(filePath, 'a', JOURNAL_FILE_MODE);
    fs.fchmodSync(this.fd, JOURNAL_FILE_MODE);
    this.written = fs.fstatSync(this.fd).size;
  }

  /**
   * Replays an existing journal through `apply`, cutting off a torn final record, then opens it for appends.
   * Document records (`{ op: 'i' | 'u', ns, doc }`) reach `apply` as `{ op, ns }` plus the document's BSON
   * bytes (a view into the file's buffer, valid during the call), so replay decodes each document once.
   */
  static open(filePath: string, apply: (record: Document, encodedDoc?: Buffer) => void, logger?: JournalLogger): { journal: Journal; replay: ReplayResult } {
    const replay: ReplayResult = { records: 0, bytes: 0, truncatedBytes: 0 };
    if (fs.existsSync(filePath)) {
      const data = fs.readFileSync(filePath);
      let offset = 0;
      while (offset < data.length) {
        if (offset + 4 > data.length) break;
        const size = data.readInt32LE(offset);
        if (size < 5 || offset + size > data.length || data[offset + size - 1] !== 0) break;
        const bytes = data.subarray(offset, offset + size);
        const documentRecord = parseDocumentRecord(bytes);
        if (documentRecord) {
          apply({ op: documentRecord.op, ns: documentRecord.ns }, documentRecord.doc);
        } else {
          let record: Document;
          try {
            record = deserialize(bytes, DESERIALIZE_OPTIONS);
          } catch {
            break;
          }
          apply(record);
        }
        replay.records++;
        offset += size;
      }
      replay.bytes = offset;
      if (offset < data.length) {
        replay.truncatedBytes = data.length - offset;
        // Keep the cut-off bytes next to the journal, in case this was corruption rather than a torn write.
        const sidePath = `${filePath}.torn-${Date.now()}`;
        fs.writeFileSync(sidePath, data.subarray(offset), { mode: JOURNAL_FILE_MODE });
        logger?.warn(
          { journal: filePath, truncatedBytes: replay.truncatedBytes, savedTo: sidePath },
          'wire-store: journal ends with an incomplete record; cutting it off',
        );
        fs.truncateSync(filePath, offset);
      }
    }
    return { journal: new Journal(filePath, logger), replay };
  }

  append(record: Document): void {
    this.push(toBuffer(serialize(record)));
  }

  appendDocument(op: 'i' | 'u', ns: string, doc: Uint8Array): void {
    this.push(encodeDocumentRecord(op, ns, doc));
  }

  private push(buf: Buffer): void {
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  /** Writes buffered records (called once per command, before its reply). */
  flush(): void {
    if (this.pendingBytes === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let off = 0;
    while (off < buf.length) off += fs.writeSync(this.fd, buf, off, buf.length - off);
    this.written += buf.length;
  }

  get size(): number {
    return this.written + this.pendingBytes;
  }

  /** Rewrites the journal as a snapshot of `records` (documents, or records already as BSON bytes; temp file + fsync + rename). */
  compact(records: Iterable<Document | Uint8Array>): number {
    this.flush();
    const tmp = `${this.filePath}.compact-${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', JOURNAL_FILE_MODE);
    let bytes = 0;
    try {
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      for (const record of records) {
        const buf = toBuffer(record instanceof Uint8Array ? record : serialize(record));
        chunk.push(buf);
        chunkBytes += buf.length;
        if (chunkBytes > 4 * 1024 * 1024) {
          fs.writeSync(fd, Buffer.concat(chunk, chunkBytes));
          bytes += chunkBytes;
          chunk = [];
          chunkBytes = 0;
        }
      }
      if (chunkBytes) fs.writeSync(fd, Buffer.concat(chunk, chunkBytes));
      bytes += chunkBytes;
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.closeSync(this.fd);
    fs.renameSync(tmp, this.filePath);
    this.fd = fs.openSync(this.filePath, 'a', JOURNAL_FILE_MODE);
    this.written = bytes;
    this.logger?.info({ journal: this.filePath, bytes }, 'wire-store: journal compacted');
    return bytes;
  }

  /** Compacts when the journal is much larger than the snapshot would be (estimated from `liveBytes`). */
  shouldCompact(liveBytes: number): boolean {
    return this.size > COMPACT_MIN_BYTES && this.size > COMPACT_RATIO * Math.max(liveBytes, 1);
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
  }
}

function toBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
