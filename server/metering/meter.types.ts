// The meter's public shapes: what a caller records for one LLM call, and what a written batch changed in a rollup.
import type { MeterEventDocument } from './metering.models';

/** The event's own fields as stored (ids as strings; month, day, costs and price are worked out by the meter). */
type RecordedEventFields = Pick<
  MeterEventDocument,
  | 'requestId' | 'timestamp' | 'provider' | 'model' | 'tier' | 'mode' | 'plan' | 'requestType' | 'status' | 'usageSource'
  | 'tokensInput' | 'tokensOutput' | 'latencyMs' | 'credential' | 'sandbox' | 'attempt' | 'priceSnapshot'
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
  /** alerts: the call's output budget was clamped to the room left under a limit. */
  degraded?: 'light_model' | 'clamped' | null;
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
