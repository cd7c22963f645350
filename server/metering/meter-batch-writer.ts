// The meter's batch writer: insert events → rollup $inc → rollup overage $inc → event price, in stages that each
// item remembers, so a batch retried after a failure at any step never applies an earlier step twice.
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { duplicateWriteIndexes } from '../db/driver-errors';
import type { MeterEventDocument, MeteringModels } from './metering.models';
import type { RollupChange } from './meter.types';
import { hourOf } from './pricing';
import { applyGuardedOverage, applyGuardedRollup } from './guarded-rollup';
import { splitOverage, sumPricing, sumRollupIncrement, type EventPricing } from './rollup-updates';
import type { EndUserUsageModels } from './end-user-usage.model';
import { applyEndUserPricing, applyEndUserRollups } from './end-user-rollup';
import { derive, type ErrorItem, type EventItem, type QueueItem } from './meter-queue-items';

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

/** Events per insert command (see insertEvents). */
export const INSERT_CHUNK_EVENTS = 64;

/** Items keep the rollup group they were first attempted in; new items form new groups per agent-month. */
function groupForRollup(batch: readonly QueueItem[]): RollupGroup[] {
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
  return [...groups.values()];
}

/** A rolled-up managed event with tokens past the allowance: its overage is still to be written (stages 3 and 4). */
function hasOverage(item: EventItem): item is EventItem & { pricing: EventPricing; rollupGroupId: string } {
  return item.rolledUp === true && item.pricing !== undefined && item.pricing.overageTokens > 0;
}

export class MeterBatchWriter {
  /** ObjectIds of the agents and workspaces in recent batches (one per id, not one per event). */
  private readonly objectIds = new Map<string, Types.ObjectId>();

  constructor(
    private readonly models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'> & Partial<EndUserUsageModels>,
    /** Called after each batch with the rollups it changed. */
    private readonly onRollupsChanged: (changes: RollupChange[]) => void,
    /** Called once the batch's inserts are settled and its rollup groups chosen, before any rollup is sent (the spool). */
    private readonly beforeRollups: (batch: readonly QueueItem[]) => void | Promise<void> = () => undefined,
  ) {}

  /** Writes one batch; throws (after the stages that could be written) when a stage failed, for the caller to retry. */
  async write(batch: readonly QueueItem[]): Promise<void> {
    const eventItems = batch.filter((item): item is EventItem => item.kind === 'event');
    await this.insertEvents(eventItems);

    const changes: RollupChange[] = [];
    const groups = groupForRollup(batch);
    await this.beforeRollups(batch);
    const results = await Promise.allSettled(
      groups.map(async (group) => {
        const change = await this.applyGroup(group);
        if (change) changes.push(change);
      }),
    );

    const endUsers = this.models.EndUserUsage ? await applyEndUserRollups(this.models.EndUserUsage, eventItems).then(() => undefined, (error: unknown) => error) : undefined;

    await this.priceRollups(eventItems);
    await this.priceEvents(eventItems);
    if (this.models.EndUserUsage && endUsers === undefined) await applyEndUserPricing(this.models.EndUserUsage, eventItems);
    if (changes.length > 0) this.onRollupsChanged(changes);
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
    if (endUsers !== undefined) throw endUsers;
  }

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
      // Cost-aware routing (#14): only on the events that have them.
      ...(event.routing ? { routing: event.routing } : {}),
      ...(event.fallback ? { fallback: true } : {}),
      ...(event.degraded ? { degraded: event.degraded } : {}),
      ...(event.apiKeyId ? { apiKeyId: event.apiKeyId } : {}),
      hour: hourOf(event.timestamp),
      // End-customer attribution, only when the request named one.
      ...(event.endUser != null ? { endUser: event.endUser } : {}),
      ...(event.metadata != null ? { metadata: event.metadata } : {}),
      // Response cache and A/B experiments (cache): stored only when set.
      ...(event.cacheHit !== undefined ? { cacheHit: event.cacheHit } : {}),
      ...(event.savedPriceMicros !== undefined ? { savedPriceMicros: event.savedPriceMicros } : {}),
      ...(event.experiment ? { experiment: event.experiment } : {}),
    };
  }

  /**
   * Stage 1: one document per event, idempotent by requestId. Sent in chunks of INSERT_CHUNK_EVENTS, one after the
   * other: the driver encodes a whole insert on the event loop, and a busy interval's batch (hundreds of events) in one
   * piece held every call in flight for a millisecond or more (the c1 p99 tail, docs/BENCHMARKS.md).
   */
  private async insertEvents(items: EventItem[]): Promise<void> {
    const toInsert = items.filter((item) => !item.inserted);
    for (let start = 0; start < toInsert.length; start += INSERT_CHUNK_EVENTS) {
      await this.insertChunk(toInsert.slice(start, start + INSERT_CHUNK_EVENTS));
    }
  }

  private async insertChunk(toInsert: EventItem[]): Promise<void> {
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

  /** Stage 2: the group's guarded rollup $inc, then each event's share past the allowance. */
  private async applyGroup(group: RollupGroup): Promise<RollupChange | undefined> {
    const { increments, tokens: groupTokens, costMicros: groupCost, managedTokens: groupManagedTokens } = sumRollupIncrement(
      group.events.map((item) => ({ event: item.event, fields: derive(item) })),
      group.errorItems.length,
    );
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
      groupManagedTokens,
    });
    for (const item of group.errorItems) item.applied = true;

    const tokensBefore = after.tokens - groupTokens;
    const { pricing, includedTokens } = splitOverage(
      group.events.map((item) => item.event),
      after.managedTokens - groupManagedTokens,
    );
    group.events.forEach((item, index) => {
      const eventPricing = pricing[index];
      if (eventPricing) item.pricing = eventPricing;
      item.rolledUp = true;
    });
    if (group.events.length === 0) return undefined;
    return {
      workspaceId: group.workspaceId,
      agentId: group.agentId,
      month: group.month,
      mode: group.mode,
      tokensBefore,
      tokensAfter: after.tokens,
      includedTokens,
      costBeforeMicros: after.costTotalMicros - groupCost,
      costAfterMicros: after.costTotalMicros,
      budgetMicros: group.budgetMicros,
      managedTokensBefore: after.managedTokens - groupManagedTokens,
      managedTokensAfter: after.managedTokens,
    };
  }

  /** Stage 3: overage reaches the rollup, one guarded $inc per rollup group. */
  private async priceRollups(eventItems: EventItem[]): Promise<void> {
    const unpricedGroups = new Map<string, { agentId: Types.ObjectId; month: string; items: Array<EventItem & { pricing: EventPricing }> }>();
    for (const item of eventItems) {
      if (hasOverage(item) && !item.rollupPriced) {
        const entry = unpricedGroups.get(item.rollupGroupId) ?? { agentId: this.objectId(item.event.agentId), month: derive(item).month, items: [] };
        entry.items.push(item);
        unpricedGroups.set(item.rollupGroupId, entry);
      }
    }
    await Promise.all(
      [...unpricedGroups.entries()].map(async ([groupId, { agentId, month, items }]) => {
        const byPlan: Record<string, { overageTokens: number; priceTotalMicros: number }> = {};
        for (const item of items) {
          if (!item.event.plan) continue;
          const entry = (byPlan[item.event.plan] ??= { overageTokens: 0, priceTotalMicros: 0 });
          entry.overageTokens += item.pricing.overageTokens;
          entry.priceTotalMicros += item.pricing.priceTotalMicros;
        }
        await applyGuardedOverage(this.models.UsageMonthly, { agentId, month, groupId, ...sumPricing(items.map((item) => item.pricing)), byPlan });
        for (const item of items) item.rollupPriced = true;
      }),
    );
  }

  /** Stage 4: each event carries its price ($set is idempotent, so this step may simply be repeated). */
  private async priceEvents(eventItems: EventItem[]): Promise<void> {
    const unpricedEvents = eventItems.filter(hasOverage).filter((item) => !item.eventPriced);
    if (unpricedEvents.length === 0) return;
    await this.models.MeterEvent.collection.bulkWrite(
      unpricedEvents.map((item) => ({
        updateOne: { filter: { requestId: item.event.requestId }, update: { $set: { overageTokens: item.pricing.overageTokens, priceTotalMicros: item.pricing.priceTotalMicros } } },
      })),
      { ordered: false },
    );
    for (const item of unpricedEvents) item.eventPriced = true;
  }
}
