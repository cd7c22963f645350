// Recomputes every agent-month rollup from its meter events, reports drift and (with fix) repairs it. Only months
// whose events are all still kept (inside the retention window) are compared: an aged-out event is not drift.
import type { MeteringModels } from './metering.models';
import { modelKey } from './model-key';
import { DomainError } from '../errors/domain-error';
import { monthOf } from './pricing';

export interface RollupDrift {
  agentId: string;
  month: string;
  field: string;
  rollup: number;
  events: number;
}

const COUNTERS = ['tokensInput', 'tokensOutput', 'tokens', 'requests', 'costInputMicros', 'costOutputMicros', 'costTotalMicros', 'priceTotalMicros', 'overageTokens', 'managedTokens', 'byokTokens', 'byokCostMicros'] as const;

/** The first month all of whose events are still kept, when events older than `keptSince` may have aged out. */
export function firstCompleteMonth(keptSince: Date): string {
  const month = monthOf(keptSince);
  const startOfMonth = new Date(`${month}-01T00:00:00.000Z`);
  if (startOfMonth.getTime() >= keptSince.getTime()) return month;
  return monthOf(new Date(Date.UTC(startOfMonth.getUTCFullYear(), startOfMonth.getUTCMonth() + 1, 1)));
}

export interface ReconcileOptions {
  month?: string;
  fix: boolean;
  /** Events before this instant may have been removed by retention (undefined: all are kept). */
  keptSince?: Date;
}

export async function reconcileUsage(
  models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'>,
  options: ReconcileOptions,
): Promise<{ checked: number; drifts: RollupDrift[]; repaired: number; fromMonth: string | undefined }> {
  const fromMonth = options.keptSince ? firstCompleteMonth(options.keptSince) : undefined;
  if (options.month && fromMonth && options.month < fromMonth) {
    throw new DomainError('INVALID_MONTH', `The events of ${options.month} are partly past the retention window; only ${fromMonth} and later can be reconciled (their rollups are kept as they are).`);
  }
  const match = options.month ? { month: options.month } : fromMonth ? { month: { $gte: fromMonth } } : {};
  const sums = await models.MeterEvent.collection
    .aggregate([
      { $match: match },
      {
        $group: {
          _id: { agentId: '$agentId', month: '$month' },
          workspaceId: { $first: '$workspaceId' },
          tokensInput: { $sum: '$tokensInput' },
          tokensOutput: { $sum: '$tokensOutput' },
          tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } },
          costInputMicros: { $sum: '$costInputMicros' },
          costOutputMicros: { $sum: '$costOutputMicros' },
          costTotalMicros: { $sum: '$costTotalMicros' },
          priceTotalMicros: { $sum: '$priceTotalMicros' },
          overageTokens: { $sum: '$overageTokens' },
          managedTokens: { $sum: { $cond: [{ $eq: ['$mode', 'managed'] }, { $add: ['$tokensInput', '$tokensOutput'] }, 0] } },
          requests: { $sum: { $cond: ['$countedAsRequest', 1, 0] } },
          byokTokens: { $sum: { $cond: [{ $eq: ['$mode', 'byok'] }, { $add: ['$tokensInput', '$tokensOutput'] }, 0] } },
          byokCostMicros: { $sum: { $cond: [{ $eq: ['$mode', 'byok'] }, '$costTotalMicros', 0] } },
        },
      },
    ])
    .toArray();
  const drifts: RollupDrift[] = [];
  let repaired = 0;
  for (const sum of sums) {
    const { agentId, month } = sum._id as { agentId: import('mongoose').Types.ObjectId; month: string };
    const rollup = await models.UsageMonthly.collection.findOne({ agentId, month });
    const rollupDrifts: RollupDrift[] = [];
    for (const field of COUNTERS) {
      const fromRollup = (rollup?.[field] as number | undefined) ?? 0;
      const fromEvents = (sum[field] as number | undefined) ?? 0;
      if (fromRollup !== fromEvents) {
        rollupDrifts.push({ agentId: agentId.toString(), month, field, rollup: fromRollup, events: fromEvents });
      }
    }
    drifts.push(...rollupDrifts);
    if (options.fix && rollupDrifts.length > 0) {
      // Daily and per-model breakdowns are rebuilt too, from the same events.
      const breakdown = await models.MeterEvent.collection
        .aggregate([
          { $match: { agentId, month } },
          { $group: { _id: { day: '$day', provider: '$provider', model: '$model' }, tokensInput: { $sum: '$tokensInput' }, tokensOutput: { $sum: '$tokensOutput' }, requests: { $sum: { $cond: ['$countedAsRequest', 1, 0] } }, costMicros: { $sum: '$costTotalMicros' } } },
        ])
        .toArray();
      const daily: Record<string, { tokensInput: number; tokensOutput: number; requests: number }> = {};
      const byModel: Record<string, { tokens: number; costMicros: number }> = {};
      for (const row of breakdown) {
        const key = row._id as { day: string; provider: string; model: string };
        const day = key.day.slice(8, 10);
        daily[day] ??= { tokensInput: 0, tokensOutput: 0, requests: 0 };
        daily[day].tokensInput += row.tokensInput;
        daily[day].tokensOutput += row.tokensOutput;
        daily[day].requests += row.requests;
        const modelEntry = (byModel[modelKey(key.provider, key.model)] ??= { tokens: 0, costMicros: 0 });
        modelEntry.tokens += row.tokensInput + row.tokensOutput;
        modelEntry.costMicros += row.costMicros;
      }
      // Billing's per-plan allowance use (managed events only).
      const planRows = await models.MeterEvent.collection
        .aggregate([
          { $match: { agentId, month, mode: 'managed' } },
          { $group: { _id: '$plan', tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } }, overageTokens: { $sum: '$overageTokens' }, priceMicros: { $sum: '$priceTotalMicros' } } },
        ])
        .toArray();
      const byPlan: Record<string, { tokens: number; overageTokens: number; priceMicros: number }> = {};
      for (const row of planRows) if (row._id) byPlan[row._id as string] = { tokens: row.tokens, overageTokens: row.overageTokens, priceMicros: row.priceMicros };
      const set: Record<string, unknown> = { daily, byModel, byPlan, updatedAt: new Date() };
      for (const field of COUNTERS) set[field] = sum[field] ?? 0;
      await models.UsageMonthly.collection.updateOne({ agentId, month }, { $set: set, $setOnInsert: { workspaceId: sum.workspaceId } }, { upsert: true });
      repaired += 1;
    }
  }
  return { checked: sums.length, drifts, repaired, fromMonth };
}
