// webhook_endpoints (HTTPS URLs a workspace registered, with their sealed signing secret) and webhook_deliveries (one
// row per event per endpoint: the signed body, its attempts and when the next one is due — durable across restarts).
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { SealedSecret } from '../vault/vault.service';

export const WEBHOOK_EVENT_TYPES = ['alert.raised', 'alert.resolved', 'statement.closed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number] | 'webhook.test';

export interface WebhookEndpointDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  url: string;
  description: string;
  events: string[];
  /** The signing secret, sealed by the vault (it must be opened to sign). */
  sealedSecret: SealedSecret;
  /** The secret's first characters, shown to tell secrets apart. */
  secretPrefix: string;
  enabled: boolean;
  createdBy: Types.ObjectId;
  createdAt: Date;
}

export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed';

export interface DeliveryAttempt {
  at: Date;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface WebhookDeliveryDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  endpointId: Types.ObjectId;
  eventId: string;
  eventType: string;
  /** The exact JSON body that is signed and sent. */
  body: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  /** A claimed delivery belongs to one instance until then; after it (a crash) another may take it. */
  lockedUntil: Date | null;
  lastStatusCode: number | null;
  lastError: string | null;
  deliveredAt: Date | null;
  log: DeliveryAttempt[];
  createdAt: Date;
}

const sealedSecretSchema = new Schema<SealedSecret>(
  { v: { type: Number, required: true }, keyId: { type: String, required: true }, nonce: { type: String, required: true }, ciphertext: { type: String, required: true } },
  { _id: false },
);

const endpointSchema = new Schema<WebhookEndpointDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    url: { type: String, required: true },
    description: { type: String, default: '' },
    events: { type: [String], required: true },
    sealedSecret: { type: sealedSecretSchema, required: true },
    secretPrefix: { type: String, required: true },
    enabled: { type: Boolean, default: true },
    createdBy: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'webhook_endpoints', autoIndex: false, versionKey: false, timestamps: { createdAt: true, updatedAt: false } },
);
endpointSchema.index({ workspaceId: 1, createdAt: 1 });

const deliverySchema = new Schema<WebhookDeliveryDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    endpointId: { type: Schema.Types.ObjectId, required: true },
    eventId: { type: String, required: true },
    eventType: { type: String, required: true },
    body: { type: String, required: true },
    status: { type: String, enum: ['pending', 'delivering', 'delivered', 'failed'], required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, default: null },
    lockedUntil: { type: Date, default: null },
    lastStatusCode: { type: Number, default: null },
    lastError: { type: String, default: null },
    deliveredAt: { type: Date, default: null },
    log: { type: Schema.Types.Mixed, default: [] },
  },
  { collection: 'webhook_deliveries', autoIndex: false, versionKey: false, minimize: false, timestamps: { createdAt: true, updatedAt: false } },
);
// One delivery per event per endpoint, however often the event is published.
deliverySchema.index({ endpointId: 1, eventId: 1 }, { unique: true });
deliverySchema.index({ status: 1, nextAttemptAt: 1 });
deliverySchema.index({ workspaceId: 1, createdAt: -1 });

export const createWebhookModels = (connection: Connection) => ({
  WebhookEndpoint: connection.model<WebhookEndpointDocument>('WebhookEndpoint', endpointSchema) as Model<WebhookEndpointDocument>,
  WebhookDelivery: connection.model<WebhookDeliveryDocument>('WebhookDelivery', deliverySchema) as Model<WebhookDeliveryDocument>,
});
export type WebhookModels = ReturnType<typeof createWebhookModels>;
