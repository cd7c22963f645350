// usage_end_user_monthly: one rollup per agent, end user and month (end-customer attribution). It backs the per-end-user
// monthly token cap (reservations, like the agent's own cap), the "top end users" read and the visitors' daily tokens.
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface EndUserUsageDocument {
  _id: Types.ObjectId;
  agentId: Types.ObjectId;
  workspaceId: Types.ObjectId;
  endUser: string;
  month: string;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  costMicros: number;
  priceMicros: number;
  reservedTokens: number;
  /** day of month "01".."31" → tokens */
  daily: Record<string, number>;
  lastSeenAt: Date;
  /** The last meter rollup groups applied / priced here (exactly-once $inc, as in guarded-rollup.ts). */
  appliedGroups: string[];
  pricedGroups: string[];
}

const endUserUsageSchema = new Schema<EndUserUsageDocument>(
  {
    agentId: { type: Schema.Types.ObjectId, required: true },
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    endUser: { type: String, required: true },
    month: { type: String, required: true },
    tokensInput: { type: Number, default: 0 },
    tokensOutput: { type: Number, default: 0 },
    tokens: { type: Number, default: 0 },
    requests: { type: Number, default: 0 },
    costMicros: { type: Number, default: 0 },
    priceMicros: { type: Number, default: 0 },
    reservedTokens: { type: Number, default: 0 },
    daily: { type: Schema.Types.Mixed, default: {} },
    lastSeenAt: Date,
    appliedGroups: { type: [String], default: [] },
    pricedGroups: { type: [String], default: [] },
  },
  { collection: 'usage_end_user_monthly', autoIndex: false, versionKey: false, minimize: false },
);
endUserUsageSchema.index({ agentId: 1, endUser: 1, month: 1 }, { unique: true });
// "Top end users of an agent this month": read in token order straight from the index.
endUserUsageSchema.index({ agentId: 1, month: 1, tokens: -1 });

export const createEndUserUsageModels = (connection: Connection) => ({
  EndUserUsage: connection.model<EndUserUsageDocument>('EndUserUsage', endUserUsageSchema) as Model<EndUserUsageDocument>,
});
export type EndUserUsageModels = ReturnType<typeof createEndUserUsageModels>;
