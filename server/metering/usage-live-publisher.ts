// After metered batches, pushes the changed agents' rows and fresh totals to each workspace room (throttled per workspace).
import type { Logger } from '../logger';
import type { RollupChange } from './meter.types';
import type { UsageService } from './usage.service';

export type UsagePushTarget = (update: { workspaceId: string; month: string; agents: Array<{ agentId: string } & Record<string, unknown>>; totals: Record<string, unknown> }) => void;

export interface UsageLivePublisherOptions {
  /** At most one update per workspace-month per interval (default 200 ms). */
  minIntervalMs?: number;
  /** Whether anyone watches this workspace; without listeners the update (two database reads) is skipped. */
  hasListeners?: (workspaceId: string) => boolean;
}

export class UsageLivePublisher {
  private readonly dirty = new Map<string, { month: string; agentIds: Set<string> }>();
  private readonly running = new Set<string>();
  private readonly lastRun = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  private readonly minIntervalMs: number;
  private readonly hasListeners: (workspaceId: string) => boolean;

  constructor(
    private readonly usage: UsageService,
    private readonly push: UsagePushTarget,
    private readonly logger: Logger,
    options: UsageLivePublisherOptions = {},
  ) {
    this.minIntervalMs = options.minIntervalMs ?? 200;
    this.hasListeners = options.hasListeners ?? (() => true);
  }

  onRollupsChanged(changes: RollupChange[]): void {
    for (const change of changes) {
      if (!this.hasListeners(change.workspaceId)) continue;
      const key = `${change.workspaceId}|${change.month}`;
      let entry = this.dirty.get(key);
      if (!entry) {
        entry = { month: change.month, agentIds: new Set() };
        this.dirty.set(key, entry);
      }
      entry.agentIds.add(change.agentId);
      this.schedule(key);
    }
  }

  private schedule(key: string): void {
    if (this.timers.has(key) || this.running.has(key)) return;
    const wait = Math.max(0, (this.lastRun.get(key) ?? 0) + this.minIntervalMs - Date.now());
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.publish(key);
      }, wait),
    );
  }

  private async publish(key: string): Promise<void> {
    const entry = this.dirty.get(key);
    if (!entry) return;
    this.dirty.delete(key);
    this.running.add(key);
    this.lastRun.set(key, Date.now());
    const workspaceId = key.split('|')[0]!;
    try {
      const update = await this.usage.liveUpdate(workspaceId, entry.month, entry.agentIds);
      this.push(update as never);
    } catch (error) {
      this.logger.warn({ err: error, workspaceId }, 'live usage update failed');
    } finally {
      this.running.delete(key);
      if (this.dirty.has(key)) this.schedule(key);
    }
  }

  close(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
