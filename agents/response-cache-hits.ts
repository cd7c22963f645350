// The response cache's hit counters (`hits`, `lastHitAt` on an entry, what the cache tab shows): counted in memory
// per entry and written in one unordered bulk write at most once per interval (default 1 s), instead of an update per
// hit. Exact on the instance that counted them (stats flush first); another instance's hits show within the interval.
// Counted by `{agentId, key}` (the unique key of an entry), so a hit answered before its entry's write landed counts too.
import type { Model, Types } from 'mongoose';
import type { Logger } from '../server/logger';
import type { ResponseCacheEntryDocument } from './response-cache.model';

interface PendingHits {
  agentId: Types.ObjectId;
  key: string;
  hits: number;
  lastHitAt: Date;
}

export const HIT_FLUSH_INTERVAL_MS = 1_000;

export class ResponseCacheHitCounter {
  private pending = new Map<string, PendingHits>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly collection: () => Model<ResponseCacheEntryDocument>['collection'],
    private readonly logger: Logger,
    private readonly intervalMs = HIT_FLUSH_INTERVAL_MS,
  ) {}

  count(agentId: Types.ObjectId, key: string, at: Date): void {
    const id = `${agentId.toString()}:${key}`;
    const entry = this.pending.get(id);
    if (entry) {
      entry.hits += 1;
      entry.lastHitAt = at;
    } else {
      this.pending.set(id, { agentId, key, hits: 1, lastHitAt: at });
    }
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.intervalMs);
      this.timer.unref();
    }
  }

  /** Forgets the counts of an agent not yet written (its entries were just removed). */
  forgetAgent(agentId: Types.ObjectId): void {
    const prefix = `${agentId.toString()}:`;
    for (const id of this.pending.keys()) if (id.startsWith(prefix)) this.pending.delete(id);
  }

  /** Writes every count so far (one flush at a time; resolves when this one and any before it are written). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = [...this.pending.values()];
    this.pending = new Map();
    this.flushing = this.flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.collection().bulkWrite(
          batch.map((entry) => ({ updateOne: { filter: { agentId: entry.agentId, key: entry.key }, update: { $inc: { hits: entry.hits }, $set: { lastHitAt: entry.lastHitAt } } } })),
          { ordered: false },
        );
      } catch (error) {
        // A lost count costs the cache tab a number, never an answer.
        this.logger.warn({ err: error, entries: batch.length }, 'could not write response cache hit counts');
      }
    });
    return this.flushing;
  }
}
