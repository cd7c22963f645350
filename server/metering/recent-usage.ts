// Which BYOK agents were used lately, from their monthly rollups (written with every metered batch): the background
// key checker checks only keys in use.
import type { MeteringModels } from './metering.models';
import { monthOf } from './pricing';

export async function recentlyUsedByokAgents(models: Pick<MeteringModels, 'UsageMonthly'>, since: Date, now = new Date()): Promise<string[]> {
  const months = [...new Set([monthOf(since), monthOf(now)])];
  const rows = await models.UsageMonthly.collection
    .find({ month: { $in: months }, mode: 'byok', updatedAt: { $gte: since } }, { projection: { agentId: 1 } })
    .toArray();
  return [...new Set(rows.map((row) => String(row.agentId)))];
}
