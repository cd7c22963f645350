// The meter's public shapes: what a caller records for one LLM call, and what a written batch changed in a rollup.
import type { MeterStatus, PriceSnapshot, RequestType } from './metering.models';

export interface MeterEventInput {
  requestId: string;
  agentId: string;
  workspaceId: string;
  timestamp: Date;
  provider: string;
  model: string;
  tier: string | null;
  mode: 'byok' | 'managed';
  plan: string | null;
  requestType: RequestType;
  status: MeterStatus;
  usageSource: 'provider' | 'estimated';
  tokensInput: number;
  tokensOutput: number;
  latencyMs: number;
  credential: string;
  sandbox: boolean;
  attempt: number;
  priceSnapshot: PriceSnapshot;
  /** Whether this event is the call's answer (counted in `requests`); earlier partial attempts are not. */
  countsAsRequest: boolean;
  /** A pre-call reservation released atomically with this event's rollup. */
  reservation?: { tokens: number; costMicros: number };
  /** BYOK monthly budget at the time of the call, for budget alerts. */
  budgetMicros?: number | null;
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
}
