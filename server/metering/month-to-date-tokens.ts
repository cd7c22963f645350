// Each agent's tokens so far this month, as this process knows them: read from the agent's rollup the first time a
// call of the agent needs it, then counted up by every call this process meters and raised by every rollup the meter
// writes (another process's calls). It prices an answer when it is sent (usage.cost: the part past the plan's
// allowance); the meter event's own price, worked out when the rollup is written, stays the bill.
import type { MeteringModels } from './metering.models';
import type { RollupChange } from './meter.types';

const MAX_TRACKED_AGENTS = 50_000;

export class MonthToDateTokens {
  private readonly totals = new Map<string, { month: string; tokens: number }>();
  /** Reads in progress by agent-month: a burst of an agent's first calls reads the rollup once (#20). */
  private readonly loading = new Map<string, Promise<void>>();

  constructor(private readonly models: Pick<MeteringModels, 'UsageMonthly'>) {}

  isKnown(agentId: string, month: string): boolean {
    return this.totals.get(agentId)?.month === month;
  }

  /** Reads the agent-month's rollup (one findOne, shared by concurrent callers); a failure leaves it unknown (no price). */
  load(agentId: string, agentObjectId: unknown, month: string): Promise<void> {
    const key = `${agentId}:${month}`;
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.read(agentId, agentObjectId, month).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private async read(agentId: string, agentObjectId: unknown, month: string): Promise<void> {
    try {
      // Managed tokens only: BYOK tokens use none of a plan's allowance (docs/BILLING.md).
      const rollup = await this.models.UsageMonthly.collection.findOne({ agentId: agentObjectId, month }, { projection: { managedTokens: 1 } });
      if (this.isKnown(agentId, month)) return;
      if (this.totals.size >= MAX_TRACKED_AGENTS) this.totals.clear();
      this.totals.set(agentId, { month, tokens: Number(rollup?.managedTokens ?? 0) });
    } catch {
      // unknown: no price in the answer
    }
  }

  /** Counts `tokens` in and returns the total before them; undefined when the month's total is not known. */
  take(agentId: string, month: string, tokens: number): number | undefined {
    const entry = this.totals.get(agentId);
    if (!entry || entry.month !== month) return undefined;
    const before = entry.tokens;
    entry.tokens += tokens;
    return before;
  }

  /** A written rollup is the floor: other processes' calls show up here. */
  observe(changes: readonly RollupChange[]): void {
    for (const change of changes) {
      const entry = this.totals.get(change.agentId);
      const after = change.managedTokensAfter ?? change.tokensAfter;
      if (entry && entry.month === change.month && after > entry.tokens) entry.tokens = after;
    }
  }
}
