// Sends webhook deliveries: claims a due one atomically (safe with several instances), signs it at send time, POSTs it
// through the SSRF-guarded fetch (no redirects), and on failure schedules the next attempt with exponential backoff
// and jitter until the attempts run out. State lives in webhook_deliveries, so a restart picks up where it stopped.
import type { Logger } from '../logger';
import { createGuardedFetch, type GuardedFetch, type HostResolver } from '../llm/base-url-guard';
import type { Vault } from '../vault/vault.service';
import type { WebhookDeliveryDocument, WebhookEndpointDocument, WebhookModels } from './webhook.models';
import { secretBinding } from './webhook.service';
import { signWebhookBody } from './webhook-signature';

export interface DeliveryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** The wait after the first failure; doubled after each further one, up to maxDelayMs, ±20 % jitter. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** How long one attempt may take (connect + answer). */
  timeoutMs: number;
  /** How often due deliveries are looked for when nothing was published (retries, other instances' events). */
  pollIntervalMs: number;
  /** How long a claimed delivery is this instance's; a crashed instance's claim expires after it. */
  leaseMs: number;
}

/** 8 attempts over about two hours: 30 s, 1, 2, 4, 8, 16, 32 min, then given up. */
export const DEFAULT_DELIVERY_POLICY: DeliveryPolicy = { maxAttempts: 8, baseDelayMs: 30_000, maxDelayMs: 60 * 60_000, timeoutMs: 10_000, pollIntervalMs: 5_000, leaseMs: 60_000 };

/** Only this much of a receiver's error text is kept in the log. */
const ERROR_TEXT_LIMIT = 200;

export function retryDelayMs(policy: Pick<DeliveryPolicy, 'baseDelayMs' | 'maxDelayMs'>, failedAttempts: number, random = Math.random): number {
  const delay = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1));
  return Math.round(delay * (0.8 + 0.4 * random()));
}

export class WebhookDeliveryWorker {
  private readonly fetch: GuardedFetch;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly policy: DeliveryPolicy;

  constructor(
    private readonly models: WebhookModels,
    private readonly vault: Vault,
    private readonly logger: Logger,
    options: { allowPrivate: boolean; resolveHost?: HostResolver; policy?: Partial<DeliveryPolicy> },
  ) {
    this.policy = { ...DEFAULT_DELIVERY_POLICY, ...options.policy };
    this.fetch = createGuardedFetch({ allowPrivate: options.allowPrivate, resolveHost: options.resolveHost });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Something was published: send it now rather than at the next poll. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.runOnce(), delayMs);
    this.timer.unref?.();
  }

  private async runOnce(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = (async () => {
      do {
        this.again = false;
        try {
          while (!this.stopped && (await this.deliverNext())) {
            // one due delivery after another until none is due
          }
        } catch (error) {
          this.logger.warn({ err: error }, 'webhook delivery loop failed; retrying at the next poll');
        }
      } while (this.again && !this.stopped);
    })();
    await this.running;
    this.running = undefined;
    this.schedule(this.policy.pollIntervalMs);
  }

  /** Claims one due delivery and attempts it; false when none is due. */
  async deliverNext(now = new Date()): Promise<boolean> {
    const claimed = await this.models.WebhookDelivery.findOneAndUpdate(
      { $or: [{ status: 'pending', nextAttemptAt: { $lte: now } }, { status: 'delivering', lockedUntil: { $lt: now } }] },
      { $set: { status: 'delivering', lockedUntil: new Date(now.getTime() + this.policy.leaseMs) }, $inc: { attempts: 1 } },
      { sort: { nextAttemptAt: 1 }, new: true },
    ).lean<WebhookDeliveryDocument>();
    if (!claimed) return false;
    await this.attempt(claimed);
    return true;
  }

  private async attempt(delivery: WebhookDeliveryDocument): Promise<void> {
    const endpoint = await this.models.WebhookEndpoint.findOne({ _id: delivery.endpointId }).lean<WebhookEndpointDocument>();
    if (!endpoint) {
      await this.models.WebhookDelivery.deleteOne({ _id: delivery._id });
      return;
    }
    const startedAt = Date.now();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const secret = this.vault.open(endpoint.sealedSecret, secretBinding(endpoint));
      const timestamp = Math.floor(Date.now() / 1000);
      const response = await this.fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'AgentHost-Webhooks/1.0',
          'agent-host-event': delivery.eventType,
          'agent-host-delivery': delivery._id.toString(),
          'agent-host-signature': signWebhookBody(secret, timestamp, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(this.policy.timeoutMs),
      });
      statusCode = response.status;
      const text = await response.text().catch(() => '');
      if (statusCode < 200 || statusCode > 299) error = `HTTP ${statusCode}${text ? `: ${text.slice(0, ERROR_TEXT_LIMIT)}` : ''}`;
    } catch (caught) {
      const cause = caught as Error & { cause?: Error };
      error = (cause.name === 'TimeoutError' ? 'timed out' : cause.cause?.message ?? cause.message ?? 'failed').slice(0, ERROR_TEXT_LIMIT);
    }
    const durationMs = Date.now() - startedAt;
    const attemptLog = { at: new Date(), statusCode, error, durationMs };
    const filter = { _id: delivery._id, status: 'delivering' as const };
    if (!error) {
      await this.models.WebhookDelivery.updateOne(filter, {
        $set: { status: 'delivered', deliveredAt: new Date(), lockedUntil: null, nextAttemptAt: null, lastStatusCode: statusCode, lastError: null },
        $push: { log: attemptLog },
      });
      return;
    }
    const givingUp = delivery.attempts >= this.policy.maxAttempts;
    await this.models.WebhookDelivery.updateOne(filter, {
      $set: {
        status: givingUp ? 'failed' : 'pending',
        nextAttemptAt: givingUp ? null : new Date(Date.now() + retryDelayMs(this.policy, delivery.attempts)),
        lockedUntil: null,
        lastStatusCode: statusCode,
        lastError: error,
      },
      $push: { log: attemptLog },
    });
    // The endpoint id only: a webhook URL can itself be a secret (many carry a token).
    this.logger.warn({ deliveryId: delivery._id.toString(), endpointId: endpoint._id.toString(), attempt: delivery.attempts, statusCode, givingUp }, 'webhook delivery failed');
  }

  /** Waits for the attempt in progress, then stops polling. Pending deliveries stay for the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    await this.fetch.close().catch(() => undefined);
  }
}
