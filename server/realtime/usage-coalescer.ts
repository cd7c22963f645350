// Coalesces usage updates per workspace: at most one emit per interval, carrying the latest row of every agent and the latest totals.

/** One agent's new usage row after a metered call, with the workspace totals computed at the same time. */
export interface UsageRowUpdate {
  workspaceId: string;
  month: string;
  agentRow: Record<string, unknown> & { agentId: string };
  totals: Record<string, unknown>;
}

/** The `usage:update` event body (API.md, Realtime). */
export interface UsageUpdatePayload {
  workspaceId: string;
  month: string;
  agents: (Record<string, unknown> & { agentId: string })[];
  totals: Record<string, unknown>;
}

export interface UsageCoalescer {
  publish(update: UsageRowUpdate): void;
  /** Emits everything pending now (used on shutdown). */
  flush(): void;
  /** Stops all timers; pending updates are dropped unless flushed first. */
  close(): void;
}

interface PendingMonth {
  agents: Map<string, Record<string, unknown> & { agentId: string }>;
  totals: Record<string, unknown>;
}

interface WorkspaceWindow {
  /** Keyed by month: a burst across a month boundary emits one update per month, never a mix. */
  pending: Map<string, PendingMonth>;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Leading + trailing throttle per workspace: the first update after a quiet interval goes out at once (low latency);
 * updates during the following interval are merged and go out when it ends, which opens the next interval.
 */
export function createUsageCoalescer(options: { intervalMs: number; emit(payload: UsageUpdatePayload): void }): UsageCoalescer {
  const windows = new Map<string, WorkspaceWindow>();

  function emitPending(workspaceId: string, window: WorkspaceWindow): void {
    const pending = window.pending;
    window.pending = new Map();
    for (const [month, { agents, totals }] of pending) {
      options.emit({ workspaceId, month, agents: [...agents.values()], totals });
    }
  }

  function openInterval(workspaceId: string, window: WorkspaceWindow): void {
    window.timer = setTimeout(() => {
      window.timer = undefined;
      if (window.pending.size === 0) {
        windows.delete(workspaceId); // quiet: forget the workspace until its next update
        return;
      }
      emitPending(workspaceId, window);
      openInterval(workspaceId, window);
    }, options.intervalMs);
    window.timer.unref();
  }

  return {
    publish(update) {
      let window = windows.get(update.workspaceId);
      if (!window) {
        window = { pending: new Map(), timer: undefined };
        windows.set(update.workspaceId, window);
      }
      let month = window.pending.get(update.month);
      if (!month) {
        month = { agents: new Map(), totals: {} };
        window.pending.set(update.month, month);
      }
      // Copies, so a caller reusing its objects cannot change what is about to be sent. Later rows replace earlier ones;
      // totals are always the last published (publishers send them in meter order).
      month.agents.set(update.agentRow.agentId, { ...update.agentRow });
      month.totals = { ...update.totals };
      if (!window.timer) {
        emitPending(update.workspaceId, window);
        openInterval(update.workspaceId, window);
      }
    },
    flush() {
      for (const [workspaceId, window] of windows) emitPending(workspaceId, window);
    },
    close() {
      for (const window of windows.values()) clearTimeout(window.timer);
      windows.clear();
    },
  };
}
