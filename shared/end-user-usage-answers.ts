// The JSON answers of usage per end user (/api/workspaces/:id/agents/:agentId/usage/end-users…), as the server's end-user
// usage service builds them and the web client reads them. Types only: nothing here runs, so both builds drop these imports.

/** One end user's month with one agent. */
export interface EndUserUsageRow {
  endUser: string;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  /** Own-key agents only; a managed plan's provider cost is the platform's and is not sent (#18). */
  costUsd?: number;
  priceUsd: number;
  lastSeenAt: string | null;
}
