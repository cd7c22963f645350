// Webhook endpoints of a workspace (register behind the SSRF guard, list, delete) and the events they receive: each
// published event becomes one durable delivery per subscribed endpoint, sent by the delivery worker.
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { z } from 'zod';
import { DomainError, invalidInput, notFound } from '../errors/domain-error';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../db/driver-errors';
import { assertSafeBaseUrl, resolveAndCheckHost, UnsafeBaseUrlError, type HostResolver } from '../llm/base-url-guard';
import type { Vault } from '../vault/vault.service';
import type { WebhookDelivery, WebhookEndpoint } from '../../shared/webhook-answers';
import { WEBHOOK_EVENT_TYPES, type DeliveryAttempt, type WebhookDeliveryDocument, type WebhookEndpointDocument, type WebhookEventType, type WebhookModels } from './webhook.models';

export const MAX_ENDPOINTS_PER_WORKSPACE = 10;

export const createWebhookSchema = z
  .object({
    url: z.string().trim().min(1).max(2048),
    description: z.string().trim().max(200).optional(),
    events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1).max(WEBHOOK_EVENT_TYPES.length).optional(),
  })
  .strict();
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;

export interface WebhookEventInput {
  type: WebhookEventType;
  workspaceId: string;
  /** Stable per event: the same event published twice is delivered once per endpoint. */
  id?: string;
  data: unknown;
}

/** What the statements feature tells when a month's statement closes (its `statements.events.onStatementClosed`). */
export interface StatementClosedNotice {
  workspaceId: string;
  month: string;
  statementId: string;
  number: string;
  amountDueMicros: number;
  closedAt: Date;
}

export const unsafeWebhookUrl = (message: string, reason: string) => new DomainError('UNSAFE_WEBHOOK_URL', message, { details: { reason } });

/** The vault binds each sealed secret to its record: a webhook secret to its workspace and endpoint. */
export const secretBinding = (endpoint: Pick<WebhookEndpointDocument, '_id' | 'workspaceId'>) => ({
  workspaceId: endpoint.workspaceId.toString(),
  agentId: `webhook-${endpoint._id.toString()}`,
  provider: 'webhook',
});

function toPublicEndpoint(endpoint: WebhookEndpointDocument): WebhookEndpoint {
  return {
    id: endpoint._id.toString(),
    url: endpoint.url,
    description: endpoint.description ?? '',
    events: endpoint.events,
    secretPrefix: endpoint.secretPrefix,
    enabled: endpoint.enabled,
    createdAt: endpoint.createdAt.toISOString(),
  };
}

function toPublicDelivery(delivery: WebhookDeliveryDocument): WebhookDelivery {
  return {
    id: delivery._id.toString(),
    endpointId: delivery.endpointId.toString(),
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    status: delivery.status === 'delivering' ? 'pending' : delivery.status,
    attempts: delivery.attempts,
    nextAttemptAt: delivery.nextAttemptAt?.toISOString() ?? null,
    lastStatusCode: delivery.lastStatusCode,
    lastError: delivery.lastError,
    deliveredAt: delivery.deliveredAt?.toISOString() ?? null,
    createdAt: delivery.createdAt.toISOString(),
    log: (delivery.log ?? []).map((attempt: DeliveryAttempt) => ({ at: new Date(attempt.at).toISOString(), statusCode: attempt.statusCode, error: attempt.error, durationMs: attempt.durationMs })),
  };
}

export interface WebhookServiceOptions {
  /** ALLOW_PRIVATE_WEBHOOK_URLS: loopback and private targets (and plain http to them) are accepted — for tests and closed networks. */
  allowPrivate: boolean;
  resolveHost?: HostResolver;
}

export class WebhookService {
  private readonly publishedListeners: Array<() => void> = [];

  constructor(
    private readonly models: WebhookModels,
    private readonly vault: Vault,
    private readonly options: WebhookServiceOptions,
  ) {}

  /** The delivery worker listens here to send at once instead of at its next poll. */
  onPublished(listener: () => void): void {
    this.publishedListeners.push(listener);
  }

  /** The URL checks of the custom provider base URLs: https, no credentials, no private or metadata address. */
  async assertSafeUrl(url: string): Promise<URL> {
    try {
      const parsed = assertSafeBaseUrl(url, { allowPrivate: this.options.allowPrivate });
      await resolveAndCheckHost(parsed.hostname, { allowPrivate: this.options.allowPrivate, resolveHost: this.options.resolveHost, privateOnly: parsed.protocol === 'http:' });
      return parsed;
    } catch (error) {
      if (error instanceof UnsafeBaseUrlError) throw unsafeWebhookUrl(error.message.replace('The base URL', 'The webhook URL'), error.reason);
      throw error;
    }
  }

  /** Registers an endpoint; the signing secret is in this answer only (it is stored sealed). */
  async create(workspaceId: string, userId: string, input: CreateWebhookInput): Promise<WebhookEndpoint & { secret: string }> {
    const url = (await this.assertSafeUrl(input.url)).toString();
    const workspace = new Types.ObjectId(workspaceId);
    if ((await this.models.WebhookEndpoint.countDocuments({ workspaceId: workspace })) >= MAX_ENDPOINTS_PER_WORKSPACE) {
      throw invalidInput('TOO_MANY_WEBHOOKS', `A workspace can have at most ${MAX_ENDPOINTS_PER_WORKSPACE} webhook endpoints. Delete one first.`);
    }
    const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
    const _id = new Types.ObjectId();
    const created = await this.models.WebhookEndpoint.create({
      _id,
      workspaceId: workspace,
      url,
      description: input.description ?? '',
      events: input.events ?? [...WEBHOOK_EVENT_TYPES],
      sealedSecret: this.vault.seal(secret, secretBinding({ _id, workspaceId: workspace })),
      secretPrefix: secret.slice(0, 12),
      enabled: true,
      createdBy: new Types.ObjectId(userId),
    });
    return { ...toPublicEndpoint(created.toObject() as WebhookEndpointDocument), secret };
  }

  async list(workspaceId: string): Promise<WebhookEndpoint[]> {
    const endpoints = await this.models.WebhookEndpoint.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: 1 }).lean<WebhookEndpointDocument[]>();
    return endpoints.map(toPublicEndpoint);
  }

  private async load(workspaceId: string, endpointId: string): Promise<WebhookEndpointDocument> {
    if (!OBJECT_ID_PATTERN.test(endpointId)) throw notFound('Webhook');
    const endpoint = await this.models.WebhookEndpoint.findOne({ _id: new Types.ObjectId(endpointId), workspaceId: new Types.ObjectId(workspaceId) }).lean<WebhookEndpointDocument>();
    if (!endpoint) throw notFound('Webhook');
    return endpoint;
  }

  async get(workspaceId: string, endpointId: string): Promise<WebhookEndpoint> {
    return toPublicEndpoint(await this.load(workspaceId, endpointId));
  }

  /** Deletes the endpoint; its pending deliveries are dropped, its delivery log goes with it. */
  async remove(workspaceId: string, endpointId: string): Promise<void> {
    const endpoint = await this.load(workspaceId, endpointId);
    await this.models.WebhookEndpoint.deleteOne({ _id: endpoint._id });
    await this.models.WebhookDelivery.deleteMany({ endpointId: endpoint._id });
  }

  /** `npm run vault:rotate`: re-seal every webhook signing secret under the newest master key. */
  async resealAllSecrets(): Promise<{ total: number; resealed: number; alreadyCurrent: number; failed: number }> {
    const counts = { total: 0, resealed: 0, alreadyCurrent: 0, failed: 0 };
    for await (const endpoint of this.models.WebhookEndpoint.find({}).lean<WebhookEndpointDocument[]>().cursor() as AsyncIterable<WebhookEndpointDocument>) {
      counts.total += 1;
      if (!this.vault.needsReseal(endpoint.sealedSecret)) {
        counts.alreadyCurrent += 1;
        continue;
      }
      try {
        const resealed = this.vault.reseal(endpoint.sealedSecret, secretBinding(endpoint));
        const result = await this.models.WebhookEndpoint.updateOne({ _id: endpoint._id, 'sealedSecret.nonce': endpoint.sealedSecret.nonce }, { $set: { sealedSecret: resealed } });
        if (result.matchedCount === 1) counts.resealed += 1;
        else counts.failed += 1;
      } catch {
        counts.failed += 1;
      }
    }
    return counts;
  }

  /** Part of deleting a workspace. */
  async removeAllInWorkspace(workspaceId: string): Promise<void> {
    const id = new Types.ObjectId(workspaceId);
    await this.models.WebhookEndpoint.deleteMany({ workspaceId: id });
    await this.models.WebhookDelivery.deleteMany({ workspaceId: id });
  }

  async deliveries(workspaceId: string, endpointId: string, limit = 50): Promise<WebhookDelivery[]> {
    const endpoint = await this.load(workspaceId, endpointId);
    const deliveries = await this.models.WebhookDelivery.find({ endpointId: endpoint._id }).sort({ createdAt: -1, _id: -1 }).limit(limit).lean<WebhookDeliveryDocument[]>();
    return deliveries.map(toPublicDelivery);
  }

  /** A `webhook.test` event to one endpoint, to try a receiver. */
  async sendTest(workspaceId: string, endpointId: string): Promise<WebhookDelivery> {
    const endpoint = await this.load(workspaceId, endpointId);
    const [delivery] = await this.enqueue([endpoint], { type: 'webhook.test', workspaceId, data: { message: 'A test event from Agent Host.' } });
    return toPublicDelivery(delivery!);
  }

  /**
   * The `statement.closed` event. Wiring, once statements and webhooks are both in platform.ts, is one line:
   * `statements.events.onStatementClosed((event) => webhooks.publishStatementClosed(event));`
   */
  publishStatementClosed(event: StatementClosedNotice): Promise<number> {
    return this.publish({
      type: 'statement.closed',
      workspaceId: event.workspaceId,
      id: `statement.closed:${event.statementId}`,
      data: {
        statement: {
          id: event.statementId,
          number: event.number,
          month: event.month,
          amountDueUsd: Math.round(event.amountDueMicros) / 1_000_000,
          closedAt: event.closedAt.toISOString(),
        },
      },
    });
  }

  /** Publishes an event to every enabled endpoint of its workspace subscribed to its type. */
  async publish(event: WebhookEventInput): Promise<number> {
    const endpoints = await this.models.WebhookEndpoint.find({ workspaceId: new Types.ObjectId(event.workspaceId), enabled: true, events: event.type }).lean<WebhookEndpointDocument[]>();
    if (endpoints.length === 0) return 0;
    return (await this.enqueue(endpoints, event)).length;
  }

  private async enqueue(endpoints: WebhookEndpointDocument[], event: WebhookEventInput): Promise<WebhookDeliveryDocument[]> {
    const eventId = event.id ?? `evt_${crypto.randomBytes(12).toString('hex')}`;
    const createdAt = new Date();
    const body = JSON.stringify({ id: eventId, type: event.type, createdAt: createdAt.toISOString(), workspaceId: event.workspaceId, data: event.data });
    const created: WebhookDeliveryDocument[] = [];
    for (const endpoint of endpoints) {
      try {
        const delivery = await this.models.WebhookDelivery.create({
          workspaceId: endpoint.workspaceId,
          endpointId: endpoint._id,
          eventId,
          eventType: event.type,
          body,
          status: 'pending',
          attempts: 0,
          nextAttemptAt: createdAt,
        });
        created.push(delivery.toObject() as WebhookDeliveryDocument);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
    }
    if (created.length > 0) for (const listener of this.publishedListeners) listener();
    return created;
  }
}
