// Closes the previous month's statements at start-up and then on a timer. Every instance runs it; the statements'
// unique index makes the close happen once whoever gets there first.
import type { Logger } from '../../logger';
import type { StatementService } from './statement.service';

export const DEFAULT_CLOSE_INTERVAL_MS = 10 * 60_000;

export class StatementCloseJob {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly statements: StatementService,
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_CLOSE_INTERVAL_MS,
  ) {}

  /** Runs once now (not awaited by start-up) and then every interval. */
  start(): void {
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.intervalMs);
    this.timer.unref();
  }

  /** One pass; a pass still running is joined rather than doubled. */
  runOnce(now = new Date()): Promise<void> {
    this.running ??= this.statements
      .closeDue(now)
      .then((result) => {
        if (result.closed > 0) this.logger.info(result, 'monthly statements closed');
      })
      .catch((error: unknown) => this.logger.error({ err: error }, 'closing monthly statements failed; the next pass tries again'))
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
