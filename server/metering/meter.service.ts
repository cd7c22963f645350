// The token meter: events are queued off the response path (bounded) and handed in batches to the batch writer,
// one batch per flush interval (a longer one under a steady load), retried with backoff while the database fails.
import type { Logger } from '../logger';
import type { MeteringModels } from './metering.models';
import type { EndUserUsageModels } from './end-user-usage.model';
import { MeterBatchWriter } from './meter-batch-writer';
import { createErrorItem, createEventItem, type QueueItem } from './meter-queue-items';
import type { MeterEventInput, RollupChange } from './meter.types';
import type { MeterSpool } from './meter-spool';

export interface MeterOptions {
  maxQueue: number;
  batchSize: number;
  /**
   * Batch writes start at most once per interval. The first event after a quiet interval is written at once
   * (live dashboards see it without delay); under load the events of one interval share one batch, so the
   * database round trips per call fall as the rate rises.
   */
  flushIntervalMs: number;
  /**
   * Under a steady load (the last batch held at least `busyBatchEvents` events) the next batch waits this long
   * instead: fewer, larger writes, so the database work per call falls (and the moments a batch's encoding holds
   * the event loop become rarer). A light load keeps `flushIntervalMs`, so a dashboard watching a few calls stays live.
   */
  busyFlushIntervalMs: number;
  busyBatchEvents: number;
  /** Where each recorded item is appended until the database has it (meter-spool.ts); none: memory only. */
  spool?: MeterSpool;
}

export const DEFAULT_METER_OPTIONS: MeterOptions = { maxQueue: 200_000, batchSize: 2_000, flushIntervalMs: 100, busyFlushIntervalMs: 250, busyBatchEvents: 50 };

export class MeterService {
  private readonly queue: QueueItem[] = [];
  private readonly writer: MeterBatchWriter;
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The backoff state: 0 while batches are written, doubling (100 ms to 2 s) while they fail; drain() keeps a pending backoff. */
  private retryDelayMs = 0;
  private lastFlushStartedAt = 0;
  /** The interval that applies after the last batch: `flushIntervalMs`, or `busyFlushIntervalMs` after a large batch. */
  private intervalMs: number;
  private lastBackpressureWarning = 0;
  private stopped = false;
  private readonly listeners: Array<(changes: RollupChange[]) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly options: MeterOptions;
  private readonly spool: MeterSpool | undefined;
  private lastSpoolFailureWarning = 0;

  constructor(
    models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'> & Partial<EndUserUsageModels>,
    private readonly logger: Logger,
    options: Partial<MeterOptions> = {},
  ) {
    this.options = { ...DEFAULT_METER_OPTIONS, ...options };
    this.intervalMs = this.options.flushIntervalMs;
    this.spool = this.options.spool;
    this.writer = new MeterBatchWriter(
      models,
      (changes) => {
        for (const listener of this.listeners) listener(changes);
      },
      (batch) => this.withSpoolOffLoop((spool) => spool.recordProgress(batch)),
    );
  }

  /** Called after each batch with the rollups it changed (alerts, live dashboards). */
  onRollupsChanged(listener: (changes: RollupChange[]) => void): void {
    this.listeners.push(listener);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** True when the queue has no room: callers refuse new LLM calls rather than lose their meter events. */
  isFull(): boolean {
    return this.queue.length >= this.options.maxQueue;
  }

  record(event: MeterEventInput): void {
    this.enqueue(createEventItem(event));
  }

  recordError(input: { workspaceId: string; agentId: string; mode: 'byok' | 'managed'; plan: string | null; timestamp: Date }): void {
    this.enqueue(createErrorItem(input));
  }

  /** Items an earlier process spooled but never wrote (MeterSpool.recover): queued first, and spooled again here. */
  replay(items: readonly QueueItem[]): void {
    this.withSpool((spool) => {
      for (const item of items) spool.append(item);
      spool.sync();
    });
    this.queue.unshift(...items);
    if (items.length > 0) this.afterEnqueue();
  }

  private enqueue(item: QueueItem): void {
    // On the response path: the item is in the spool before the caller answers (no closure per call).
    if (this.spool) {
      try {
        this.spool.append(item);
      } catch (error) {
        this.spoolFailed(error);
      }
    }
    this.queue.push(item);
    this.afterEnqueue();
  }

  /** A failing disk costs durability, never calls or meter writes. */
  private withSpool(action: (spool: MeterSpool) => void): void {
    if (!this.spool) return;
    try {
      action(this.spool);
    } catch (error) {
      this.spoolFailed(error);
    }
  }

  /** The same for the spool's syncs, which run off the event loop. */
  private async withSpoolOffLoop(action: (spool: MeterSpool) => Promise<void>): Promise<void> {
    if (!this.spool) return;
    await action(this.spool).catch((error: unknown) => this.spoolFailed(error));
  }

  private spoolFailed(error: unknown): void {
    if (Date.now() - this.lastSpoolFailureWarning > 5000) {
      this.lastSpoolFailureWarning = Date.now();
      this.logger.error({ err: error }, 'METER SPOOL WRITE FAILED: events are kept in memory only until the database has them');
    }
  }

  private afterEnqueue(): void {
    const fill = this.queue.length / this.options.maxQueue;
    if (fill >= 0.8 && Date.now() - this.lastBackpressureWarning > 5000) {
      this.lastBackpressureWarning = Date.now();
      this.logger.warn({ pending: this.queue.length, max: this.options.maxQueue }, 'METER QUEUE NEARLY FULL: the database is not keeping up; new LLM calls will be refused when it is full');
    }
    this.scheduleFlush(this.untilNextFlush());
  }

  /** Time left in the current interval (0 after a quiet one: the timer still lets this tick's events join). */
  private untilNextFlush(): number {
    return Math.max(0, this.lastFlushStartedAt + this.intervalMs - Date.now());
  }

  private scheduleFlush(delayMs: number): void {
    if (this.timer || this.flushing || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastFlushStartedAt = Date.now();
      this.flushing = this.flushLoop().finally(() => {
        this.flushing = undefined;
        // A full batch waiting (a backlog) is written at once; a partial one waits for the interval to gather more.
        if (this.queue.length > 0) this.scheduleFlush(this.retryDelayMs || (this.queue.length >= this.options.batchSize ? 0 : this.untilNextFlush()));
        else for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    }, delayMs);
  }

  /** Writes what was queued when it started (events queued meanwhile wait for the next interval). */
  private async flushLoop(): Promise<void> {
    let remaining = this.queue.length;
    const busy = remaining >= this.options.busyBatchEvents;
    this.intervalMs = busy ? Math.max(this.options.flushIntervalMs, this.options.busyFlushIntervalMs) : this.options.flushIntervalMs;
    while (remaining > 0 && this.queue.length > 0) {
      const batch = this.queue.slice(0, Math.min(this.options.batchSize, remaining));
      remaining -= batch.length;
      try {
        await this.withSpoolOffLoop((spool) => spool.syncBeforeWrite());
        await this.writer.write(batch);
        this.queue.splice(0, batch.length);
        this.withSpool((spool) => spool.acknowledge(batch));
        this.retryDelayMs = 0;
      } catch (error) {
        // Keep every event; try again with backoff. Events already inserted remember it (no double count).
        this.retryDelayMs = Math.min(2000, Math.max(100, this.retryDelayMs * 2));
        this.logger.warn({ err: error, pending: this.queue.length, retryInMs: this.retryDelayMs }, 'meter write failed; events kept and retried');
        return;
      }
    }
  }

  /** Resolves when everything queued so far is written (used by shutdown, reconcile and tests). */
  async drain(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // No need to wait out the batching interval: write now.
    if (this.timer && !this.retryDelayMs) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.scheduleFlush(0);
    }
    while (this.queue.length > 0 || this.flushing || this.timer) {
      if (Date.now() > deadline) return false;
      await new Promise<void>((resolve) => {
        this.idleWaiters.push(resolve);
        setTimeout(resolve, 50);
      });
      if (this.queue.length > 0 && !this.timer && !this.flushing) this.scheduleFlush(0);
    }
    return true;
  }

  async stop(timeoutMs = 30_000): Promise<boolean> {
    const drained = await this.drain(timeoutMs);
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    // Drained: the files go. Not drained: they stay for the next start to replay.
    this.withSpool((spool) => spool.close());
    if (!drained) this.logger.error({ pending: this.queue.length }, 'meter queue not drained before shutdown');
    return drained;
  }
}
