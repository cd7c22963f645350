// Alerts: stored once per agent-month per type and threshold (once per key incident for key alerts), pushed to the
// workspace room and to listeners (webhooks), and resolved by themselves when their cause is gone.
import { Types } from 'mongoose';
import type { MeteredAgentCollection, MeteringModels } from './metering.models';
import type { Logger } from '../logger';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../db/driver-errors';
import { notFound } from '../errors/domain-error';
import type { AlertDocument, AlertType } from './metering.models';
import type { RollupChange } from './meter.types';
import { monthOf } from './pricing';
import { DEFAULT_ALERT_THRESHOLDS, type AlertThresholds } from './alert-thresholds';

export interface PublicAlert {
  id: string;
  type: AlertType;
  agentId: string | null;
  message: string;
  createdAt: string;
  readAt: string | null;
  /** The percentage of a threshold alert; null for others. */
  threshold: number | null;
  resolvedAt: string | null;
  /** key_replaced, key_valid, key_removed, month_over, limit_raised, limit_removed, agent_deleted. */
  resolvedReason: string | null;
}

export type AlertPublisher = (workspaceId: string, alert: PublicAlert) => void;

/** What webhooks and other listeners hear: an alert raised or resolved. */
export interface AlertEvent {
  type: 'alert.raised' | 'alert.resolved';
  workspaceId: string;
  alert: PublicAlert;
}
export type AlertListener = (event: AlertEvent) => void;

const KEY_ALERT_TYPES: readonly AlertType[] = ['key_invalid', 'provider_quota_exceeded', 'key_rate_limited'];
const LIMIT_ALERT_TYPES: readonly AlertType[] = ['cap_reached', 'overage_budget_reached', 'budget_reached'];
/** Alerts about one month's usage: the month ending resolves them. */
const MONTHLY_ALERT_TYPES: readonly AlertType[] = ['allowance_80', 'allowance_100', 'allowance_threshold', 'budget_80', 'budget_threshold', ...LIMIT_ALERT_TYPES];
/** A limit alert resolves when the limit is removed or usage is below this share of it again (the limit was raised). */
const LIMIT_RESOLVED_BELOW = 0.95;

function toPublic(alert: AlertDocument): PublicAlert {
  return {
    id: alert._id.toString(),
    type: alert.type,
    agentId: alert.agentId?.toString() ?? null,
    message: alert.message,
    createdAt: alert.createdAt.toISOString(),
    readAt: alert.readAt?.toISOString() ?? null,
    threshold: alert.threshold ?? null,
    resolvedAt: alert.resolvedAt?.toISOString() ?? null,
    resolvedReason: alert.resolvedReason ?? null,
  };
}

interface AgentForAlerts {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  llm?: { mode?: string; keyStatus?: string | null; sealedKey?: { nonce?: string } | null };
  limits?: { monthlyTokenCap?: number | null; monthlyBudgetMicros?: number | null; monthlyOverageBudgetMicros?: number | null };
}

function thresholdAlertType(mode: 'managed' | 'byok', threshold: number): AlertType {
  if (mode === 'managed') return threshold === 100 ? 'allowance_100' : threshold === 80 ? 'allowance_80' : 'allowance_threshold';
  return threshold === 100 ? 'budget_reached' : threshold === 80 ? 'budget_80' : 'budget_threshold';
}

function thresholdMessage(name: string, mode: 'managed' | 'byok', threshold: number): string {
  if (mode === 'managed') {
    return threshold === 100
      ? `${name} has used all of its included usage this month; further usage is billed as overage.`
      : `${name} has used ${threshold}% of its included usage this month.`;
  }
  return threshold === 100
    ? `${name} has reached its monthly budget; calls are blocked until next month or a higher budget.`
    : `${name} has used ${threshold}% of its monthly budget.`;
}

export class AlertService {
  private publisher: AlertPublisher | undefined;
  private readonly listeners: AlertListener[] = [];

  constructor(
    private readonly models: Pick<MeteringModels, 'Alert' | 'UsageMonthly'> & { Agent?: { collection: MeteredAgentCollection } },
    private readonly logger: Logger,
    private readonly thresholds?: AlertThresholds,
  ) {}

  setPublisher(publisher: AlertPublisher): void {
    this.publisher = publisher;
  }

  /** Webhooks subscribe here; a listener's failure never reaches the caller. */
  onAlertEvent(listener: AlertListener): void {
    this.listeners.push(listener);
  }

  private emit(event: AlertEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.logger.warn({ err: error }, 'alert listener failed');
      }
    }
  }

  /** Creates the alert unless an open one with the same dedupe key exists; returns it when new. */
  async raise(input: { workspaceId: string; agentId: string | null; type: AlertType; message: string; incident?: string; threshold?: number; at?: Date }): Promise<PublicAlert | undefined> {
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
        threshold: input.threshold ?? null,
      });
      const alert = toPublic(created.toObject() as AlertDocument);
      this.publisher?.(input.workspaceId, alert);
      this.emit({ type: 'alert.raised', workspaceId: input.workspaceId, alert });
      return alert;
    } catch (error) {
      if (isDuplicateKeyError(error)) return undefined;
      throw error;
    }
  }

  /** Allowance and budget thresholds (the agent's, else the workspace's, else 80 and 100 %) crossed by a metered batch. */
  async raiseForRollupChanges(changes: RollupChange[], agentNames: (agentId: string) => Promise<string>): Promise<void> {
    for (const change of changes) {
      try {
        const limit = change.mode === 'managed' ? change.includedTokens : change.budgetMicros ?? 0;
        if (!(limit > 0)) continue;
        const [before, after] = change.mode === 'managed' ? [change.tokensBefore, change.tokensAfter] : [change.costBeforeMicros, change.costAfterMicros];
        // Nothing below 1 % can cross any threshold: most batches end here without a read.
        if (after * 100 < limit) continue;
        const thresholds = this.thresholds ? await this.thresholds.forAgent(change.workspaceId, change.agentId) : [...DEFAULT_ALERT_THRESHOLDS];
        const crossed = thresholds.filter((threshold) => before * 100 < limit * threshold && after * 100 >= limit * threshold);
        if (crossed.length === 0) continue;
        const name = await agentNames(change.agentId);
        for (const threshold of crossed) {
          const type = thresholdAlertType(change.mode, threshold);
          await this.raise({
            workspaceId: change.workspaceId,
            agentId: change.agentId,
            type,
            message: thresholdMessage(name, change.mode, threshold),
            threshold,
            incident: type.endsWith('_threshold') ? `${change.month}:${threshold}` : change.month,
            at: new Date(`${change.month}-15T00:00:00Z`),
          });
        }
      } catch (error) {
        this.logger.warn({ err: error, agentId: change.agentId }, 'could not raise usage alert');
      }
    }
  }

  /** Marks one open alert resolved (freeing its dedupe key, so the same cause can alert again later). */
  private async resolveOne(alert: AlertDocument, reason: string, now = new Date()): Promise<boolean> {
    const result = await this.models.Alert.updateOne(
      { _id: alert._id, resolvedAt: null },
      { $set: { resolvedAt: now, resolvedReason: reason, dedupeKey: `${alert.dedupeKey}|resolved:${alert._id.toString()}` } },
    );
    if (result.modifiedCount !== 1) return false;
    this.emit({ type: 'alert.resolved', workspaceId: alert.workspaceId.toString(), alert: toPublic({ ...alert, resolvedAt: now, resolvedReason: reason }) });
    return true;
  }

  /** Usage alerts of months that are over. Safe to run on every instance: each alert is resolved once. */
  async resolvePastMonths(now = new Date(), workspaceId?: string): Promise<number> {
    const filter: Record<string, unknown> = { resolvedAt: null, month: { $lt: monthOf(now) }, type: { $in: MONTHLY_ALERT_TYPES } };
    if (workspaceId) filter.workspaceId = new Types.ObjectId(workspaceId);
    const open = await this.models.Alert.find(filter).limit(1000).lean<AlertDocument[]>();
    let resolved = 0;
    for (const alert of open) if (await this.resolveOne(alert, 'month_over', now)) resolved += 1;
    return resolved;
  }

  /** The agent changed: resolve its key alerts whose key was replaced, removed or works again, and limit alerts whose limit moved. */
  async resolveForAgent(agentId: string, now = new Date()): Promise<number> {
    if (!OBJECT_ID_PATTERN.test(agentId)) return 0;
    const open = await this.models.Alert.find({ agentId: new Types.ObjectId(agentId), resolvedAt: null }).lean<AlertDocument[]>();
    if (open.length === 0 || !this.models.Agent) return 0;
    const agent = (await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(agentId) }, { projection: { workspaceId: 1, llm: 1, limits: 1 } })) as AgentForAlerts | null;
    let resolved = 0;
    const month = monthOf(now);
    let rollup: { tokens?: number; costTotalMicros?: number; priceTotalMicros?: number } | null | undefined;
    for (const alert of open) {
      let reason: string | undefined;
      if (!agent) reason = 'agent_deleted';
      else if (KEY_ALERT_TYPES.includes(alert.type)) reason = keyAlertResolution(alert, agent);
      else if (LIMIT_ALERT_TYPES.includes(alert.type) && alert.month === month) {
        rollup ??= (await this.models.UsageMonthly.collection.findOne({ agentId: agent._id, month }, { projection: { tokens: 1, costTotalMicros: 1, priceTotalMicros: 1 } })) as typeof rollup;
        reason = limitAlertResolution(alert.type, agent, rollup ?? {});
      }
      if (reason && (await this.resolveOne(alert, reason, now))) resolved += 1;
    }
    return resolved;
  }

  async list(workspaceId: string, limit = 100): Promise<PublicAlert[]> {
    // A month that ended since the last sweep: its alerts are resolved before anyone reads them.
    await this.resolvePastMonths(new Date(), workspaceId).catch((error) => this.logger.warn({ err: error }, 'could not resolve past alerts'));
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

/** Key alerts carry the key's nonce in their incident (`type:nonce`): another nonce is another key. */
function keyAlertResolution(alert: AlertDocument, agent: AgentForAlerts): string | undefined {
  const incident = alert.dedupeKey.split('|')[2] ?? '';
  const nonce = incident.slice(incident.indexOf(':') + 1);
  if (agent.llm?.mode !== 'byok' || !agent.llm.sealedKey) return 'key_removed';
  if (agent.llm.sealedKey.nonce !== nonce) return 'key_replaced';
  if (agent.llm.keyStatus === 'valid') return 'key_valid';
  return undefined;
}

function limitAlertResolution(type: AlertType, agent: AgentForAlerts, rollup: { tokens?: number; costTotalMicros?: number; priceTotalMicros?: number }): string | undefined {
  const limits = agent.limits ?? {};
  const below = (used: number, limit: number) => used < limit * LIMIT_RESOLVED_BELOW;
  if (type === 'cap_reached') {
    if (agent.llm?.mode !== 'managed' || limits.monthlyTokenCap == null) return 'limit_removed';
    return below(rollup.tokens ?? 0, limits.monthlyTokenCap) ? 'limit_raised' : undefined;
  }
  if (type === 'overage_budget_reached') {
    if (agent.llm?.mode !== 'managed' || limits.monthlyOverageBudgetMicros == null) return 'limit_removed';
    return below(rollup.priceTotalMicros ?? 0, limits.monthlyOverageBudgetMicros) ? 'limit_raised' : undefined;
  }
  if (agent.llm?.mode !== 'byok' || limits.monthlyBudgetMicros == null) return 'limit_removed';
  return below(rollup.costTotalMicros ?? 0, limits.monthlyBudgetMicros) ? 'limit_raised' : undefined;
}
