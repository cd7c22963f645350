// Exactly-once writes to an agent-month rollup: each guarded by the rollup group ids the rollup remembers.
import type { Model, Types } from 'mongoose';
import { isDuplicateKeyError } from '../db/driver-errors';
import type { UsageMonthlyDocument } from './metering.models';

const RECENT_GROUPS_KEPT = 200;

interface AppliedGroupEntry {
  id: string;
  tokens: number;
  costMicros: number;
  /** Absent in entries written before billing counted managed tokens apart. */
  managedTokens?: number;
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
    groupManagedTokens?: number;
  },
): Promise<{ tokens: number; costTotalMicros: number; managedTokens: number }> {
  const entry: AppliedGroupEntry = { id: input.groupId, tokens: input.groupTokens, costMicros: input.groupCostMicros, managedTokens: input.groupManagedTokens ?? 0 };
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
        { upsert: true, returnDocument: 'after', projection: { tokens: 1, costTotalMicros: 1, managedTokens: 1 } },
      );
      return { tokens: (result?.tokens as number) ?? 0, costTotalMicros: (result?.costTotalMicros as number) ?? 0, managedTokens: (result?.managedTokens as number) ?? 0 };
    } catch (error) {
      if (!isDuplicateKeyError(error) || attempt >= 5) throw error;
      const existing = await model.collection.findOne(
        { agentId: input.agentId, month: input.month },
        { projection: { tokens: 1, costTotalMicros: 1, managedTokens: 1, appliedGroups: 1 } },
      );
      const applied = (existing?.appliedGroups ?? []) as unknown as AppliedGroupEntry[];
      const index = applied.findIndex((candidate) => candidate.id === input.groupId);
      if (existing && index >= 0) {
        const later = applied.slice(index + 1);
        return {
          tokens: (existing.tokens ?? 0) - later.reduce((total, candidate) => total + candidate.tokens, 0),
          costTotalMicros: (existing.costTotalMicros ?? 0) - later.reduce((total, candidate) => total + candidate.costMicros, 0),
          managedTokens: (existing.managedTokens ?? 0) - later.reduce((total, candidate) => total + (candidate.managedTokens ?? 0), 0),
        };
      }
      // Otherwise it was the race of two first upserts: try again as an update.
    }
  }
}

/**
 * A rollup group's overage, exactly once: the rollup remembers the groups priced, so a replay after a lost
 * acknowledgement matches nothing.
 */
export async function applyGuardedOverage(
  model: Model<UsageMonthlyDocument>,
  input: {
    agentId: Types.ObjectId;
    month: string;
    groupId: string;
    overageTokens: number;
    priceTotalMicros: number;
    /** The same overage by plan (billing's per-plan allowance use); plan ids are plain words, safe as field names. */
    byPlan?: Record<string, { overageTokens: number; priceTotalMicros: number }>;
  },
): Promise<void> {
  const byPlan: Record<string, number> = {};
  for (const [plan, pricing] of Object.entries(input.byPlan ?? {})) {
    byPlan[`byPlan.${plan}.overageTokens`] = pricing.overageTokens;
    byPlan[`byPlan.${plan}.priceMicros`] = pricing.priceTotalMicros;
  }
  await model.collection.updateOne(
    { agentId: input.agentId, month: input.month, pricedGroups: { $ne: input.groupId } },
    {
      $inc: { overageTokens: input.overageTokens, priceTotalMicros: input.priceTotalMicros, ...byPlan },
      $push: { pricedGroups: { $each: [input.groupId], $slice: -RECENT_GROUPS_KEPT } },
    } as never,
  );
}
