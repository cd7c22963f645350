// The response cache's entries (collection `response_cache`): one answer per agent and exact key, removed by a TTL
// index on `expiresAt`, so every instance on the same database shares them. Off unless an agent's owner turns it on.
import { Schema, Types, type Connection, type Model } from 'mongoose';

export interface CachedAnswer {
  content: string;
  finishReason: string;
  provider: string;
  model: string;
  usage: { inputTokens: number; outputTokens: number };
  sandbox: boolean;
}

export interface ResponseCacheEntryDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  /** sha256 of everything that shapes the answer (response-cache-key.ts). */
  key: string;
  /** sha256 of everything but the last user message: semantic lookups compare only entries of the same scope. */
  scope: string;
  /** The last user message's embedding (semantic mode only). */
  embedding?: number[] | null;
  answer: CachedAnswer;
  /** What the original call was priced / cost, and so what a hit saves (integer micro-dollars). */
  savedPriceMicros: number;
  createdAt: Date;
  expiresAt: Date;
  hits: number;
  lastHitAt: Date | null;
}

const responseCacheSchema = new Schema<ResponseCacheEntryDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    key: { type: String, required: true },
    scope: { type: String, required: true },
    embedding: { type: [Number], default: undefined },
    answer: { type: Schema.Types.Mixed, required: true },
    savedPriceMicros: { type: Number, required: true },
    createdAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    hits: { type: Number, default: 0 },
    lastHitAt: { type: Date, default: null },
  },
  { collection: 'response_cache', autoIndex: false, versionKey: false, minimize: false },
);
responseCacheSchema.index({ agentId: 1, key: 1 }, { unique: true });
responseCacheSchema.index({ agentId: 1, scope: 1, createdAt: -1 });
responseCacheSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const createResponseCacheModel = (connection: Connection): Model<ResponseCacheEntryDocument> =>
  connection.model<ResponseCacheEntryDocument>('ResponseCacheEntry', responseCacheSchema);
