// Alert thresholds: the percentages of an allowance or budget at which an owner is told, per workspace (stored here)
// and per agent (the agent record's `alertThresholds`, which wins). Read through a short cache: the meter asks for
// every metered batch, and a changed setting is dropped from it at once on this instance.
import { Schema, Types, type Connection, type Model } from 'mongoose';
import { z } from 'zod';
import type { MeteredAgentCollection } from './metering.models';

export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [80, 100];

/** 1 to 5 whole percentages from 1 to 100, kept sorted and without repeats. */
export const alertThresholdsSchema = z
  .array(z.number().int('must be a whole percentage').min(1, 'must be at least 1').max(100, 'must be at most 100'))
  .min(1, 'needs at least one threshold')
  .max(5, 'at most 5 thresholds')
  .transform((values) => [...new Set(values)].sort((a, b) => a - b));

export interface WorkspaceAlertSettingsDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  thresholds: number[];
  updatedAt: Date;
}

const workspaceAlertSettingsSchema = new Schema<WorkspaceAlertSettingsDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    thresholds: { type: [Number], required: true },
    updatedAt: Date,
  },
  { collection: 'workspace_alert_settings', autoIndex: false, versionKey: false },
);
workspaceAlertSettingsSchema.index({ workspaceId: 1 }, { unique: true });

export const createAlertSettingsModels = (connection: Connection) => ({
  WorkspaceAlertSettings: connection.model<WorkspaceAlertSettingsDocument>('WorkspaceAlertSettings', workspaceAlertSettingsSchema) as Model<WorkspaceAlertSettingsDocument>,
});
export type AlertSettingsModels = ReturnType<typeof createAlertSettingsModels>;

const CACHE_MS = 5_000;

export class AlertThresholds {
  private readonly cache = new Map<string, { thresholds: Promise<number[]>; expiresAt: number }>();

  constructor(private readonly models: AlertSettingsModels & { Agent: { collection: MeteredAgentCollection } }) {}

  /** The workspace's own setting, or the default. */
  async forWorkspace(workspaceId: string): Promise<{ thresholds: number[]; isDefault: boolean }> {
    const settings = await this.models.WorkspaceAlertSettings.findOne({ workspaceId: new Types.ObjectId(workspaceId) }).lean<WorkspaceAlertSettingsDocument>();
    return settings ? { thresholds: settings.thresholds, isDefault: false } : { thresholds: [...DEFAULT_ALERT_THRESHOLDS], isDefault: true };
  }

  /** null goes back to the default. */
  async setForWorkspace(workspaceId: string, thresholds: number[] | null): Promise<{ thresholds: number[]; isDefault: boolean }> {
    const id = new Types.ObjectId(workspaceId);
    if (thresholds === null) await this.models.WorkspaceAlertSettings.deleteOne({ workspaceId: id });
    else await this.models.WorkspaceAlertSettings.updateOne({ workspaceId: id }, { $set: { thresholds, updatedAt: new Date() } }, { upsert: true });
    this.cache.clear();
    return this.forWorkspace(workspaceId);
  }

  /** The thresholds that apply to one agent: its own, else its workspace's, else the default. */
  forAgent(workspaceId: string, agentId: string): Promise<number[]> {
    const now = Date.now();
    const cached = this.cache.get(agentId);
    if (cached && cached.expiresAt > now) return cached.thresholds;
    const thresholds = (async () => {
      const agent = (await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(agentId) }, { projection: { alertThresholds: 1 } })) as { alertThresholds?: number[] | null } | null;
      if (agent?.alertThresholds?.length) return agent.alertThresholds;
      return (await this.forWorkspace(workspaceId)).thresholds;
    })();
    thresholds.catch(() => this.cache.delete(agentId));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(agentId, { thresholds, expiresAt: now + CACHE_MS });
    return thresholds;
  }

  /** An agent's setting changed (or the agent went away). */
  agentChanged(agentId: string): void {
    this.cache.delete(agentId);
  }
}
