// The money around one agent call: the pre-call reservation, one meter event per attempt that produced tokens (the
// first settles the reservation), and the release or error count when the call ends.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import type { Logger } from '../server/logger';
import type { AttemptReport, RouteTarget } from '../server/llm/llm-router';
import { costMicros, monthOf, overagePriceMicros, overageTokensBetween, priceSnapshotFor } from '../server/metering/pricing';
import type { AnswerCost } from '../server/metering/meter.types';
import { applicableLimit, PlanLimitReachedError } from '../server/metering/limits.service';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, KeyHealth, MonthToDate, Reservation, UsageLimits, UsageMeter } from './agent-ports';
import { raiseLimitAlert } from './limit-alerts';

/** What one call's metering remembers between its attempts. */
export class CallMetering {
  private reservationSettled = false;
  private outputStarted = false;
  private unusedReleased: Promise<void> | undefined;
  /** What the attempts so far cost the customer (undefined while unknown: no month-to-date total for a managed plan). */
  private answerCost: AnswerCost | undefined;
  private answerCostUnknown = false;

  constructor(
    private readonly dependencies: { catalog: Catalog; meter: UsageMeter; limits: UsageLimits; keyHealth: KeyHealth; logger: Logger; monthToDate?: MonthToDate },
    private readonly call: {
      agent: AgentDocument;
      requestId: string;
      requestType: 'chat' | 'stream';
      plan: Plan | undefined;
      reservation: Reservation | undefined;
      endUser?: string;
      metadata?: Record<string, string>;
    },
  ) {}

  /** Before the call: a managed agent's month-to-date tokens are read once per process and month. */
  static prepareMonthToDate(monthToDate: MonthToDate | undefined, agent: AgentDocument): Promise<void> | undefined {
    if (!monthToDate || agent.llm.mode !== 'managed') return undefined;
    const agentId = agent._id.toString();
    const month = monthOf(new Date());
    // Known (every call after the first of the month): nothing to wait for.
    return monthToDate.isKnown(agentId, month) ? undefined : monthToDate.load(agentId, agent._id, month);
  }

  /** The call's price for the answer (usage.cost), once every attempt is in. */
  get cost(): AnswerCost | undefined {
    return this.answerCostUnknown ? undefined : this.answerCost;
  }

  private addCost(report: AttemptReport, snapshot: ReturnType<typeof priceSnapshotFor>): void {
    const usage = report.usage!;
    const tokens = usage.inputTokens + usage.outputTokens;
    const { agent, plan } = this.call;
    let cost: AnswerCost;
    if (plan) {
      const before = this.dependencies.monthToDate?.take(agent._id.toString(), monthOf(new Date()), tokens);
      if (before === undefined) {
        this.answerCostUnknown = true;
        return;
      }
      const overageTokens = overageTokensBetween(before, before + tokens, plan.includedTokens);
      cost = { priceMicros: overagePriceMicros(overageTokens, plan.overageUsdPerMillion), basis: 'overage', includedTokens: tokens - overageTokens, overageTokens, fromAllowance: overageTokens === 0 };
    } else {
      cost = {
        priceMicros: costMicros(usage.inputTokens, snapshot.inputUsdPerMillion) + costMicros(usage.outputTokens, snapshot.outputUsdPerMillion),
        basis: 'list_price',
        includedTokens: 0,
        overageTokens: 0,
        fromAllowance: false,
      };
    }
    const previous = this.answerCost;
    this.answerCost = previous
      ? {
          priceMicros: previous.priceMicros + cost.priceMicros,
          basis: cost.basis,
          includedTokens: previous.includedTokens + cost.includedTokens,
          overageTokens: previous.overageTokens + cost.overageTokens,
          fromAllowance: previous.fromAllowance && cost.fromAllowance,
        }
      : cost;
  }

  /**
   * The pre-call hook: reserves the worst case (prompt + the primary target's output budget) when a limit applies.
   * Near the limit the reservation allows less output: every target's max tokens is cut to it (limit-alerts.ts).
   */
  static async reserve(
    dependencies: { catalog: Catalog; limits: UsageLimits; alerts: AgentAlerts; logger: Logger },
    agent: AgentDocument,
    targets: RouteTarget[],
    plan: Plan | undefined,
    promptTokens: number,
  ): Promise<{ reservation: Reservation | undefined; targets: RouteTarget[] }> {
    if (!applicableLimit(agent)) return { reservation: undefined, targets };
    const primary = targets[0]!;
    const snapshot = priceSnapshotFor(dependencies.catalog, primary.provider, primary.model, plan);
    let reservation: Reservation | undefined;
    try {
      reservation = await dependencies.limits.reserve(agent, {
        promptTokens,
        outputTokens: primary.maxTokens,
        inputUsdPerMillion: snapshot.inputUsdPerMillion,
        outputUsdPerMillion: snapshot.outputUsdPerMillion,
        includedTokens: snapshot.includedTokens,
        overageUsdPerMillion: snapshot.overageUsdPerMillion,
      });
    } catch (error) {
      if (error instanceof PlanLimitReachedError) raiseLimitAlert(dependencies, agent, error.limit, 'refused');
      throw error;
    }
    if (!reservation?.clamped) return { reservation, targets };
    raiseLimitAlert(dependencies, agent, reservation.limit, 'clamped');
    const allowed = reservation.maxOutputTokens;
    return { reservation, targets: targets.map((target) => (target.maxTokens > allowed ? { ...target, maxTokens: allowed } : target)) };
  }

  /** A stream opened and its output goes to the client: a failure after this still counts as a request. */
  markOutputStarted(): void {
    this.outputStarted = true;
  }

  /** The post-call hook, called by the router after every attempt. */
  readonly onAttempt = (report: AttemptReport): void => {
    const usage = report.usage;
    if (!usage || usage.inputTokens + usage.outputTokens <= 0) return;
    const { agent, requestId, requestType, plan } = this.call;
    const reservation = !this.reservationSettled ? this.call.reservation : undefined;
    if (reservation) this.reservationSettled = true;
    const priceSnapshot = priceSnapshotFor(this.dependencies.catalog, report.provider, report.model, plan);
    this.addCost(report, priceSnapshot);
    // The event keeps reserved only what the call used (released with its rollup, atomically); the rest of the worst
    // case goes back now, so the next call is not held to a reservation of an answer that has already ended.
    const kept = reservation && {
      tokens: Math.min(reservation.tokens, usage.inputTokens + usage.outputTokens),
      costMicros: Math.min(reservation.costMicros, costMicros(usage.inputTokens, priceSnapshot.inputUsdPerMillion) + costMicros(usage.outputTokens, priceSnapshot.outputUsdPerMillion)),
    };
    if (reservation && kept && (kept.tokens < reservation.tokens || kept.costMicros < reservation.costMicros)) {
      this.unusedReleased = this.dependencies.limits
        .release({ ...reservation, tokens: reservation.tokens - kept.tokens, costMicros: reservation.costMicros - kept.costMicros })
        .catch((error) => this.dependencies.logger.warn({ err: error }, 'could not release the unused reservation'));
    }
    this.dependencies.meter.record({
      requestId: report.attempt === 1 ? requestId : `${requestId}:${report.attempt}`,
      agentId: agent._id.toString(),
      workspaceId: agent.workspaceId.toString(),
      timestamp: new Date(),
      provider: report.provider,
      model: report.model,
      tier: plan?.tier ?? null,
      mode: agent.llm.mode,
      plan: plan?.id ?? null,
      requestType: report.toolCalls ? 'tool' : requestType,
      status: report.status,
      usageSource: usage.source,
      tokensInput: usage.inputTokens,
      tokensOutput: usage.outputTokens,
      latencyMs: report.latencyMs,
      credential: report.credentialReference,
      sandbox: report.sandbox,
      attempt: report.attempt,
      priceSnapshot,
      countsAsRequest: report.status === 'ok' || (report.status !== 'error' && this.outputStarted),
      reservation: kept,
      budgetMicros: agent.llm.mode === 'byok' ? agent.limits?.monthlyBudgetMicros ?? null : undefined,
      ...(this.call.reservation?.clamped ? { degraded: 'clamped' as const } : {}),
      ...(this.call.endUser !== undefined ? { endUser: this.call.endUser } : {}),
      ...(this.call.metadata !== undefined ? { metadata: this.call.metadata } : {}),
    });
  };

  /** The call is over: give back an unused reservation; count a failure, or mark a BYOK key as working. */
  async finish(failed: boolean): Promise<void> {
    const { agent, reservation } = this.call;
    await this.unusedReleased;
    if (reservation && !this.reservationSettled) {
      this.reservationSettled = true;
      await this.dependencies.limits.release(reservation).catch((error) => this.dependencies.logger.warn({ err: error }, 'could not release reservation'));
    }
    if (failed) {
      this.dependencies.meter.recordError({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), mode: agent.llm.mode, plan: agent.llm.plan ?? null, timestamp: new Date() });
    } else if (agent.llm.mode === 'byok' && agent.llm.keyStatus !== 'valid') {
      await this.dependencies.keyHealth.recordKeyStatus(agent._id.toString(), 'valid').catch(() => undefined);
    }
  }
}
