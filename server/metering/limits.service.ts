// The pre-call hook: reserves an estimate against a token cap or budget, race-free.
import { Types } from 'mongoose';
import type { MeteredAgentRecord, MeteringModels } from './metering.models';
import { DomainError } from '../errors/domain-error';
import { isDuplicateKeyError } from '../db/driver-errors';
import { monthOf } from './pricing';

export interface Reservation {
  agentId: string;
  month: string;
  tokens: number;
  costMicros: number;
}

export const planLimitReached = (message: string) => new DomainError('PLAN_LIMIT_REACHED', message);

/** The limit a call of this agent is held to: a token cap on a managed plan, a budget on the agent's own key. */
export function applicableLimit(agent: Pick<MeteredAgentRecord, 'llm' | 'limits'>): { cap: number | null; budget: number | null } | undefined {
  const cap = agent.llm.mode === 'managed' ? agent.limits?.monthlyTokenCap ?? null : null;
  const budget = agent.llm.mode === 'byok' ? agent.limits?.monthlyBudgetMicros ?? null : null;
  return cap == null && budget == null ? undefined : { cap, budget };
}

export class LimitsService {
  constructor(private readonly models: Pick<MeteringModels, 'UsageMonthly'>) {}

  /**
   * Checks the agent's limits and, when it has one, atomically reserves the call's worst case
   * (input + max output) so that concurrent calls cannot overshoot it. Returns the reservation to settle.
   */
  async reserve(agent: MeteredAgentRecord, estimate: { tokens: number; costMicros: number }, now = new Date()): Promise<Reservation | undefined> {
    const limit = applicableLimit(agent);
    if (!limit) return undefined;
    const { cap, budget } = limit;

    const month = monthOf(now);
    const filter = { agentId: agent._id, month };
    // Make sure the rollup exists, then reserve with a guarded $inc: the condition and the increment are one atomic step.
    await this.models.UsageMonthly.collection.updateOne(
      filter,
      { $setOnInsert: { workspaceId: agent.workspaceId, mode: agent.llm.mode, plan: agent.llm.plan ?? null, tokens: 0, costTotalMicros: 0, reservedTokens: 0, reservedCostMicros: 0 } },
      { upsert: true },
    ).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });
    const guard =
      cap != null
        ? { $lte: [{ $add: [{ $ifNull: ['$tokens', 0] }, { $ifNull: ['$reservedTokens', 0] }, estimate.tokens] }, cap] }
        : { $lt: [{ $add: [{ $ifNull: ['$costTotalMicros', 0] }, { $ifNull: ['$reservedCostMicros', 0] }] }, budget] };
    const reserved = await this.models.UsageMonthly.collection.findOneAndUpdate(
      { ...filter, $expr: guard },
      { $inc: { reservedTokens: estimate.tokens, reservedCostMicros: estimate.costMicros } },
      { returnDocument: 'after', projection: { _id: 1 } },
    );
    if (!reserved) {
      throw planLimitReached(
        cap != null
          ? 'This agent has reached its monthly usage cap. An owner can raise the cap, or it resets next month.'
          : 'This agent has reached its monthly budget. An owner can raise the budget, or it resets next month.',
      );
    }
    return { agentId: agent._id.toString(), month, tokens: estimate.tokens, costMicros: estimate.costMicros };
  }

  /** Gives back a reservation whose call produced no tokens (a call with tokens settles through its meter event). */
  async release(reservation: Reservation): Promise<void> {
    await this.models.UsageMonthly.collection.updateOne(
      { agentId: new Types.ObjectId(reservation.agentId), month: reservation.month },
      { $inc: { reservedTokens: -reservation.tokens, reservedCostMicros: -reservation.costMicros } },
    );
  }
}
