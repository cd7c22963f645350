// The hook other features subscribe to when a statement closes (e.g. webhooks): called once, by the instance that
// wrote the statement. A listener's failure is its own; it never undoes or delays the close.
export interface StatementClosedEvent {
  workspaceId: string;
  month: string;
  statementId: string;
  number: string;
  amountDueMicros: number;
  closedAt: Date;
}

export type StatementClosedListener = (event: StatementClosedEvent) => void | Promise<void>;

export class StatementEvents {
  private readonly listeners: StatementClosedListener[] = [];

  onStatementClosed(listener: StatementClosedListener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) this.listeners.splice(index, 1);
    };
  }

  emitClosed(event: StatementClosedEvent): void {
    for (const listener of this.listeners) {
      try {
        void Promise.resolve(listener(event)).catch(() => undefined);
      } catch {
        // a listener's own failure
      }
    }
  }
}
