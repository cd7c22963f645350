// Parts of the usage answers (/api/workspaces/:id/usage, the `usage:update` event), as the server's usage service
// builds them and the web client reads them. Types only: nothing here runs, so both builds drop these imports.

/** Cost-aware routing (#14) over a month: requests per tier, saved against always strong, escalations, degraded and fallback calls. */
export interface RoutingSummary {
  /** Answered requests that went through a routing decision. */
  routedRequests: number;
  lightRequests: number;
  strongRequests: number;
  /** lightRequests / routedRequests, 0..1 (4 decimals); 0 without routed requests. */
  lightShare: number;
  savedMicros: number;
  savedUsd: number;
  /** Conversations answered light before that then needed the strong model. */
  escalations: number;
  forced: number;
  degradedRequests: number;
  fallbackRequests: number;
  fallbackTokens: number;
}

/** A workspace's month over all its agents. */
export interface UsageTotals {
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  costUsd: number;
  planFeesUsd: number;
  overageUsd: number;
  amountDueUsd: number;
  routing: RoutingSummary;
}
