// The meter's end-user stages: each written event that names an end user reaches its agent-end-user-month rollup
// exactly once (guarded by the event's rollup group id, which a retried batch and a spool replay keep), releasing
// the per-end-user cap's reservation in the same $inc; its overage price follows once the event is priced.
import type { Model } from 'mongoose';
import { Types } from 'mongoose';
import { isDuplicateKeyError } from '../db/driver-errors';
import type { EndUserUsageDocument } from './end-user-usage.model';
import type { EventItem } from './meter-queue-items';
import { costMicros, dayOf, monthOf } from './pricing';

const RECENT_GROUPS_KEPT = 200;

interface EndUserGroup {
  key: string;
  groupId: string;
  agentId: string;
  workspaceId: string;
  endUser: string;
  month: string;
  items: EventItem[];
}

function groupsOf(items: readonly EventItem[], pick: (item: EventItem) => boolean): EndUserGroup[] {
  const groups = new Map<string, EndUserGroup>();
  for (const item of items) {
    const endUser = item.event.endUser;
    if (!endUser || !item.rollupGroupId || !pick(item)) continue;
    const key = `${item.rollupGroupId}|${endUser}`;
    let group = groups.get(key);
    if (!group) {
      group = { key, groupId: item.rollupGroupId, agentId: item.event.agentId, workspaceId: item.event.workspaceId, endUser, month: monthOf(item.event.timestamp), items: [] };
      groups.set(key, group);
    }
    group.items.push(item);
  }
  return [...groups.values()];
}

/** Stage 2b: tokens, requests, cost and the released reservation of each (rollup group, end user), exactly once. */
export async function applyEndUserRollups(model: Model<EndUserUsageDocument>, items: readonly EventItem[]): Promise<void> {
  const groups = groupsOf(items, (item) => item.inserted && !item.endUserRolledUp);
  const results = await Promise.allSettled(
    groups.map(async (group) => {
      const increments: Record<string, number> = {};
      const add = (path: string, value: number) => {
        if (value !== 0) increments[path] = (increments[path] ?? 0) + value;
      };
      let lastSeenAt = new Date(0);
      for (const { event } of group.items) {
        const tokens = event.tokensInput + event.tokensOutput;
        add('tokensInput', event.tokensInput);
        add('tokensOutput', event.tokensOutput);
        add('tokens', tokens);
        add('requests', event.countsAsRequest ? 1 : 0);
        add('costMicros', costMicros(event.tokensInput, event.priceSnapshot.inputUsdPerMillion) + costMicros(event.tokensOutput, event.priceSnapshot.outputUsdPerMillion));
        add(`daily.${dayOf(event.timestamp).slice(8, 10)}`, tokens);
        if (event.endUserReservation) add('reservedTokens', -event.endUserReservation.tokens);
        if (event.timestamp > lastSeenAt) lastSeenAt = event.timestamp;
      }
      const filter = { agentId: new Types.ObjectId(group.agentId), endUser: group.endUser, month: group.month };
      for (let attempt = 0; ; attempt += 1) {
        try {
          await model.collection.updateOne(
            { ...filter, appliedGroups: { $ne: group.groupId } },
            {
              $inc: increments,
              $max: { lastSeenAt },
              $setOnInsert: { workspaceId: new Types.ObjectId(group.workspaceId) },
              $push: { appliedGroups: { $each: [group.groupId], $slice: -RECENT_GROUPS_KEPT } },
            } as never,
            { upsert: true },
          );
          break;
        } catch (error) {
          // E11000: the group was applied already (a replay), or two first upserts raced: look, then retry as an update.
          if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
          const existing = await model.collection.findOne({ ...filter, appliedGroups: group.groupId }, { projection: { _id: 1 } });
          if (existing) break;
        }
      }
      for (const item of group.items) item.endUserRolledUp = true;
    }),
  );
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}

/** Stage 4b: the overage price of the end user's priced events (managed plans past the allowance), exactly once. */
export async function applyEndUserPricing(model: Model<EndUserUsageDocument>, items: readonly EventItem[]): Promise<void> {
  const groups = groupsOf(items, (item) => item.endUserRolledUp === true && !item.endUserPriced && item.rollupPriced === true && (item.pricing?.priceTotalMicros ?? 0) > 0);
  await Promise.all(
    groups.map(async (group) => {
      const priceMicros = group.items.reduce((total, item) => total + (item.pricing?.priceTotalMicros ?? 0), 0);
      await model.collection.updateOne(
        { agentId: new Types.ObjectId(group.agentId), endUser: group.endUser, month: group.month, pricedGroups: { $ne: group.groupId } },
        { $inc: { priceMicros }, $push: { pricedGroups: { $each: [group.groupId], $slice: -RECENT_GROUPS_KEPT } } } as never,
      );
      for (const item of group.items) item.endUserPriced = true;
    }),
  );
}
