import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Billing (docs/BILLING.md): the plan_history and statements collections and their indexes, and the per-plan counters
// rollups gained (managedTokens, byPlan, byokTokens, byokCostMicros) filled in from the meter events of rollups
// written before them — so a month in progress keeps counting its managed tokens against the allowance.
export const migration: Migration = {
  id: '006-billing',
  description: 'Create plan_history and statements; fill managed/per-plan/BYOK counters of existing rollups from their events',
  async up({ models }) {
    for (const model of [models.PlanChange, models.Statement]) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
    const cursor = models.UsageMonthly.collection.find({ managedTokens: { $exists: false } }, { projection: { agentId: 1, month: 1 } });
    for await (const rollup of cursor) {
      const rows = await models.MeterEvent.collection
        .aggregate([
          { $match: { agentId: rollup.agentId, month: rollup.month } },
          {
            $group: {
              _id: { mode: '$mode', plan: '$plan' },
              tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } },
              overageTokens: { $sum: '$overageTokens' },
              priceMicros: { $sum: '$priceTotalMicros' },
              costMicros: { $sum: '$costTotalMicros' },
            },
          },
        ])
        .toArray();
      const set: Record<string, unknown> = { managedTokens: 0, byPlan: {}, byokTokens: 0, byokCostMicros: 0 };
      const byPlan: Record<string, { tokens: number; overageTokens: number; priceMicros: number }> = {};
      for (const row of rows) {
        const key = row._id as { mode: string; plan: string | null };
        if (key.mode === 'managed') {
          set.managedTokens = (set.managedTokens as number) + row.tokens;
          if (key.plan) byPlan[key.plan] = { tokens: row.tokens, overageTokens: row.overageTokens, priceMicros: row.priceMicros };
        } else {
          set.byokTokens = (set.byokTokens as number) + row.tokens;
          set.byokCostMicros = (set.byokCostMicros as number) + row.costMicros;
        }
      }
      set.byPlan = byPlan;
      // Only where the counters are still missing: a rollup the meter already gave them to keeps its own.
      await models.UsageMonthly.collection.updateOne({ _id: rollup._id, managedTokens: { $exists: false } }, { $set: set });
    }
  },
};
