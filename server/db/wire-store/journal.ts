// Append-only journal: a file of concatenated BSON documents (each self-length-prefixed), one per
// mutation. Records of one command are written with a single writeSync before the command's reply is
// sent, so a crash after a reply loses nothing (no fsync: a machine crash may lose the OS cache).
// On start the file is replayed; when it is much larger than the live data it is compacted into a
// snapshot (written to a temp file, fsynced, renamed over the journal).
import fs from 'node:fs';
import path from 'node:path';
import { serialize, deserialize, type Document } from 'bson';
import { DESERIALIZE_OPTIONS, toBuffer } from './wire-protocol';
import { encodeDocumentRecord, parseDocumentRecord, type JournalSink } from './journal-records';

const JOURNAL_FILE_MODE = 0o600;
/** Replay reads the journal this many bytes at a time (a larger record gets a buffer of its own size). */
const READ_CHUNK_BYTES = 8 * 1024 * 1024;

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
   * The file is read in chunks (never whole). Document records (`{ op: 'i' | 'u', ns, doc }`) reach `apply` as
   * `{ op, ns }` plus the document's BSON bytes (a view into the read buffer, valid during the call only), so
   * replay decodes no more of each document than it needs.
   */
  static open(filePath: string, apply: (record: Document, encodedDoc?: Buffer) => void, logger?: JournalLogger): { journal: Journal; replay: ReplayResult } {
    const replay: ReplayResult = { records: 0, bytes: 0, truncatedBytes: 0 };
    if (fs.existsSync(filePath)) {
      const fd = fs.openSync(filePath, 'r');
      let fileSize: number;
      let offset = 0;
      try {
        fileSize = fs.fstatSync(fd).size;
        const reader = new ChunkReader(fd, fileSize);
        while (offset < fileSize) {
          if (offset + 4 > fileSize) break;
          const head = reader.view(offset, 4);
          const size = head.readInt32LE(0);
          if (size < 5 || offset + size > fileSize) break;
          const bytes = reader.view(offset, size);
          if (bytes[size - 1] !== 0) break;
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
      } finally {
        fs.closeSync(fd);
      }
      replay.bytes = offset;
      if (offset < fileSize) {
        replay.truncatedBytes = fileSize - offset;
        // Keep the cut-off bytes next to the journal, in case this was corruption rather than a torn write.
        const sidePath = `${filePath}.torn-${Date.now()}`;
        copyTail(filePath, offset, sidePath);
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

/** Sequential reads of a file through one reusable buffer: `view(offset, n)` is valid until the next call. */
class ChunkReader {
  private buf = Buffer.allocUnsafe(0);
  /** File offset of buf[0], and how many bytes of buf hold file data. */
  private start = 0;
  private filled = 0;

  constructor(
    private readonly fd: number,
    private readonly fileSize: number,
  ) {}

  /** Bytes [offset, offset + length) of the file; offsets only move forward; the caller checks the file size. */
  view(offset: number, length: number): Buffer {
    if (offset < this.start || offset + length > this.start + this.filled) this.load(offset, length);
    const at = offset - this.start;
    return this.buf.subarray(at, at + length);
  }

  private load(offset: number, length: number): void {
    const keepFrom = offset - this.start;
    const kept = keepFrom >= 0 && keepFrom < this.filled ? this.filled - keepFrom : 0;
    const want = Math.min(Math.max(READ_CHUNK_BYTES, length), this.fileSize - offset);
    if (want > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(want, READ_CHUNK_BYTES));
      if (kept) this.buf.copy(bigger, 0, keepFrom, keepFrom + kept);
      this.buf = bigger;
    } else if (kept) {
      this.buf.copyWithin(0, keepFrom, keepFrom + kept);
    }
    this.start = offset;
    this.filled = kept;
    while (this.filled < want) {
      const n = fs.readSync(this.fd, this.buf, this.filled, want - this.filled, offset + this.filled);
      if (n === 0) throw new Error(`journal ${this.fd}: unexpected end of file at ${offset + this.filled}`);
      this.filled += n;
    }
  }
}

/** Copies the bytes of `from` past `offset` into a new owner-only file `to`. */
function copyTail(from: string, offset: number, to: string): void {
  const input = fs.openSync(from, 'r');
  const output = fs.openSync(to, 'w', JOURNAL_FILE_MODE);
  try {
    const buf = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let at = offset;
    for (;;) {
      const n = fs.readSync(input, buf, 0, buf.length, at);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += fs.writeSync(output, buf, off, n - off);
      at += n;
    }
  } finally {
    fs.closeSync(input);
    fs.closeSync(output);
  }
}
