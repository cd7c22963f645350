// Alerts: stored once per agent-month per type (once per key incident for key alerts), pushed to the workspace room.
import { Types } from 'mongoose';
import type { MeteringModels } from './metering.models';
import type { Logger } from '../logger';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../db/driver-errors';
import { notFound } from '../errors/domain-error';
import type { AlertDocument, AlertType } from './metering.models';
import type { RollupChange } from './meter.types';
import { monthOf } from './pricing';

export interface PublicAlert {
  id: string;
  type: AlertType;
  agentId: string | null;
  message: string;
  createdAt: string;
  readAt: string | null;
}

export type AlertPublisher = (workspaceId: string, alert: PublicAlert) => void;

function toPublic(alert: AlertDocument): PublicAlert {
  return {
    id: alert._id.toString(),
    type: alert.type,
    agentId: alert.agentId?.toString() ?? null,
    message: alert.message,
    createdAt: alert.createdAt.toISOString(),
    readAt: alert.readAt?.toISOString() ?? null,
  };
}

export class AlertService {
  private publisher: AlertPublisher | undefined;

  constructor(
    private readonly models: Pick<MeteringModels, 'Alert'>,
    private readonly logger: Logger,
  ) {}

  setPublisher(publisher: AlertPublisher): void {
    this.publisher = publisher;
  }

  /** Creates the alert unless one with the same dedupe key exists; returns it when new. */
  async raise(input: { workspaceId: string; agentId: string | null; type: AlertType; message: string; incident?: string; at?: Date }): Promise<PublicAlert | undefined> {
    const month = monthOf(input.at ?? new Date());
    const dedupeKey = `${input.type}|${input.agentId ?? '-'}|${input.incident ?? month}`;
    try {
      const created = await this.models.Alert.create({
        workspaceId: new Types.ObjectId(input.workspaceId),
        agentId: input.agentId ? new Types.ObjectId(input.agentId) : null,
        type: input.type,
        month,
        dedupeKey,
        message: input.message,
      });
      const alert = toPublic(created.toObject() as AlertDocument);
      this.publisher?.(input.workspaceId, alert);
      return alert;
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  /** Allowance and budget thresholds crossed by a metered batch. */
  async raiseForRollupChanges(changes: RollupChange[], agentNames: (agentId: string) => Promise<string>): Promise<void> {
    for (const change of changes) {
      try {
        const crossed = (before: number, after: number, threshold: number) => before < threshold && after >= threshold;
        // Most batches cross no threshold (80% or 100%): look the agent's name up (a database read) only for an alert.
        const crossesAny = (before: number, after: number, limit: number) => crossed(before, after, limit * 0.8) || crossed(before, after, limit);
        const allowanceCrossed = change.mode === 'managed' && change.includedTokens > 0 && crossesAny(change.tokensBefore, change.tokensAfter, change.includedTokens);
        const budgetCrossed = change.mode === 'byok' && !!change.budgetMicros && change.budgetMicros > 0 && crossesAny(change.costBeforeMicros, change.costAfterMicros, change.budgetMicros);
        if (!allowanceCrossed && !budgetCrossed) continue;
        const name = await agentNames(change.agentId);
        if (change.mode === 'managed' && change.includedTokens > 0) {
          if (crossed(change.tokensBefore, change.tokensAfter, change.includedTokens * 0.8)) {
            await this.raise({ workspaceId: change.workspaceId, agentId: change.agentId, type: 'allowance_80', message: `${name} has used 80% of its included usage this month.` });
          }
          if (crossed(change.tokensBefore, change.tokensAfter, change.includedTokens)) {
            await this.raise({ workspaceId: change.workspaceId, agentId: change.agentId, type: 'allowance_100', message: `${name} has used all of its included usage this month; further usage is billed as overage.` });
          }
        }
        if (change.mode === 'byok' && change.budgetMicros && change.budgetMicros > 0) {
          if (crossed(change.costBeforeMicros, change.costAfterMicros, change.budgetMicros * 0.8)) {
            await this.raise({ workspaceId: change.workspaceId, agentId: change.agentId, type: 'budget_80', message: `${name} has used 80% of its monthly budget.` });
          }
          if (crossed(change.costBeforeMicros, change.costAfterMicros, change.budgetMicros)) {
            await this.raise({ workspaceId: change.workspaceId, agentId: change.agentId, type: 'budget_reached', message: `${name} has reached its monthly budget; calls are blocked until next month or a higher budget.` });
          }
        }
      } catch (error) {
        this.logger.warn({ err: error, agentId: change.agentId }, 'could not raise usage alert');
      }
    }
  }

  async list(workspaceId: string, limit = 100): Promise<PublicAlert[]> {
    const alerts = await this.models.Alert.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: -1 }).limit(limit).lean<AlertDocument[]>();
    return alerts.map(toPublic);
  }

  async markRead(workspaceId: string, alertId: string): Promise<PublicAlert> {
    if (!OBJECT_ID_PATTERN.test(alertId)) throw notFound('Alert');
    const alert = await this.models.Alert.findOneAndUpdate(
      { _id: new Types.ObjectId(alertId), workspaceId: new Types.ObjectId(workspaceId) },
      { $set: { readAt: new Date() } },
      { new: true },
    ).lean<AlertDocument>();
    if (!alert) throw notFound('Alert');
    return toPublic(alert);
  }

  async markAllRead(workspaceId: string): Promise<number> {
    const result = await this.models.Alert.updateMany({ workspaceId: new Types.ObjectId(workspaceId), readAt: null }, { $set: { readAt: new Date() } });
    return result.modifiedCount;
  }
}
