// Plan history: every change of an agent's LLM setting, pause/resume, creation and deletion, with its time and who
// made it (collection `plan_history`, append-only). The billing rule reads it to cut a month into plan segments.
import { Schema, Types, type Connection, type Model } from 'mongoose';

/** What billing needs to know of an agent's setting at one moment. */
export interface BillingSetting {
  mode: 'managed' | 'byok';
  plan: string | null;
  status: 'active' | 'paused';
  /** BYOK only, for the record (never the key). */
  provider?: string | null;
  model?: string | null;
}

export const PLAN_CHANGE_KINDS = ['created', 'llm_changed', 'paused', 'resumed', 'deleted'] as const;
export type PlanChangeKind = (typeof PLAN_CHANGE_KINDS)[number];

export type PlanChangeActor = { type: 'user'; userId: string } | { type: 'system'; reason: string };

/** One change, as the agent domain reports it (agents/agent.service.ts, one call per change). */
export interface PlanChangeInput {
  workspaceId: string;
  agentId: string;
  agentName: string;
  kind: PlanChangeKind;
  /** null for `created`. */
  from: BillingSetting | null;
  /** null for `deleted`. */
  to: BillingSetting | null;
  actor: PlanChangeActor;
  at: Date;
}

export interface PlanChangeDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  agentName: string;
  kind: PlanChangeKind;
  from: BillingSetting | null;
  to: BillingSetting | null;
  actor: PlanChangeActor;
  at: Date;
}

/** The plan a setting bills for: a managed, active agent's plan; BYOK and paused time bill nothing. */
export function billedPlanOf(setting: BillingSetting | null): string | null {
  return setting && setting.status === 'active' && setting.mode === 'managed' ? setting.plan : null;
}

const settingSchema = new Schema<BillingSetting>(
  { mode: String, plan: { type: String, default: null }, status: String, provider: { type: String, default: null }, model: { type: String, default: null } },
  { _id: false },
);

const planChangeSchema = new Schema<PlanChangeDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    agentName: { type: String, required: true },
    kind: { type: String, enum: PLAN_CHANGE_KINDS, required: true },
    from: { type: settingSchema, default: null },
    to: { type: settingSchema, default: null },
    actor: { type: Schema.Types.Mixed, required: true },
    at: { type: Date, required: true },
  },
  { collection: 'plan_history', autoIndex: false, versionKey: false },
);
planChangeSchema.index({ workspaceId: 1, at: 1 });
planChangeSchema.index({ agentId: 1, at: 1 });

export const createPlanChangeModel = (connection: Connection): Model<PlanChangeDocument> => connection.model<PlanChangeDocument>('PlanChange', planChangeSchema);

export interface PlanHistoryEntry {
  id: string;
  agentId: string;
  agentName: string;
  kind: PlanChangeKind;
  from: BillingSetting | null;
  to: BillingSetting | null;
  actor: PlanChangeActor;
  at: string;
}

export class PlanHistoryService {
  constructor(private readonly models: { PlanChange: Model<PlanChangeDocument> }) {}

  /** Appends one change (the agent domain's PlanHistoryRecorder port). */
  async record(change: PlanChangeInput): Promise<void> {
    await this.models.PlanChange.collection.insertOne({
      workspaceId: new Types.ObjectId(change.workspaceId),
      agentId: new Types.ObjectId(change.agentId),
      agentName: change.agentName,
      kind: change.kind,
      from: change.from,
      to: change.to,
      actor: change.actor,
      at: change.at,
    } as never);
  }

  /** One agent's history, newest first (the API). */
  async agentHistory(workspaceId: Types.ObjectId, agentId: Types.ObjectId, limit = 200): Promise<PlanHistoryEntry[]> {
    const rows = (await this.models.PlanChange.collection.find({ workspaceId, agentId }).sort({ at: -1, _id: -1 }).limit(limit).toArray()) as unknown as PlanChangeDocument[];
    return rows.map((row) => ({
      id: row._id.toString(),
      agentId: row.agentId.toString(),
      agentName: row.agentName,
      kind: row.kind,
      from: row.from,
      to: row.to,
      actor: row.actor,
      at: row.at.toISOString(),
    }));
  }
}
