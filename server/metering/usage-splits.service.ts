// Usage split by what the response cache and A/B experiments did (cache): per agent, the calls answered from the cache
// and the price they saved; per experiment variant, calls, tokens, cost and price. Read from the meter events.
import { Types } from 'mongoose';
import type { MeteringModels } from './metering.models';

export class UsageSplitsService {
  constructor(private readonly models: Pick<MeteringModels, 'MeterEvent'>) {}

  /** Cache hits and saved price per agent in a month. */
  async cache(workspaceId: string, month: string) {
    const rows = await this.models.MeterEvent.aggregate<{ _id: Types.ObjectId; hits: number; savedPriceMicros: number; calls: number }>([
      { $match: { workspaceId: new Types.ObjectId(workspaceId), month, countedAsRequest: true } },
      {
        $group: {
          _id: '$agentId',
          calls: { $sum: 1 },
          hits: { $sum: { $cond: [{ $eq: ['$cacheHit', true] }, 1, 0] } },
          savedPriceMicros: { $sum: { $ifNull: ['$savedPriceMicros', 0] } },
        },
      },
    ]);
    const agents = rows.map((row) => ({ agentId: row._id.toString(), calls: row.calls, cacheHits: row.hits, hitRate: row.calls > 0 ? row.hits / row.calls : 0, savedPriceMicros: row.savedPriceMicros }));
    return {
      month,
      agents,
      totals: {
        calls: agents.reduce((sum, row) => sum + row.calls, 0),
        cacheHits: agents.reduce((sum, row) => sum + row.cacheHits, 0),
        savedPriceMicros: agents.reduce((sum, row) => sum + row.savedPriceMicros, 0),
      },
    };
  }

  /** Calls, tokens, cost and price per experiment variant in a month (embedding calls of a variant included). */
  async experiments(workspaceId: string, month: string) {
    const rows = await this.models.MeterEvent.aggregate<{
      _id: { experiment: string; variant: string; agentId: Types.ObjectId };
      calls: number;
      tokens: number;
      costMicros: number;
      priceMicros: number;
      cacheHits: number;
    }>([
      { $match: { workspaceId: new Types.ObjectId(workspaceId), month, 'experiment.id': { $exists: true } } },
      {
        $group: {
          _id: { experiment: '$experiment.id', variant: '$experiment.variant', agentId: '$agentId' },
          calls: { $sum: { $cond: ['$countedAsRequest', 1, 0] } },
          tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } },
          // Own-key provider cost only: a plan's provider cost is the platform's and is not shown (#18), as in usage totals.
          costMicros: { $sum: { $cond: [{ $eq: ['$mode', 'byok'] }, '$costTotalMicros', 0] } },
          priceMicros: { $sum: '$priceTotalMicros' },
          cacheHits: { $sum: { $cond: [{ $eq: ['$cacheHit', true] }, 1, 0] } },
        },
      },
      { $sort: { '_id.experiment': 1, '_id.variant': 1 } },
    ]);
    return {
      month,
      variants: rows.map((row) => ({
        experimentId: row._id.experiment,
        variant: row._id.variant,
        agentId: row._id.agentId.toString(),
        calls: row.calls,
        tokens: row.tokens,
        costMicros: row.costMicros,
        priceMicros: row.priceMicros,
        cacheHits: row.cacheHits,
      })),
    };
  }
}
