// The JSON answers of the webhook endpoints (/api/workspaces/:id/webhooks…), as the server builds them and the web
// client reads them. Types only: nothing here runs, so both builds (tsc for the server, Vite for the client) drop
// these imports.

/** One webhook endpoint of a workspace (its secret is shown once, when it is created). */
export interface WebhookEndpoint {
  id: string;
  url: string;
  description: string;
  events: string[];
  secretPrefix: string;
  enabled: boolean;
  createdAt: string;
}

/** One delivery of an event to an endpoint, with its attempts. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventId: string;
  eventType: string;
  /** A delivery being sent is reported as `pending`. */
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  nextAttemptAt: string | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: string | null;
  createdAt: string;
  log: Array<{ at: string; statusCode: number | null; error: string | null; durationMs: number }>;
}
