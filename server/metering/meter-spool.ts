// The meter's crash spool: every queued item is appended to a file in DATA_DIR when it is recorded (before the
// response completes), with its progress through the batch writer, and acknowledged once the database has it all.
// A process killed before its queue was written leaves its file behind; the next start replays what it left,
// idempotently: inserts by requestId, rollups by the group id the spool remembers (guarded-rollup.ts).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger';
import type { ErrorItem, EventItem, QueueItem } from './meter-queue-items';
import type { MeterEventInput } from './meter.types';

/**
 * When spool writes reach the disk. Every policy survives the process being killed (a written line is in the OS's
 * page cache); they differ when the machine itself goes down:
 * - `never`: whatever the OS had not written yet is lost;
 * - `batch` (default): one fdatasync per meter batch, on the thread pool before the batch goes to the database (at most one flush
 *   interval of events is at risk, and the response path pays no sync);
 * - `always`: one fdatasync per recorded event, on the response path.
 */
export type SpoolSyncPolicy = 'never' | 'batch' | 'always';

export interface MeterSpoolOptions {
  directory: string;
  sync: SpoolSyncPolicy;
  /** A new file is started past this size; a finished file whose items are all acknowledged is deleted. */
  segmentBytes: number;
}

export const DEFAULT_SPOOL_OPTIONS: Omit<MeterSpoolOptions, 'directory'> = { sync: 'batch', segmentBytes: 4 * 1024 * 1024 };

/** One line of a spool file. */
type SpoolRecord =
  | { s: number; e: MeterEventInput; g?: string; t?: 1 }
  | { s: number; x: Omit<ErrorItem, 'kind' | 'rollupGroupId' | 'applied'>; g?: string }
  /** Progress: each item's rollup group (written before that rollup is attempted), or null when its insert was a replay. */
  | { p: Array<[number, string | null]> }
  /** Acknowledged: everything about these items reached the database. */
  | { a: number[] };

class SpoolSegment {
  readonly fd: number;
  bytes = 0;
  unacknowledged = 0;
  unsynced = false;

  constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  write(line: string): void {
    this.bytes += fs.writeSync(this.fd, line);
    this.unsynced = true;
  }

  sync(): void {
    if (!this.unsynced) return;
    fs.fdatasyncSync(this.fd);
    this.unsynced = false;
  }

  /** The same on libuv's thread pool, so the event loop (every call in flight) does not wait for the disk. */
  async syncOffLoop(): Promise<void> {
    if (!this.unsynced) return;
    // A write after this point marks the segment again, and the next sync covers it.
    this.unsynced = false;
    await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (error) => (error ? reject(error) : resolve())));
  }
}

/** The spool files this process has open (several platforms may run in one process, e.g. tests). */
const OPEN_FILES = new Set<string>();
const FILE_PATTERN = /^meter-(\d+)-[0-9a-f]+(?:-\d+)?\.spool$/;

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface RecoveredSpool {
  items: QueueItem[];
  files: string[];
}

export class MeterSpool {
  private readonly options: MeterSpoolOptions;
  private readonly name = `meter-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
  private segmentNumber = 0;
  private current: SpoolSegment;
  private readonly segments = new Set<SpoolSegment>();
  /** Finished segments being deleted off the event loop. */
  private readonly removing = new Set<string>();
  private nextSeq = 1;
  private closed = false;

  constructor(options: Partial<MeterSpoolOptions> & { directory: string }, private readonly logger: Logger) {
    this.options = { ...DEFAULT_SPOOL_OPTIONS, ...options };
    fs.mkdirSync(this.options.directory, { recursive: true });
    this.current = this.openSegment();
  }

  private openSegment(): SpoolSegment {
    const file = path.join(this.options.directory, `${this.name}-${this.segmentNumber++}.spool`);
    const segment = new SpoolSegment(file);
    OPEN_FILES.add(file);
    this.segments.add(segment);
    return segment;
  }

  /**
   * Appends a queued item (a fresh one, or a replayed one with the progress it had). Synchronous: durable on return.
   * Its position goes on the item (SpoolMark). An event's line is the record's JSON written piece by piece (the
   * same bytes as JSON.stringify of the record, without building the record object on the response path).
   */
  append(item: QueueItem): void {
    if (this.closed) return;
    if (this.current.bytes >= this.options.segmentBytes) this.current = this.openSegment();
    const seq = this.nextSeq++;
    const group = item.rollupGroupId ? `,"g":${JSON.stringify(item.rollupGroupId)}` : '';
    const line =
      item.kind === 'event'
        ? `{"s":${seq},"e":${JSON.stringify(item.event)}${group}${item.insertAttempted ? ',"t":1' : ''}}\n`
        : `{"s":${seq},"x":${JSON.stringify({ workspaceId: item.workspaceId, agentId: item.agentId, month: item.month, mode: item.mode, plan: item.plan })}${group}}\n`;
    const segment = this.current;
    segment.write(line);
    segment.unacknowledged += 1;
    item.spoolSeq = seq;
    item.spoolSegment = segment;
    item.spoolProgressed = Boolean(item.rollupGroupId);
    if (this.options.sync === 'always') segment.sync();
  }

  /** The segment an item of this spool is in, or undefined (never spooled here, or acknowledged). */
  private segmentOf(item: QueueItem): SpoolSegment | undefined {
    const segment = item.spoolSegment;
    return segment instanceof SpoolSegment && this.segments.has(segment) ? segment : undefined;
  }

  /** The `batch` policy's sync, before a batch goes to the database (off the event loop). */
  async syncBeforeWrite(): Promise<void> {
    if (this.options.sync === 'batch') await Promise.all([...this.segments].map((segment) => segment.syncOffLoop()));
  }

  sync(): void {
    for (const segment of this.segments) segment.sync();
  }

  /**
   * Called by the batch writer once a batch's inserts are settled and its rollup groups chosen, before any rollup
   * is attempted: a replay must re-send the same guarded increment, never a new one.
   */
  async recordProgress(batch: readonly QueueItem[]): Promise<void> {
    const bySegment = new Map<SpoolSegment, Array<[number, string | null]>>();
    for (const item of batch) {
      const segment = this.segmentOf(item);
      if (!segment || item.spoolProgressed) continue;
      let entry: [number, string | null] | undefined;
      if (item.rollupGroupId) entry = [item.spoolSeq!, item.rollupGroupId];
      else if (item.kind === 'event' && item.insertAttempted && !item.inserted) entry = [item.spoolSeq!, null];
      if (!entry) continue;
      item.spoolProgressed = true;
      const list = bySegment.get(segment) ?? [];
      list.push(entry);
      bySegment.set(segment, list);
    }
    for (const [segment, entries] of bySegment) segment.write(`${JSON.stringify({ p: entries } satisfies SpoolRecord)}\n`);
    if (this.options.sync !== 'never') await Promise.all([...bySegment.keys()].map((segment) => segment.syncOffLoop()));
  }

  /**
   * The batch is in the database: its items will not be replayed. An acknowledgement is one appended line; a file
   * with nothing left to replay (a finished segment) is closed and deleted on the thread pool. Nothing here waits for
   * the disk on the event loop: truncating a file whose pages are being flushed waited 1–5 ms (p99 13–20 ms) here,
   * once per batch, in the middle of the calls in flight.
   */
  acknowledge(batch: readonly QueueItem[]): void {
    const bySegment = new Map<SpoolSegment, number[]>();
    for (const item of batch) {
      const segment = this.segmentOf(item);
      if (!segment) continue;
      const list = bySegment.get(segment) ?? [];
      list.push(item.spoolSeq!);
      bySegment.set(segment, list);
      item.spoolSeq = 0;
      item.spoolSegment = undefined;
    }
    for (const [segment, seqs] of bySegment) {
      segment.unacknowledged -= seqs.length;
      if (segment.unacknowledged === 0 && segment !== this.current) this.removeSegmentOffLoop(segment);
      else segment.write(`${JSON.stringify({ a: seqs } satisfies SpoolRecord)}\n`);
    }
  }

  /** A finished segment whose items are all acknowledged: gone from this spool now, from the disk shortly after. */
  private removeSegmentOffLoop(segment: SpoolSegment): void {
    this.segments.delete(segment);
    this.removing.add(segment.file);
    // Still "open" for recover() until the file is gone: another platform of this process must not replay it.
    fs.close(segment.fd, () =>
      fs.rm(segment.file, { force: true }, () => {
        this.removing.delete(segment.file);
        OPEN_FILES.delete(segment.file);
      }),
    );
  }

  private removeSegment(segment: SpoolSegment): void {
    fs.closeSync(segment.fd);
    fs.rmSync(segment.file, { force: true });
    OPEN_FILES.delete(segment.file);
    this.segments.delete(segment);
  }

  /** Closes the files; deletes them when nothing in them waits for the database (a clean shutdown). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const file of this.removing) fs.rmSync(file, { force: true });
    for (const segment of [...this.segments]) {
      if (segment.unacknowledged === 0) this.removeSegment(segment);
      else {
        segment.sync();
        fs.closeSync(segment.fd);
        OPEN_FILES.delete(segment.file);
      }
    }
    const left = [...this.segments].filter((segment) => segment.unacknowledged > 0).length;
    if (left > 0) this.logger.warn({ files: left, directory: this.options.directory }, 'meter spool kept: unwritten events will be replayed at the next start');
  }

  /**
   * Reads the spool files of processes that are gone (and of this process's earlier platforms that were not
   * stopped cleanly): the items they never had acknowledged, in order, with the progress they had. Delete the
   * files with `removeRecovered` once the items are queued (and appended to a live spool).
   */
  static recover(directory: string, logger: Logger): RecoveredSpool {
    if (!fs.existsSync(directory)) return { items: [], files: [] };
    const files = fs
      .readdirSync(directory)
      .filter((name) => {
        const match = FILE_PATTERN.exec(name);
        if (!match) return false;
        const pid = Number(match[1]);
        return !OPEN_FILES.has(path.join(directory, name)) && (pid === process.pid || !isProcessAlive(pid));
      })
      .sort()
      .map((name) => path.join(directory, name));
    const records = new Map<string, Map<number, Extract<SpoolRecord, { s: number }>>>();
    const progress = new Map<string, Map<number, string | null>>();
    const acknowledged = new Map<string, Set<number>>();
    let torn = 0;
    for (const file of files) {
      // Sequence numbers are per process: a file's name up to its segment number names the process.
      const owner = path.basename(file).replace(/-\d+\.spool$/, '');
      const ownerRecords = records.get(owner) ?? new Map();
      const ownerProgress = progress.get(owner) ?? new Map();
      const ownerAcknowledged = acknowledged.get(owner) ?? new Set();
      records.set(owner, ownerRecords);
      progress.set(owner, ownerProgress);
      acknowledged.set(owner, ownerAcknowledged);
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        if (!line) continue;
        let record: SpoolRecord;
        try {
          record = JSON.parse(line) as SpoolRecord;
        } catch {
          torn += 1; // the line being written when the process died
          continue;
        }
        if ('s' in record) ownerRecords.set(record.s, record);
        else if ('p' in record) for (const [seq, groupId] of record.p) ownerProgress.set(seq, groupId);
        else for (const seq of record.a) ownerAcknowledged.add(seq);
      }
    }
    const items: QueueItem[] = [];
    const seenRequestIds = new Set<string>();
    for (const [owner, ownerRecords] of records) {
      const ownerProgress = progress.get(owner)!;
      const ownerAcknowledged = acknowledged.get(owner)!;
      for (const [seq, record] of [...ownerRecords].sort(([left], [right]) => left - right)) {
        // The same request id recorded twice in one process: the later one was a replay, as its insert would have said.
        if ('e' in record) {
          if (seenRequestIds.has(record.e.requestId)) continue;
          seenRequestIds.add(record.e.requestId);
        }
        if (ownerAcknowledged.has(seq)) continue;
        const groupId = ownerProgress.has(seq) ? ownerProgress.get(seq) : record.g;
        if ('x' in record) {
          items.push({ kind: 'error', ...record.x, ...(groupId ? { rollupGroupId: groupId } : {}) });
          continue;
        }
        if (groupId === null) continue; // its insert was a replay of an earlier event: nothing of its own to write
        const event: MeterEventInput = { ...record.e, timestamp: new Date(record.e.timestamp) };
        // Its insert may have reached the database before the acknowledgement was lost: a duplicate is ours.
        const item: EventItem = { kind: 'event', event, insertAttempted: true, inserted: Boolean(groupId) };
        if (groupId) item.rollupGroupId = groupId;
        items.push(item);
      }
    }
    if (files.length > 0) logger.warn({ files: files.length, items: items.length, tornLines: torn }, 'meter spool recovered from an earlier process: replaying its unwritten events');
    return { items, files };
  }

  static removeRecovered(recovered: RecoveredSpool): void {
    for (const file of recovered.files) fs.rmSync(file, { force: true });
  }
}
