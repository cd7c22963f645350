// The agent record and its API keys. Sealed keys are stored only as the vault's {v, keyId, nonce, ciphertext}.
import { Schema, Types, type Connection, type Model } from 'mongoose';

export const KEY_STATUSES = ['unchecked', 'valid', 'invalid', 'rate_limited', 'quota_exceeded', 'unreachable'] as const;
export type KeyStatus = (typeof KEY_STATUSES)[number];

export interface SealedKeyRecord {
  v: 1;
  keyId: string;
  nonce: string;
  ciphertext: string;
}

export interface AgentLlmRecord {
  mode: 'managed' | 'byok';
  plan?: 'starter' | 'pro' | 'ultra' | null;
  provider?: string | null;
  model?: string | null;
  baseUrl?: string | null;
  sealedKey?: SealedKeyRecord | null;
  keyMask?: string | null;
  keyStatus?: KeyStatus | null;
  keyCheckedAt?: Date | null;
  /** alerts: when the background checker may check this key next (key-health.service.ts). */
  keyNextCheckAt?: Date | null;
  /** experience (#18): a sandbox key (agents/byok-sandbox.ts): calls go to the built-in simulator. */
  sandboxKey?: boolean | null;
  /** Cost-aware routing (#14): a BYOK agent's second, cheaper model for easy requests, with its own sealed key. */
  light?: AgentLightModelRecord | null;
}

// ---- cost-aware routing (#14) ----
export interface AgentLightModelRecord {
  provider: string;
  model: string;
  baseUrl: string | null;
  sealedKey: SealedKeyRecord | null;
  keyMask: string | null;
  keyStatus: KeyStatus | null;
}

export interface AgentRoutingRecord {
  /** null: the plan's routing (managed) or off (BYOK). */
  setting: 'off' | 'quality' | 'balanced' | 'savings' | null;
  /** The owner's opt-out: always the most capable model. */
  alwaysStrong: boolean;
  /** Consent to answer from this managed plan when the agent's own key fails (billed at its overage rate). */
  fallbackPlan: 'starter' | 'pro' | 'ultra' | null;
  /** Near a budget or cap, move to the light model before clamping or refusing. */
  degrade: boolean;
}

/** The response cache of one agent (cache): off unless the owner turns it on (agents/response-cache.schemas.ts). */
export interface AgentCacheSetting {
  mode: 'off' | 'exact' | 'semantic';
  ttlSeconds: number;
  similarityThreshold: number;
  maxTemperature: number;
  allowAnyTemperature: boolean;
}

/** Publishing (publish): the public share link / embeddable chat of an agent. */
export interface AgentPublishingRecord {
  enabled: boolean;
  /** The unguessable part of the share link; a new one on rotation. */
  slug: string | null;
  displayName: string;
  greeting: string;
  suggestedQuestions: string[];
  accentColor: string;
  /** Sites allowed to embed the chat ("https://shop.example.com"), checked on every request. */
  allowedOrigins: string[];
  publishedAt: Date | null;
}

/** Conversations kept on the server (publish): days to keep them; 0 keeps nothing; unset: the default for the mode. */
export interface AgentConversationsRecord {
  retentionDays?: number | null;
}

/** An agent made from a workspace template keeps the template's prompt and variables as they were then (publish). */
export interface AgentPromptTemplateRecord {
  workspaceTemplateId: string;
  name: string;
  systemPrompt: string;
  variables: Array<{ name: string; label: string; required: boolean; default?: string }>;
}

export interface AgentDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  name: string;
  templateId: string;
  variables: Record<string, string>;
  status: 'active' | 'paused';
  llm: AgentLlmRecord;
  limits: { monthlyTokenCap: number | null; monthlyBudgetMicros: number | null; endUserMonthlyTokenCap?: number | null; monthlyOverageBudgetMicros?: number | null };
  /** alerts: this agent's alert thresholds in percent (null: the workspace's). */
  alertThresholds?: number[] | null;
  routing?: AgentRoutingRecord | null;
  // Response cache (cache)
  cache?: AgentCacheSetting | null;
  // publish
  publishing?: AgentPublishingRecord | null;
  conversations?: AgentConversationsRecord | null;
  promptTemplate?: AgentPromptTemplateRecord | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface AgentApiKeyDocument {
  _id: Types.ObjectId;
  agentId: Types.ObjectId;
  workspaceId: Types.ObjectId;
  keyHash: string;
  prefix: string;
  createdBy: Types.ObjectId;
  createdAt: Date;
  lastUsedAt: Date | null;
  /** A name people give the key ("Website widget", "Zapier"); keys made before names existed have none. */
  name?: string | null;
}

const sealedKeySchema = new Schema<SealedKeyRecord>(
  { v: { type: Number, required: true }, keyId: { type: String, required: true }, nonce: { type: String, required: true }, ciphertext: { type: String, required: true } },
  { _id: false },
);

const agentSchema = new Schema<AgentDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    templateId: { type: String, required: true },
    variables: { type: Schema.Types.Mixed, default: {} },
    status: { type: String, enum: ['active', 'paused'], default: 'active' },
    llm: {
      mode: { type: String, enum: ['managed', 'byok'], required: true },
      plan: { type: String, default: null },
      provider: { type: String, default: null },
      model: { type: String, default: null },
      baseUrl: { type: String, default: null },
      sealedKey: { type: sealedKeySchema, default: null },
      keyMask: { type: String, default: null },
      keyStatus: { type: String, enum: [...KEY_STATUSES, null], default: null },
      keyCheckedAt: { type: Date, default: null },
      keyNextCheckAt: { type: Date, default: null },
      sandboxKey: { type: Boolean, default: null },
      light: { type: Schema.Types.Mixed, default: null },
    },
    limits: {
      monthlyTokenCap: { type: Number, default: null },
      monthlyBudgetMicros: { type: Number, default: null },
      endUserMonthlyTokenCap: { type: Number, default: undefined },
      // alerts: a managed agent's overage spend cap for the month
      monthlyOverageBudgetMicros: { type: Number, default: null },
    },
    alertThresholds: { type: Schema.Types.Mixed, default: null },
    routing: { type: Schema.Types.Mixed, default: null },
    // Response cache (cache)
    cache: { type: Schema.Types.Mixed, default: undefined },
    // publish: share link / embed, conversation retention, a workspace template's prompt
    publishing: { type: Schema.Types.Mixed, default: undefined },
    conversations: { type: Schema.Types.Mixed, default: undefined },
    promptTemplate: { type: Schema.Types.Mixed, default: undefined },
  },
  { timestamps: true, collection: 'agents', autoIndex: false, minimize: false },
);
agentSchema.index({ workspaceId: 1, createdAt: 1 });
// publish: the share link's slug finds its agent (only published agents carry one).
agentSchema.index({ 'publishing.slug': 1 }, { unique: true, partialFilterExpression: { 'publishing.slug': { $type: 'string' } } });

const agentApiKeySchema = new Schema<AgentApiKeyDocument>(
  {
    agentId: { type: Schema.Types.ObjectId, required: true },
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    keyHash: { type: String, required: true, unique: true },
    prefix: { type: String, required: true },
    createdBy: { type: Schema.Types.ObjectId, required: true },
    lastUsedAt: { type: Date, default: null },
    name: { type: String, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'agent_api_keys', autoIndex: false },
);
agentApiKeySchema.index({ agentId: 1 });

export const createAgentModel = (connection: Connection): Model<AgentDocument> => connection.model<AgentDocument>('Agent', agentSchema);
export const createAgentApiKeyModel = (connection: Connection): Model<AgentApiKeyDocument> =>
  connection.model<AgentApiKeyDocument>('AgentApiKey', agentApiKeySchema);

export const createAgentModels = (connection: Connection) => ({ Agent: createAgentModel(connection), AgentApiKey: createAgentApiKeyModel(connection) });
export type AgentModels = ReturnType<typeof createAgentModels>;
