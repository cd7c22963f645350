// The response cache's writes on their way. A miss's answer is stored after the call has been answered (the write never
// holds the response up). Exact entries are upserted together: the entries stored within `WRITE_BATCH_MS` of the first
// go in one unordered bulk write, one write at a time (the ones stored while it runs go next), so a round trip carries
// many answers even at concurrency 1 (the store's cost per command is several times its cost per entry). A semantic entry is written on its own (its id goes into the vector index). At most one write per entry at a time:
// concurrent misses of one question on this instance write it once. A lookup of an entry on its way waits for it to
// land (given up after the deadline), so asking again at once is still a hit, from the database; another instance sees
// an entry WRITE_BATCH_MS and a round trip after its answer. Stats, clears and shutdown write what is queued at once.
import type { Model, Types } from 'mongoose';
import type { Logger } from '../server/logger';
import type { ResponseCacheEntryDocument } from './response-cache.model';
import { withinDeadline } from './response-cache-deadline';

/** Which entry: its unique `{agentId, key}`. */
export interface EntryToWrite {
  agentId: Types.ObjectId;
  key: string;
}

/** How long the first queued entry waits for others to share its write. */
export const WRITE_BATCH_MS = 20;

interface Queued {
  id: string;
  entry: EntryToWrite;
  update: Record<string, unknown>;
  landed: () => void;
}

export class ResponseCacheWrites {
  private readonly onTheirWay = new Map<string, Promise<void>>();
  private queued: Queued[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly collection: () => Model<ResponseCacheEntryDocument>['collection'],
    private readonly logger: Logger,
    private readonly batchMs = WRITE_BATCH_MS,
  ) {}

  private static id(agentId: Types.ObjectId, key: string): string {
    return `${agentId.toString()}:${key}`;
  }

  /** Resolves when the entry on its way for this question has landed (or was given up); undefined: none is. */
  landing(agentId: Types.ObjectId, key: string): Promise<void> | undefined {
    return this.onTheirWay.size === 0 ? undefined : this.onTheirWay.get(ResponseCacheWrites.id(agentId, key));
  }

  /** Queues the upsert of an exact entry (`update` applies to `{agentId, key}`); false when one is already on its way. */
  queue(entry: EntryToWrite, update: Record<string, unknown>): boolean {
    const id = ResponseCacheWrites.id(entry.agentId, entry.key);
    if (this.onTheirWay.has(id)) return false;
    let landed!: () => void;
    this.onTheirWay.set(id, new Promise<void>((resolve) => (landed = resolve)));
    this.queued.push({ id, entry, update, landed });
    // While a write runs, the entries queued meanwhile go right after it.
    if (!this.writing && !this.timer) {
      this.timer = setTimeout(() => void this.writeQueued(), this.batchMs);
      this.timer.unref();
    }
    return true;
  }

  /** Runs a write of its own (given up after the deadline); false when one for the entry is already on its way. */
  start(entry: EntryToWrite, write: () => Promise<void>): boolean {
    const id = ResponseCacheWrites.id(entry.agentId, entry.key);
    if (this.onTheirWay.has(id)) return false;
    this.onTheirWay.set(id, withinDeadline(write(), undefined).finally(() => this.onTheirWay.delete(id)));
    return true;
  }

  /** Writes the queued entries in one unordered bulk upsert, then the ones queued meanwhile, until none is left. */
  private async writeQueued(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queued.length > 0) {
        const batch = this.queued;
        this.queued = [];
        const collection = this.collection();
        // One entry (a low rate): a plain upsert, the bulk API costs more for a single operation.
        const sent =
          batch.length === 1
            ? collection.updateOne({ agentId: batch[0]!.entry.agentId, key: batch[0]!.entry.key }, batch[0]!.update, { upsert: true })
            : collection.bulkWrite(
                batch.map(({ entry, update }) => ({ updateOne: { filter: { agentId: entry.agentId, key: entry.key }, update, upsert: true } })),
                { ordered: false },
              );
        const write = (sent as Promise<unknown>)
          .then(() => undefined)
          .catch((error: unknown) => {
            // A lost cache write costs a future hit, never an answer.
            this.logger.warn({ err: error, entries: batch.length }, 'could not store cached answers');
          });
        await withinDeadline(write, undefined);
        for (const queued of batch) {
          this.onTheirWay.delete(queued.id);
          queued.landed();
        }
      }
    } finally {
      this.writing = false;
    }
  }

  /** Resolves once the writes on their way now (of one agent, or all) have landed or been given up. */
  async settled(agentId?: Types.ObjectId): Promise<void> {
    const prefix = agentId ? `${agentId.toString()}:` : '';
    const waiting: Array<Promise<void>> = [];
    for (const [id, landed] of this.onTheirWay) if (id.startsWith(prefix)) waiting.push(landed);
    if (waiting.length === 0) return;
    if (this.queued.length > 0) void this.writeQueued();
    await Promise.all(waiting);
  }
}
