// Which agents' last call failed because the provider was down (after retries and failover), per process: a hint for
// the agent's health, cleared by the agent's next successful call and forgotten after a quiet window.
export const OUTAGE_WINDOW_MS = 10 * 60_000;

export class ProviderOutages {
  private readonly failedAt = new Map<string, number>();

  constructor(private readonly windowMs = OUTAGE_WINDOW_MS) {}

  recordFailure(agentId: string, now = Date.now()): void {
    if (this.failedAt.size > 10_000) this.failedAt.clear();
    this.failedAt.set(agentId, now);
  }

  recordSuccess(agentId: string): void {
    if (this.failedAt.size > 0) this.failedAt.delete(agentId);
  }

  /** When the provider last failed this agent, if it did within the window and nothing succeeded since. */
  failingSince(agentId: string, now = Date.now()): Date | undefined {
    const at = this.failedAt.get(agentId);
    if (at === undefined) return undefined;
    if (now - at > this.windowMs) {
      this.failedAt.delete(agentId);
      return undefined;
    }
    return new Date(at);
  }
}
