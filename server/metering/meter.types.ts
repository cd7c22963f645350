// The meter's public shapes: what a caller records for one LLM call, and what a written batch changed in a rollup.
import type { MeterEventDocument } from './metering.models';

/** The event's own fields as stored (ids as strings; month, day, costs and price are worked out by the meter). */
type RecordedEventFields = Pick<
  MeterEventDocument,
  | 'requestId' | 'timestamp' | 'provider' | 'model' | 'tier' | 'mode' | 'plan' | 'requestType' | 'status' | 'usageSource'
  | 'tokensInput' | 'tokensOutput' | 'latencyMs' | 'credential' | 'sandbox' | 'attempt' | 'priceSnapshot'
  // Cost-aware routing (#14)
  | 'routing' | 'fallback' | 'degraded'
  | 'endUser' | 'metadata'
  // Response cache and A/B experiments (cache)
  | 'cacheHit' | 'savedPriceMicros' | 'experiment'
>;

export interface MeterEventInput extends RecordedEventFields {
  agentId: string;
  workspaceId: string;
  /** Whether this event is the call's answer (counted in `requests`); earlier partial attempts are not. */
  countsAsRequest: boolean;
  /** A pre-call reservation released atomically with this event's rollup. */
  reservation?: { tokens: number; costMicros: number };
  /** BYOK monthly budget at the time of the call, for budget alerts. */
  budgetMicros?: number | null;
  // activity log (experience-b): the agent API key that made the call
  apiKeyId?: string | null;
  /** A per-end-user cap's reservation (publish), released atomically with this event's end-user rollup. */
  endUserReservation?: { tokens: number };
}

export interface RollupChange {
  workspaceId: string;
  agentId: string;
  month: string;
  mode: 'byok' | 'managed';
  tokensBefore: number;
  tokensAfter: number;
  includedTokens: number;
  costBeforeMicros: number;
  costAfterMicros: number;
  budgetMicros: number | null;
  /** Billing: the agent-month's managed tokens (what counts against a plan's allowance) before and after the batch. */
  managedTokensBefore?: number;
  managedTokensAfter?: number;
}

/**
 * What one call costs the customer, as the answer reports it (`usage.cost`): on a managed plan the overage part
 * (tokens past the plan's included allowance × the overage rate), on BYOK the provider's list price. Worked out
 * when the answer is sent, from the month-to-date tokens this server knows; the meter event's price is the bill.
 */
export interface AnswerCost {
  priceMicros: number;
  basis: 'overage' | 'list_price';
  /** Tokens of this call inside the included allowance (managed; 0 on BYOK). */
  includedTokens: number;
  /** Tokens of this call past the allowance (managed; 0 on BYOK). */
  overageTokens: number;
  /** True when the whole call came out of the included allowance (managed only). */
  fromAllowance: boolean;
}
