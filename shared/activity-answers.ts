// The JSON answers of the activity log (/api/workspaces/:id/activity…), as the server's activity service builds them
// and the web client reads them. Types only: nothing here runs, so both builds drop these imports.

/** One metered call attempt. Customer-safe: a managed agent's row names its plan, never the provider, model, cost or credential. */
export interface ActivityRow {
  id: string;
  requestId: string;
  timestamp: string;
  agentId: string;
  agentName: string;
  apiKey: { id: string; name: string | null; prefix: string | null } | null;
  endUser: string | null;
  mode: 'byok' | 'managed';
  /** Managed agents: the plan; BYOK: null. */
  plan: string | null;
  /** BYOK agents: the customer's own provider and model; managed agents: null (never shown to customers). */
  provider: string | null;
  model: string | null;
  requestType: string;
  /** The meter's status of the call. */
  status: 'ok' | 'error' | 'partial' | 'timeout';
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  /** What the platform bills for this call (overage past the plan's included usage). */
  priceUsd: number;
  /** BYOK only: what the customer's own provider charges for it, from the catalog price. Managed: null. */
  providerCostUsd: number | null;
  latencyMs: number;
  attempt: number;
  sandbox: boolean;
  usageSource: 'provider' | 'estimated';
  routing: { tier: string; reason: string | null; forced: boolean } | null;
  cacheHit: boolean | null;
  savedPriceUsd: number | null;
}

/** One page of the log, newest first, with the cursor of the next page (null: the last one). */
export interface ActivityPage {
  items: ActivityRow[];
  nextCursor: string | null;
  from: string;
  to: string;
}
