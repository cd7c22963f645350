// How much of an agent's monthly limit is used (spent + reserved), for graceful degradation (#14): near the limit the
// agent moves to its light model first. One indexed read of the agent-month rollup; the limit itself is still held by
// the reservation's guarded update (limits.service.ts), so this reading may lag without letting a call overshoot.
import type { MeteredAgentRecord, MeteringModels } from './metering.models';
import { applicableLimit } from './limits.service';
import { monthOf } from './pricing';

/** At this share of a budget or cap the agent moves to its light model (when its owner opted in). */
export const DEGRADE_AT_FRACTION = 0.8;

/** The limits degradation looks at: the BYOK budget, the managed token cap and (when set) the managed overage $ cap. */
export type HeadroomAgent = Pick<MeteredAgentRecord, '_id' | 'llm' | 'limits'> & { limits?: { monthlyOverageBudgetMicros?: number | null } | null };

export class LimitHeadroom {
  constructor(private readonly models: Pick<MeteringModels, 'UsageMonthly'>) {}

  /** Whether degradation applies to this agent at all (it has a limit to be near). */
  static hasLimit(agent: HeadroomAgent): boolean {
    return applicableLimit(agent) !== undefined || (agent.llm.mode === 'managed' && (agent.limits?.monthlyOverageBudgetMicros ?? null) != null);
  }

  /** The largest used share among the agent's limits, 0 without one. */
  async usedFraction(agent: HeadroomAgent, now = new Date()): Promise<number> {
    if (!LimitHeadroom.hasLimit(agent)) return 0;
    const rollup = (await this.models.UsageMonthly.collection.findOne(
      { agentId: agent._id, month: monthOf(now) },
      { projection: { tokens: 1, reservedTokens: 1, costTotalMicros: 1, reservedCostMicros: 1, priceTotalMicros: 1 } },
    )) as { tokens?: number; reservedTokens?: number; costTotalMicros?: number; reservedCostMicros?: number; priceTotalMicros?: number } | null;
    if (!rollup) return 0;
    const fractions: number[] = [0];
    const limit = applicableLimit(agent);
    if (limit?.cap) fractions.push(((rollup.tokens ?? 0) + (rollup.reservedTokens ?? 0)) / limit.cap);
    if (limit?.budget) fractions.push(((rollup.costTotalMicros ?? 0) + (rollup.reservedCostMicros ?? 0)) / limit.budget);
    const overageCap = agent.llm.mode === 'managed' ? agent.limits?.monthlyOverageBudgetMicros ?? null : null;
    if (overageCap) fractions.push((rollup.priceTotalMicros ?? 0) / overageCap);
    return Math.max(...fractions);
  }
}
