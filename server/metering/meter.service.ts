// The token meter: events are queued off the response path (bounded) and written in batches —
// idempotent by requestId, then one atomic $inc per agent-month rollup, with the allowance-crossing call split exactly.
import crypto from 'node:crypto';
import { Types, type Model } from 'mongoose';
import type { Logger } from '../logger';
import type { MeteringModels } from './metering.models';
import { duplicateWriteIndexes, isDuplicateKeyError } from '../db/driver-errors';
import type { MeterEventDocument, MeterStatus, PriceSnapshot, RequestType, UsageMonthlyDocument } from './metering.models';
import { costMicros, dayOf, monthOf, overagePriceMicros, overageTokensBetween } from './pricing';

export interface MeterEventInput {
  requestId: string;
  agentId: string;
  workspaceId: string;
  timestamp: Date;
  provider: string;
  model: string;
  tier: string | null;
  mode: 'byok' | 'managed';
  plan: string | null;
  requestType: RequestType;
  status: MeterStatus;
  usageSource: 'provider' | 'estimated';
  tokensInput: number;
  tokensOutput: number;
  latencyMs: number;
  credential: string;
  sandbox: boolean;
  attempt: number;
  priceSnapshot: PriceSnapshot;
  /** Whether this event is the call's answer (counted in `requests`); earlier partial attempts are not. */
  countsAsRequest: boolean;
  /** A pre-call reservation released atomically with this event's rollup. */
  reservation?: { tokens: number; costMicros: number };
  /** BYOK monthly budget at the time of the call, for budget alerts. */
  budgetMicros?: number | null;
}

export interface RollupChange {
  workspaceId: string;
  agentId: string;
  month: string;
  mode: 'byok' | 'managed';
  tokensBefore: number;
  tokensAfter: number;
  includedTokens: number;
  costBeforeMicros: number;
  costAfterMicros: number;
  budgetMicros: number | null;
}

interface EventItem {
  kind: 'event';
  event: MeterEventInput;
  /** Worked out once per event, at its first write attempt. */
  derived?: DerivedFields;
  insertAttempted: boolean;
  inserted: boolean;
  /** Frozen at the first rollup attempt, so a retry re-sends exactly the same guarded increment. */
  rollupGroupId?: string;
  rolledUp?: boolean;
  pricing?: { overageTokens: number; priceTotalMicros: number };
  rollupPriced?: boolean;
  eventPriced?: boolean;
}

interface ErrorItem {
  kind: 'error';
  workspaceId: string;
  agentId: string;
  month: string;
  mode: 'byok' | 'managed';
  plan: string | null;
  rollupGroupId?: string;
  applied?: boolean;
}

type QueueItem = EventItem | ErrorItem;

interface DerivedFields {
  month: string;
  day: string;
  costInputMicros: number;
  costOutputMicros: number;
  modelKey: string;
}

function derive(item: EventItem): DerivedFields {
  if (item.derived) return item.derived;
  const { event } = item;
  item.derived = {
    month: monthOf(event.timestamp),
    day: dayOf(event.timestamp),
    costInputMicros: costMicros(event.tokensInput, event.priceSnapshot.inputUsdPerMillion),
    costOutputMicros: costMicros(event.tokensOutput, event.priceSnapshot.outputUsdPerMillion),
    modelKey: modelKey(event.provider, event.model),
  };
  return item.derived;
}

interface RollupGroup {
  id: string;
  agentId: string;
  workspaceId: string;
  month: string;
  mode: 'byok' | 'managed';
  plan: string | null;
  events: EventItem[];
  errorItems: ErrorItem[];
  budgetMicros: number | null;
}

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
}

export const DEFAULT_METER_OPTIONS: MeterOptions = { maxQueue: 200_000, batchSize: 2_000, flushIntervalMs: 100, busyFlushIntervalMs: 250, busyBatchEvents: 50 };

const modelKeys = new Map<string, string>();

export function modelKey(provider: string, model: string): string {
  const plain = `${provider}|${model}`;
  let key = modelKeys.get(plain);
  if (key === undefined) {
    key = Buffer.from(plain).toString('base64url');
    if (modelKeys.size >= 1_000) modelKeys.clear();
    modelKeys.set(plain, key);
  }
  return key;
}

export function parseModelKey(key: string): { provider: string; model: string } {
  const [provider, ...rest] = Buffer.from(key, 'base64url').toString('utf8').split('|');
  return { provider: provider ?? '', model: rest.join('|') };
}

export class MeterService {
  private readonly queue: QueueItem[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private retryDelayMs = 0;
  private lastFlushStartedAt = 0;
  /** The interval that applies after the last batch: `flushIntervalMs`, or `busyFlushIntervalMs` after a large batch. */
  private intervalMs: number;
  private lastBackpressureWarning = 0;
  private stopped = false;
  private readonly listeners: Array<(changes: RollupChange[]) => void> = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly options: MeterOptions;

  constructor(
    private readonly models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'>,
    private readonly logger: Logger,
    options: Partial<MeterOptions> = {},
  ) {
    this.options = { ...DEFAULT_METER_OPTIONS, ...options };
    this.intervalMs = this.options.flushIntervalMs;
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
    this.queue.push({ kind: 'event', event, insertAttempted: false, inserted: false });
    this.afterEnqueue();
  }

  recordError(input: { workspaceId: string; agentId: string; mode: 'byok' | 'managed'; plan: string | null; timestamp: Date }): void {
    this.queue.push({ kind: 'error', workspaceId: input.workspaceId, agentId: input.agentId, month: monthOf(input.timestamp), mode: input.mode, plan: input.plan });
    this.afterEnqueue();
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
        await this.writeBatch(batch);
        this.queue.splice(0, batch.length);
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
    if (!drained) this.logger.error({ pending: this.queue.length }, 'meter queue not drained before shutdown');
    return drained;
  }

  /** ObjectIds of the agents and workspaces in recent batches (one per id, not one per event). */
  private readonly objectIds = new Map<string, Types.ObjectId>();

  private objectId(hex: string): Types.ObjectId {
    let id = this.objectIds.get(hex);
    if (!id) {
      id = new Types.ObjectId(hex);
      if (this.objectIds.size >= 10_000) this.objectIds.clear();
      this.objectIds.set(hex, id);
    }
    return id;
  }

  private toDocument(item: EventItem): Omit<MeterEventDocument, '_id'> {
    const { event } = item;
    const { month, day, costInputMicros: costInput, costOutputMicros: costOutput } = derive(item);
    return {
      requestId: event.requestId,
      agentId: this.objectId(event.agentId),
      workspaceId: this.objectId(event.workspaceId),
      timestamp: event.timestamp,
      month,
      day,
      provider: event.provider,
      model: event.model,
      tier: event.tier,
      mode: event.mode,
      plan: event.plan,
      requestType: event.requestType,
      status: event.status,
      usageSource: event.usageSource,
      tokensInput: event.tokensInput,
      tokensOutput: event.tokensOutput,
      costInputMicros: costInput,
      costOutputMicros: costOutput,
      costTotalMicros: costInput + costOutput,
      priceTotalMicros: 0,
      overageTokens: 0,
      latencyMs: event.latencyMs,
      credential: event.credential,
      sandbox: event.sandbox,
      attempt: event.attempt,
      countedAsRequest: event.countsAsRequest,
      priceSnapshot: event.priceSnapshot,
    };
  }

  private async insertEvents(items: EventItem[]): Promise<void> {
    const toInsert = items.filter((item) => !item.inserted);
    if (toInsert.length === 0) return;
    const documents = toInsert.map((item) => this.toDocument(item));
    const retried = toInsert.map((item) => item.insertAttempted);
    for (const item of toInsert) item.insertAttempted = true;
    const duplicates = new Set<number>();
    try {
      await this.models.MeterEvent.collection.insertMany(documents as never[], { ordered: false });
    } catch (error) {
      const refused = duplicateWriteIndexes(error);
      if (!refused) throw error;
      for (const index of refused) duplicates.add(index);
    }
    toInsert.forEach((item, index) => {
      // A duplicate of our own earlier (unacknowledged) insert is ours to roll up; any other duplicate is a replay.
      item.inserted = !duplicates.has(index) || retried[index] === true;
    });
  }

  /**
   * Writes one batch in stages; each item remembers the stages it has passed, so a batch retried after a
   * failure at any step never applies an earlier step twice: insert → rollup $inc → rollup overage $inc → event price.
   */
  private async writeBatch(batch: QueueItem[]): Promise<void> {
    const eventItems = batch.filter((item): item is EventItem => item.kind === 'event');
    await this.insertEvents(eventItems);

    // Items keep the rollup group they were first attempted in; new items form new groups per agent-month.
    const groups = new Map<string, RollupGroup>();
    const newGroupIds = new Map<string, string>();
    const groupFor = (item: QueueItem, agentId: string, workspaceId: string, month: string, mode: 'byok' | 'managed', plan: string | null) => {
      if (!item.rollupGroupId) {
        const agentMonth = `${agentId}|${month}`;
        let id = newGroupIds.get(agentMonth);
        if (!id) {
          id = crypto.randomBytes(12).toString('hex');
          newGroupIds.set(agentMonth, id);
        }
        item.rollupGroupId = id;
      }
      let group = groups.get(item.rollupGroupId);
      if (!group) {
        group = { id: item.rollupGroupId, agentId, workspaceId, month, mode, plan, events: [], errorItems: [], budgetMicros: null };
        groups.set(item.rollupGroupId, group);
      }
      group.mode = mode;
      group.plan = plan;
      return group;
    };
    for (const item of batch) {
      if (item.kind === 'error') {
        if (!item.applied) groupFor(item, item.agentId, item.workspaceId, item.month, item.mode, item.plan).errorItems.push(item);
      } else if (item.inserted && !item.rolledUp) {
        const group = groupFor(item, item.event.agentId, item.event.workspaceId, derive(item).month, item.event.mode, item.event.plan);
        group.events.push(item);
        if (item.event.budgetMicros !== undefined) group.budgetMicros = item.event.budgetMicros;
      }
    }

    const changes: RollupChange[] = [];
    const results = await Promise.allSettled(
      [...groups.values()].map(async (group) => {
        const change = await this.applyGroup(group);
        if (change) changes.push(change);
      }),
    );

    // Overage reaches the rollup (one guarded $inc per rollup group) and the events, each exactly once.
    const unpricedGroups = new Map<string, { filter: Record<string, unknown>; items: EventItem[] }>();
    for (const item of eventItems) {
      if (item.rolledUp && item.pricing && item.pricing.overageTokens > 0 && !item.rollupPriced) {
        const entry = unpricedGroups.get(item.rollupGroupId!) ?? { filter: { agentId: this.objectId(item.event.agentId), month: derive(item).month }, items: [] };
        entry.items.push(item);
        unpricedGroups.set(item.rollupGroupId!, entry);
      }
    }
    await Promise.all(
      [...unpricedGroups.entries()].map(async ([groupId, { filter, items }]) => {
        const overageTokens = items.reduce((total, item) => total + item.pricing!.overageTokens, 0);
        const priceTotalMicros = items.reduce((total, item) => total + item.pricing!.priceTotalMicros, 0);
        // The guard makes a replay after a lost acknowledgement a no-op.
        await this.models.UsageMonthly.collection.updateOne(
          { ...filter, pricedGroups: { $ne: groupId } },
          { $inc: { overageTokens, priceTotalMicros }, $push: { pricedGroups: { $each: [groupId], $slice: -RECENT_GROUPS_KEPT } } } as never,
        );
        for (const item of items) item.rollupPriced = true;
      }),
    );
    const unpricedEvents = eventItems.filter((item) => item.rolledUp && item.pricing && item.pricing.overageTokens > 0 && !item.eventPriced);
    if (unpricedEvents.length > 0) {
      // $set is idempotent, so this step may simply be repeated.
      await this.models.MeterEvent.collection.bulkWrite(
        unpricedEvents.map((item) => ({
          updateOne: { filter: { requestId: item.event.requestId }, update: { $set: { overageTokens: item.pricing!.overageTokens, priceTotalMicros: item.pricing!.priceTotalMicros } } },
        })),
        { ordered: false },
      );
      for (const item of unpricedEvents) item.eventPriced = true;
    }
    if (changes.length > 0) for (const listener of this.listeners) listener(changes);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private async applyGroup(group: RollupGroup): Promise<RollupChange | undefined> {
    const increments: Record<string, number> = {};
    const add = (path: string, value: number) => {
      if (value !== 0) increments[path] = (increments[path] ?? 0) + value;
    };
    let groupTokens = 0;
    let groupCost = 0;
    for (const item of group.events) {
      const { event } = item;
      const fields = derive(item);
      const tokens = event.tokensInput + event.tokensOutput;
      const costInput = fields.costInputMicros;
      const costOutput = fields.costOutputMicros;
      groupTokens += tokens;
      groupCost += costInput + costOutput;
      add('tokensInput', event.tokensInput);
      add('tokensOutput', event.tokensOutput);
      add('tokens', tokens);
      add('requests', event.countsAsRequest ? 1 : 0);
      add('costInputMicros', costInput);
      add('costOutputMicros', costOutput);
      add('costTotalMicros', costInput + costOutput);
      const day = fields.day.slice(8, 10);
      add(`daily.${day}.tokensInput`, event.tokensInput);
      add(`daily.${day}.tokensOutput`, event.tokensOutput);
      add(`daily.${day}.requests`, event.countsAsRequest ? 1 : 0);
      const byModel = fields.modelKey;
      add(`byModel.${byModel}.tokens`, tokens);
      add(`byModel.${byModel}.costMicros`, costInput + costOutput);
      if (event.reservation) {
        add('reservedTokens', -event.reservation.tokens);
        add('reservedCostMicros', -event.reservation.costMicros);
      }
    }
    add('errors', group.errorItems.length);
    if (Object.keys(increments).length === 0) {
      for (const item of group.errorItems) item.applied = true;
      for (const item of group.events) item.rolledUp = true;
      return undefined;
    }

    const after = await applyGuardedRollup(this.models.UsageMonthly, {
      agentId: this.objectId(group.agentId),
      workspaceId: this.objectId(group.workspaceId),
      month: group.month,
      groupId: group.id,
      increments,
      set: { mode: group.mode, plan: group.plan, updatedAt: new Date() },
      groupTokens,
      groupCostMicros: groupCost,
    });
    for (const item of group.errorItems) item.applied = true;

    // The atomic $inc gave this group a disjoint slice [after − groupTokens, after] of the month's tokens:
    // split each event at the allowance inside that slice.
    const tokensAfter = after.tokens;
    let running = tokensAfter - groupTokens;
    let includedTokens = 0;
    for (const item of group.events) {
      const { event } = item;
      const tokens = event.tokensInput + event.tokensOutput;
      if (event.mode === 'managed') {
        includedTokens = event.priceSnapshot.includedTokens;
        const overageTokens = overageTokensBetween(running, running + tokens, includedTokens);
        item.pricing = { overageTokens, priceTotalMicros: overagePriceMicros(overageTokens, event.priceSnapshot.overageUsdPerMillion) };
      }
      item.rolledUp = true;
      running += tokens;
    }
    if (group.events.length === 0) return undefined;
    return {
      workspaceId: group.workspaceId,
      agentId: group.agentId,
      month: group.month,
      mode: group.mode,
      tokensBefore: tokensAfter - groupTokens,
      tokensAfter,
      includedTokens,
      costBeforeMicros: after.costTotalMicros - groupCost,
      costAfterMicros: after.costTotalMicros,
      budgetMicros: group.budgetMicros,
    };
  }
}

const RECENT_GROUPS_KEPT = 200;

interface AppliedGroupEntry {
  id: string;
  tokens: number;
  costMicros: number;
}

/**
 * One rollup $inc, exactly once: the rollup remembers the ids of the last groups applied to it, and the update
 * only matches when this group is not among them. A replay (the acknowledgement of the first try was lost) then
 * finds the group recorded, and its post-increment totals are recovered from the entries that followed it.
 * Two concurrent first upserts race to E11000 on (agentId, month); the loser simply tries again.
 */
export async function applyGuardedRollup(
  model: Model<UsageMonthlyDocument>,
  input: {
    agentId: Types.ObjectId;
    workspaceId: Types.ObjectId;
    month: string;
    groupId: string;
    increments: Record<string, number>;
    set: Record<string, unknown>;
    groupTokens: number;
    groupCostMicros: number;
  },
): Promise<{ tokens: number; costTotalMicros: number }> {
  const entry: AppliedGroupEntry = { id: input.groupId, tokens: input.groupTokens, costMicros: input.groupCostMicros };
  for (let attempt = 0; ; attempt += 1) {
    try {
      const result = await model.collection.findOneAndUpdate(
        { agentId: input.agentId, month: input.month, 'appliedGroups.id': { $ne: input.groupId } },
        {
          $inc: input.increments,
          $set: input.set,
          $setOnInsert: { workspaceId: input.workspaceId },
          $push: { appliedGroups: { $each: [entry], $slice: -RECENT_GROUPS_KEPT } },
        } as never,
        { upsert: true, returnDocument: 'after', projection: { tokens: 1, costTotalMicros: 1 } },
      );
      return { tokens: (result?.tokens as number) ?? 0, costTotalMicros: (result?.costTotalMicros as number) ?? 0 };
    } catch (error) {
      if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
      const existing = await model.collection.findOne(
        { agentId: input.agentId, month: input.month },
        { projection: { tokens: 1, costTotalMicros: 1, appliedGroups: 1 } },
      );
      const applied = (existing?.appliedGroups ?? []) as unknown as AppliedGroupEntry[];
      const index = applied.findIndex((candidate) => candidate.id === input.groupId);
      if (existing && index >= 0) {
        const later = applied.slice(index + 1);
        return {
          tokens: (existing.tokens ?? 0) - later.reduce((total, candidate) => total + candidate.tokens, 0),
          costTotalMicros: (existing.costTotalMicros ?? 0) - later.reduce((total, candidate) => total + candidate.costMicros, 0),
        };
      }
      // Otherwise it was the race of two first upserts: try again as an update.
    }
  }
}
