// token_meter (one event per provider attempt that produced tokens), usage_monthly (one rollup per agent-month) and alerts.
import { Schema, Types, type Connection, type Model } from 'mongoose';

/**
 * The agent fields metering reads (limits, usage rows). The agent domain owns the record (agents/agent.model.ts);
 * metering names only what it needs, so it never imports the layer above it.
 */
export interface MeteredAgentRecord {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  name: string;
  status?: 'active' | 'paused';
  llm: { mode: 'managed' | 'byok'; plan?: string | null };
  limits?: { monthlyTokenCap: number | null; monthlyBudgetMicros: number | null; monthlyOverageBudgetMicros?: number | null };
}

/** Where metering reads agent records from: the agents collection, through the driver. */
export type MeteredAgentCollection = Pick<import('mongodb').Collection, 'find' | 'findOne'>;

export type RequestType = 'chat' | 'stream' | 'test' | 'tool' | 'embedding';
export type MeterStatus = 'ok' | 'error' | 'partial' | 'timeout';

export interface PriceSnapshot {
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
  overageUsdPerMillion: number;
  includedTokens: number;
}

/** How cost-aware routing (#14) decided one call; `savedMicros`: the strong model's cost for these tokens minus this event's. */
export interface MeterRouting {
  tier: 'light' | 'strong';
  score: number;
  reason: string;
  forced?: boolean;
  escalated?: boolean;
  /** The strong model's prices per 1M tokens (the "always strong" reference of the savings view). */
  strongPrice?: { inputUsdPerMillion: number; outputUsdPerMillion: number };
  savedMicros?: number;
}

export interface MeterEventDocument {
  _id: Types.ObjectId;
  requestId: string;
  agentId: Types.ObjectId;
  workspaceId: Types.ObjectId;
  timestamp: Date;
  month: string;
  day: string;
  provider: string;
  model: string;
  tier: string | null;
  mode: 'byok' | 'managed';
  plan: string | null;
  requestType: RequestType;
  status: MeterStatus;
  usageSource: 'provider' | 'estimated';
  tokensInput: number;
  tokensOutput: number;
  costInputMicros: number;
  costOutputMicros: number;
  costTotalMicros: number;
  priceTotalMicros: number;
  overageTokens: number;
  latencyMs: number;
  credential: string;
  sandbox: boolean;
  attempt: number;
  /** Whether this event is the call's answer (counted in the rollup's `requests`). */
  countedAsRequest: boolean;
  priceSnapshot: PriceSnapshot;
  // Cost-aware routing (#14)
  routing?: MeterRouting | null;
  fallback?: boolean;
  degraded?: 'light_model' | 'clamped' | null;
  // activity log (experience-b): which of the agent's API keys made the call (absent for playground/JWT calls), and
  // the UTC hour "2026-11-30T14" the activity log and today-by-hour read by (index equality; backfilled by migration 004)
  apiKeyId?: string | null;
  hour?: string;
  // End-customer attribution (the request's `user` and `metadata`; never message content).
  endUser?: string | null;
  metadata?: Record<string, string> | null;
  // Response cache and A/B experiments (cache): a hit bills no tokens and records the price it saved.
  cacheHit?: boolean;
  savedPriceMicros?: number;
  experiment?: { id: string; variant: string } | null;
}

export interface UsageMonthlyDocument {
  _id: Types.ObjectId;
  agentId: Types.ObjectId;
  workspaceId: Types.ObjectId;
  month: string;
  mode: 'byok' | 'managed';
  plan: string | null;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  errors: number;
  costInputMicros: number;
  costOutputMicros: number;
  costTotalMicros: number;
  priceTotalMicros: number;
  overageTokens: number;
  reservedTokens: number;
  reservedCostMicros: number;
  /** day of month "01".."31" → counters */
  daily: Record<string, { tokensInput: number; tokensOutput: number; requests: number }>;
  /** base64url("provider|model") → counters (model ids contain dots, which field paths cannot) */
  byModel: Record<string, { tokens: number; costMicros: number }>;
  /** The last rollup groups applied (exactly-once $inc); see applyGuardedRollup. */
  appliedGroups: Array<{ id: string; tokens: number; costMicros: number }>;
  pricedGroups: string[];
  /** Cost-aware routing (#14) counters: requests per tier, saved micro-dollars, escalations, degraded and fallback calls. */
  routing?: Partial<Record<'lightRequests' | 'strongRequests' | 'savedMicros' | 'escalations' | 'forced' | 'degradedRequests' | 'fallbackRequests' | 'fallbackTokens', number>>;
  updatedAt: Date;
  /** Billing (server/billing): tokens of managed events only — what counts against a plan's allowance. */
  managedTokens?: number;
  /** Billing: plan id → its managed tokens and the overage priced on them (tokens − overageTokens = allowance used). */
  byPlan?: Record<string, { tokens?: number; overageTokens?: number; priceMicros?: number }>;
  /** Billing: BYOK tokens and what the customer's own provider charges for them (shown for information). */
  byokTokens?: number;
  byokCostMicros?: number;
}

export const ALERT_TYPES = [
  'allowance_80', 'allowance_100', 'budget_80', 'budget_reached', 'key_invalid', 'provider_quota_exceeded',
  // alerts: limits reached, thresholds other than 80 %, a key the provider rate limits
  'cap_reached', 'overage_budget_reached', 'allowance_threshold', 'budget_threshold', 'key_rate_limited',
  // Cost-aware routing (#14)
  'routing_degraded', 'byok_fallback',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export interface AlertDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId | null;
  type: AlertType;
  month: string;
  /** Makes an alert once per agent-month per type, or once per key incident for key alerts. */
  dedupeKey: string;
  message: string;
  createdAt: Date;
  readAt: Date | null;
  /** alerts: the percentage a threshold alert is for (null for others). */
  threshold?: number | null;
  /** alerts: set when the cause went away (key replaced or valid again, month over, limit raised). */
  resolvedAt?: Date | null;
  resolvedReason?: string | null;
}

const priceSnapshotSchema = new Schema<PriceSnapshot>(
  { inputUsdPerMillion: Number, outputUsdPerMillion: Number, overageUsdPerMillion: Number, includedTokens: Number },
  { _id: false },
);

const meterEventSchema = new Schema<MeterEventDocument>(
  {
    requestId: { type: String, required: true, unique: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    timestamp: { type: Date, required: true },
    month: { type: String, required: true },
    day: { type: String, required: true },
    provider: String,
    model: String,
    tier: { type: String, default: null },
    mode: { type: String, enum: ['byok', 'managed'] },
    plan: { type: String, default: null },
    requestType: { type: String, enum: ['chat', 'stream', 'test', 'tool', 'embedding'] },
    status: { type: String, enum: ['ok', 'error', 'partial', 'timeout'] },
    usageSource: { type: String, enum: ['provider', 'estimated'] },
    tokensInput: Number,
    tokensOutput: Number,
    costInputMicros: Number,
    costOutputMicros: Number,
    costTotalMicros: Number,
    priceTotalMicros: Number,
    overageTokens: Number,
    latencyMs: Number,
    credential: String,
    sandbox: Boolean,
    attempt: Number,
    countedAsRequest: Boolean,
    priceSnapshot: priceSnapshotSchema,
    routing: { type: Schema.Types.Mixed, default: undefined },
    fallback: { type: Boolean, default: undefined },
    degraded: { type: String, default: undefined },
    // activity log (experience-b)
    apiKeyId: { type: String, default: undefined },
    hour: { type: String, default: undefined },
    // End-customer attribution
    endUser: { type: String, default: undefined },
    metadata: { type: Schema.Types.Mixed, default: undefined },
    // Response cache and A/B experiments (cache)
    cacheHit: { type: Boolean, default: undefined },
    savedPriceMicros: { type: Number, default: undefined },
    experiment: { type: new Schema({ id: String, variant: String }, { _id: false }), default: undefined },
  },
  { collection: 'token_meter', autoIndex: false, versionKey: false },
);
meterEventSchema.index({ workspaceId: 1, month: 1, timestamp: 1 });
meterEventSchema.index({ agentId: 1, month: 1, timestamp: 1 });
// activity log (experience-b): newest-first pages of one UTC hour, by workspace or by agent (migration 004-activity-indexes)
meterEventSchema.index({ workspaceId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_workspace_hour' });
meterEventSchema.index({ agentId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_agent_hour' });
// activity log filters (migration 010-activity-filter-indexes): status, API key and end user, each after the workspace
meterEventSchema.index({ workspaceId: 1, status: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_status_hour' });
meterEventSchema.index({ workspaceId: 1, apiKeyId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_api_key_hour' });
meterEventSchema.index({ workspaceId: 1, endUser: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_end_user_hour' });
// Per end user reads of one agent-month (publish): only events that carry an end user are in it.
meterEventSchema.index({ agentId: 1, month: 1, endUser: 1 }, { partialFilterExpression: { endUser: { $type: 'string' } } });

const usageMonthlySchema = new Schema<UsageMonthlyDocument>(
  {
    agentId: { type: Schema.Types.ObjectId, required: true },
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    month: { type: String, required: true },
    mode: String,
    plan: { type: String, default: null },
    tokensInput: { type: Number, default: 0 },
    tokensOutput: { type: Number, default: 0 },
    tokens: { type: Number, default: 0 },
    requests: { type: Number, default: 0 },
    errors: { type: Number, default: 0 },
    costInputMicros: { type: Number, default: 0 },
    costOutputMicros: { type: Number, default: 0 },
    costTotalMicros: { type: Number, default: 0 },
    priceTotalMicros: { type: Number, default: 0 },
    overageTokens: { type: Number, default: 0 },
    reservedTokens: { type: Number, default: 0 },
    reservedCostMicros: { type: Number, default: 0 },
    daily: { type: Schema.Types.Mixed, default: {} },
    byModel: { type: Schema.Types.Mixed, default: {} },
    appliedGroups: { type: Schema.Types.Mixed, default: [] },
    pricedGroups: { type: [String], default: [] },
    routing: { type: Schema.Types.Mixed, default: undefined },
    updatedAt: Date,
    managedTokens: { type: Number, default: 0 },
    byPlan: { type: Schema.Types.Mixed, default: {} },
    byokTokens: { type: Number, default: 0 },
    byokCostMicros: { type: Number, default: 0 },
  },
  { collection: 'usage_monthly', autoIndex: false, versionKey: false, minimize: false, suppressReservedKeysWarning: true },
);
usageMonthlySchema.index({ agentId: 1, month: 1 }, { unique: true });
usageMonthlySchema.index({ workspaceId: 1, month: 1 });

const alertSchema = new Schema<AlertDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, default: null },
    type: { type: String, enum: ALERT_TYPES, required: true },
    month: { type: String, required: true },
    dedupeKey: { type: String, required: true, unique: true },
    message: { type: String, required: true },
    readAt: { type: Date, default: null },
    threshold: { type: Number, default: null },
    resolvedAt: { type: Date, default: null },
    resolvedReason: { type: String, default: null },
  },
  { collection: 'alerts', autoIndex: false, timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
alertSchema.index({ workspaceId: 1, createdAt: -1 });
alertSchema.index({ agentId: 1, resolvedAt: 1 });

export const createMeterEventModel = (connection: Connection): Model<MeterEventDocument> => connection.model<MeterEventDocument>('MeterEvent', meterEventSchema);
export const createUsageMonthlyModel = (connection: Connection): Model<UsageMonthlyDocument> =>
  connection.model<UsageMonthlyDocument>('UsageMonthly', usageMonthlySchema);
export const createAlertModel = (connection: Connection): Model<AlertDocument> => connection.model<AlertDocument>('Alert', alertSchema);

export const createMeteringModels = (connection: Connection) => ({
  MeterEvent: createMeterEventModel(connection),
  UsageMonthly: createUsageMonthlyModel(connection),
  Alert: createAlertModel(connection),
});
export type MeteringModels = ReturnType<typeof createMeteringModels>;
