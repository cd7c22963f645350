// The pre-call hook: reserves a call against a token cap, an overage budget or a budget, race-free. A call near the
// limit gets its output budget clamped to the room left; only a call that would be left with less than a useful
// answer (MIN_USEFUL_OUTPUT_TOKENS) is refused.
import { Types } from 'mongoose';
import type { MeteredAgentRecord, MeteringModels } from './metering.models';
import { DomainError } from '../errors/domain-error';
import { isDuplicateKeyError } from '../db/driver-errors';
import { costMicros, monthOf } from './pricing';

/**
 * The smallest output a call is clamped to: about 25 words, one useful sentence. A call whose room left is smaller
 * (and that asked for more) is refused with PLAN_LIMIT_REACHED instead of answering with a few cut-off words.
 */
export const MIN_USEFUL_OUTPUT_TOKENS = 32;

/** Which limit held the call. */
export type LimitKind = 'token_cap' | 'overage_budget' | 'budget';

export interface Reservation {
  agentId: string;
  month: string;
  tokens: number;
  costMicros: number;
  /** The output the call may produce: what it asked for, or less when clamped. */
  maxOutputTokens: number;
  /** The output budget was cut to fit the room left under `limit`. */
  clamped: boolean;
  limit: LimitKind;
}

/** What one call needs reserved: its prompt, the output it asks for, and the prices that turn them into money. */
export interface ReservationRequest {
  promptTokens: number;
  outputTokens: number;
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
  /** The managed plan's allowance and overage rate (whole micro-dollars per token), for the overage budget. */
  includedTokens: number;
  overageUsdPerMillion: number;
}

export class PlanLimitReachedError extends DomainError {
  constructor(
    readonly limit: LimitKind,
    message: string,
    details: { limit: LimitKind; minimumOutputTokens: number; roomOutputTokens: number },
  ) {
    super('PLAN_LIMIT_REACHED', message, { details });
    this.name = 'PlanLimitReachedError';
  }
}

const REFUSAL_MESSAGES: Record<LimitKind, string> = {
  token_cap: 'This agent has reached its monthly usage cap. An owner can raise the cap, or it resets next month.',
  overage_budget: 'This agent has reached its monthly overage budget. An owner can raise the budget, or it resets next month.',
  budget: 'This agent has reached its monthly budget. An owner can raise the budget, or it resets next month.',
};

type LimitedAgent = Pick<MeteredAgentRecord, 'llm' | 'limits'>;

/** The limits a call of this agent is held to: a token cap or overage budget on a managed plan, a budget on the agent's own key. */
export function applicableLimit(agent: LimitedAgent): { cap: number | null; overageBudget: number | null; budget: number | null } | undefined {
  const managed = agent.llm.mode === 'managed';
  const cap = managed ? agent.limits?.monthlyTokenCap ?? null : null;
  const overageBudget = managed ? agent.limits?.monthlyOverageBudgetMicros ?? null : null;
  const budget = !managed ? agent.limits?.monthlyBudgetMicros ?? null : null;
  return cap == null && overageBudget == null && budget == null ? undefined : { cap, overageBudget, budget };
}

/**
 * A managed agent's token ceiling: its cap, and the tokens its overage budget pays for past the allowance (overage is
 * (tokens − included)⁺ × a whole micro-dollar rate per token, so the ceiling is exact). Infinity when neither applies.
 */
export function managedTokenCeiling(limit: { cap: number | null; overageBudget: number | null }, request: Pick<ReservationRequest, 'includedTokens' | 'overageUsdPerMillion'>): { ceiling: number; kind: LimitKind } {
  const rate = Math.round(request.overageUsdPerMillion);
  const fromBudget = limit.overageBudget != null && rate > 0 ? request.includedTokens + Math.floor(limit.overageBudget / rate) : Number.POSITIVE_INFINITY;
  const fromCap = limit.cap ?? Number.POSITIVE_INFINITY;
  return fromBudget < fromCap ? { ceiling: fromBudget, kind: 'overage_budget' } : { ceiling: fromCap, kind: 'token_cap' };
}

/** The most output tokens whose cost fits in `roomMicros` (costMicros rounds half up). */
export function outputTokensWithin(roomMicros: number, outputUsdPerMillion: number, wanted: number): number {
  if (roomMicros < 0) return 0;
  if (outputUsdPerMillion <= 0) return wanted;
  let tokens = Math.min(wanted, Math.floor(((roomMicros + 0.5) * 1_000_000) / Math.round(outputUsdPerMillion * 1_000_000)));
  while (tokens > 0 && costMicros(tokens, outputUsdPerMillion) > roomMicros) tokens -= 1;
  return Math.max(0, tokens);
}

interface RollupCounters {
  tokens?: number;
  reservedTokens?: number;
  costTotalMicros?: number;
  reservedCostMicros?: number;
}

/** Contention on the last room of a limit: each lost race means another call got it, so a few rounds settle it. */
const CLAMPED_RESERVATION_ATTEMPTS = 12;

export class LimitsService {
  constructor(private readonly models: Pick<MeteringModels, 'UsageMonthly'>) {}

  /**
   * Checks the agent's limits and, when it has one, atomically reserves the call's worst case (prompt + output) so
   * that concurrent calls cannot overshoot it: first the whole output asked for, then, when that does not fit, the
   * output that still fits (at least MIN_USEFUL_OUTPUT_TOKENS, or what was asked when less). Each reservation is one
   * guarded `$inc`, so the cap holds exactly under any concurrency. Returns the reservation to settle.
   */
  async reserve(agent: MeteredAgentRecord, request: ReservationRequest, now = new Date()): Promise<Reservation | undefined> {
    const limit = applicableLimit(agent);
    if (!limit) return undefined;
    const month = monthOf(now);
    const filter = { agentId: agent._id, month };
    await this.models.UsageMonthly.collection.updateOne(
      filter,
      { $setOnInsert: { workspaceId: agent.workspaceId, mode: agent.llm.mode, plan: agent.llm.plan ?? null, tokens: 0, costTotalMicros: 0, reservedTokens: 0, reservedCostMicros: 0 } },
      { upsert: true },
    ).catch((error: unknown) => {
      if (!isDuplicateKeyError(error)) throw error;
    });

    const byBudget = limit.budget != null;
    const managed = byBudget ? undefined : managedTokenCeiling(limit, request);
    const kind: LimitKind = byBudget ? 'budget' : managed!.kind;
    const promptCost = costMicros(request.promptTokens, request.inputUsdPerMillion);
    const amounts = (outputTokens: number) => ({
      tokens: request.promptTokens + outputTokens,
      costMicros: promptCost + costMicros(outputTokens, request.outputUsdPerMillion),
    });
    const guardFor = (amount: { tokens: number; costMicros: number }) =>
      byBudget
        ? { $lte: [{ $add: [{ $ifNull: ['$costTotalMicros', 0] }, { $ifNull: ['$reservedCostMicros', 0] }, amount.costMicros] }, limit.budget] }
        : { $lte: [{ $add: [{ $ifNull: ['$tokens', 0] }, { $ifNull: ['$reservedTokens', 0] }, amount.tokens] }, managed!.ceiling] };
    const tryReserve = async (outputTokens: number, clamped: boolean): Promise<Reservation | undefined> => {
      const amount = amounts(outputTokens);
      const reserved = await this.models.UsageMonthly.collection.findOneAndUpdate(
        Object.assign({}, filter, { $expr: guardFor(amount) }),
        { $inc: { reservedTokens: amount.tokens, reservedCostMicros: amount.costMicros } },
        { returnDocument: 'after', projection: { _id: 1 } },
      );
      return reserved ? { agentId: agent._id.toString(), month, ...amount, maxOutputTokens: outputTokens, clamped, limit: kind } : undefined;
    };

    // Far from the limit (the common case): the whole output in one step.
    const whole = await tryReserve(request.outputTokens, false);
    if (whole) return whole;
    const minimum = Math.min(request.outputTokens, MIN_USEFUL_OUTPUT_TOKENS);
    let room = 0;
    for (let attempt = 0; attempt < CLAMPED_RESERVATION_ATTEMPTS; attempt += 1) {
      const counters = (await this.models.UsageMonthly.collection.findOne(filter, { projection: { tokens: 1, reservedTokens: 1, costTotalMicros: 1, reservedCostMicros: 1 } })) as RollupCounters | null;
      room = byBudget
        ? outputTokensWithin(limit.budget! - (counters?.costTotalMicros ?? 0) - (counters?.reservedCostMicros ?? 0) - promptCost, request.outputUsdPerMillion, request.outputTokens)
        : Math.min(request.outputTokens, managed!.ceiling - (counters?.tokens ?? 0) - (counters?.reservedTokens ?? 0) - request.promptTokens);
      if (room < minimum) break;
      const clamped = await tryReserve(room, room < request.outputTokens);
      if (clamped) return clamped;
    }
    throw new PlanLimitReachedError(kind, REFUSAL_MESSAGES[kind], { limit: kind, minimumOutputTokens: minimum, roomOutputTokens: Math.max(0, room) });
  }

  /** Gives back a reservation whose call produced no tokens (a call with tokens settles through its meter event). */
  async release(reservation: Pick<Reservation, 'agentId' | 'month' | 'tokens' | 'costMicros'>): Promise<void> {
    await this.models.UsageMonthly.collection.updateOne(
      { agentId: new Types.ObjectId(reservation.agentId), month: reservation.month },
      { $inc: { reservedTokens: -reservation.tokens, reservedCostMicros: -reservation.costMicros } },
    );
  }
}
