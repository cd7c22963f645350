// The money around one agent call: the pre-call reservation, one meter event per attempt that produced tokens (the
// first settles the reservation), and the release or error count when the call ends.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import type { Logger } from '../server/logger';
import type { AttemptReport, RouteTarget } from '../server/llm/llm-router';
import { costMicros, monthOf, overagePriceMicros, overageTokensBetween, priceSnapshotFor } from '../server/metering/pricing';
import type { AnswerCost } from '../server/metering/meter.types';
import { applicableLimit, PlanLimitReachedError } from '../server/metering/limits.service';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, EndUserLimits, EndUserReservation, KeyHealth, MonthToDate, Reservation, UsageLimits, UsageMeter } from './agent-ports';
import { raiseLimitAlert } from './limit-alerts';
import type { ProviderOutages } from './provider-outages';
import type { MeterRouting } from '../server/metering/metering.models';
import type { RouteDecision } from '../server/llm/prompt-router';

/** How cost-aware routing (#14) shaped this call: the decision, the strong model's prices, degradation, fallback. */
export interface CallRouting {
  decision?: RouteDecision;
  strongPrice?: { inputUsdPerMillion: number; outputUsdPerMillion: number };
  degraded?: 'light_model';
  /** Set once the agent's own key failed and the owner's chosen plan answers (billed at its overage rate). */
  fallbackPlan?: Plan;
}

/** What one call's metering remembers between its attempts. */
/** The agent records (as loaded, often shared by many calls) whose BYOK key a call has already marked valid. */
const keyValidRecorded = new WeakMap<object, Promise<unknown>>();

/**
 * The agent's and its workspace's ids as text, made once per agent record (the /v1 key cache shares one record
 * across its calls): two fewer strings per call, each of which lived in the meter queue until its batch (#20).
 */
const idTexts = new WeakMap<object, { agentId: string; workspaceId: string }>();
function idTextsOf(agent: AgentDocument): { agentId: string; workspaceId: string } {
  let ids = idTexts.get(agent);
  if (!ids) {
    ids = { agentId: agent._id.toString(), workspaceId: agent.workspaceId.toString() };
    idTexts.set(agent, ids);
  }
  return ids;
}

export class CallMetering {
  private reservationSettled = false;
  private outputStarted = false;
  private unusedReleased: Promise<void> | undefined;
  /** What the attempts so far cost the customer (undefined while unknown: no month-to-date total for a managed plan). */
  private answerCost: AnswerCost | undefined;
  private answerCostUnknown = false;

  constructor(
    private readonly dependencies: { catalog: Catalog; meter: UsageMeter; limits: UsageLimits; keyHealth: KeyHealth; logger: Logger; monthToDate?: MonthToDate; endUserLimits?: EndUserLimits; outages?: ProviderOutages },
    private readonly call: {
      agent: AgentDocument;
      requestId: string;
      requestType: 'chat' | 'stream';
      plan: Plan | undefined;
      reservation: Reservation | undefined;
      endUser?: string;
      metadata?: Record<string, string>;
      /** The agent API key that made the call (activity log). */
      apiKeyId?: string;
      // A/B experiments (cache): the variant this call runs, on its meter events.
      experiment?: { id: string; variant: string };
      // The per-end-user cap's reservation (publish)
      endUserReservation?: EndUserReservation;
    },
    readonly route: CallRouting = {},
  ) {}
  private endUserReservationSettled = false;

  /** The agent's own key failed: the next attempts are the consented fallback plan's (#14). */
  useFallback(plan: Plan): void {
    this.route.fallbackPlan = plan;
  }

  /** The meter event's `routing`: the decision and, against the strong model's prices, what these tokens saved. */
  private meterRouting(inputTokens: number, outputTokens: number, snapshot: { inputUsdPerMillion: number; outputUsdPerMillion: number }): MeterRouting | undefined {
    const { decision, strongPrice } = this.route;
    if (!decision) return undefined;
    const routing: MeterRouting = { ...decision };
    if (strongPrice) {
      routing.strongPrice = strongPrice;
      const strongCost = costMicros(inputTokens, strongPrice.inputUsdPerMillion) + costMicros(outputTokens, strongPrice.outputUsdPerMillion);
      const cost = costMicros(inputTokens, snapshot.inputUsdPerMillion) + costMicros(outputTokens, snapshot.outputUsdPerMillion);
      routing.savedMicros = Math.max(0, strongCost - cost);
    }
    return routing;
  }

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
    const fallbackPlan = this.route.fallbackPlan;
    let cost: AnswerCost;
    if (fallbackPlan) {
      // A consented fallback (#14): every token at the plan's overage rate, no allowance.
      cost = { priceMicros: overagePriceMicros(tokens, fallbackPlan.overageUsdPerMillion), basis: 'overage', includedTokens: 0, overageTokens: tokens, fromAllowance: false };
    } else if (plan) {
      const before = this.dependencies.monthToDate?.take(idTextsOf(agent).agentId, monthOf(new Date()), tokens);
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
    return { reservation, targets: targets.map((target) => (target.maxTokens > allowed ? Object.assign({}, target, { maxTokens: allowed }) : target)) };
  }

  /** A stream opened and its output goes to the client: a failure after this still counts as a request. */
  markOutputStarted(): void {
    this.outputStarted = true;
  }

  /** The post-call hook, called by the router after every attempt. */
  readonly onAttempt = (report: AttemptReport): void => {
    const usage = report.usage;
    if (!usage || usage.inputTokens + usage.outputTokens <= 0) return;
    const { agent, requestId, requestType } = this.call;
    const fallbackPlan = this.route.fallbackPlan;
    const plan = fallbackPlan ?? this.call.plan;
    const reservation = !this.reservationSettled ? this.call.reservation : undefined;
    if (reservation) this.reservationSettled = true;
    const endUserReservation = !this.endUserReservationSettled ? this.call.endUserReservation : undefined;
    if (endUserReservation) this.endUserReservationSettled = true;
    const catalogSnapshot = priceSnapshotFor(this.dependencies.catalog, report.provider, report.model, plan);
    // A fallback is billed per token at the plan's overage rate, with no monthly fee and no included tokens.
    const priceSnapshot = fallbackPlan ? { ...catalogSnapshot, includedTokens: 0 } : catalogSnapshot;
    this.addCost(report, priceSnapshot);
    // The event keeps reserved only what the call used (released with its rollup, atomically); the rest of the worst
    // case goes back now, so the next call is not held to a reservation of an answer that has already ended.
    const kept = reservation && {
      tokens: Math.min(reservation.tokens, usage.inputTokens + usage.outputTokens),
      costMicros: Math.min(reservation.costMicros, costMicros(usage.inputTokens, priceSnapshot.inputUsdPerMillion) + costMicros(usage.outputTokens, priceSnapshot.outputUsdPerMillion)),
    };
    if (reservation && kept && (kept.tokens < reservation.tokens || kept.costMicros < reservation.costMicros)) {
      this.unusedReleased = this.dependencies.limits
        .release(Object.assign({}, reservation, { tokens: reservation.tokens - kept.tokens, costMicros: reservation.costMicros - kept.costMicros }))
        .catch((error) => this.dependencies.logger.warn({ err: error }, 'could not release the unused reservation'));
    }
    const routing = this.meterRouting(usage.inputTokens, usage.outputTokens, priceSnapshot);
    const ids = idTextsOf(agent);
    this.dependencies.meter.record({
      requestId: report.attempt === 1 ? requestId : `${requestId}:${report.attempt}`,
      agentId: ids.agentId,
      workspaceId: ids.workspaceId,
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
      // Cost-aware routing (#14)
      ...(routing ? { routing } : {}),
      ...(fallbackPlan ? { fallback: true } : {}),
      ...(this.route.degraded ? { degraded: this.route.degraded } : {}),
      ...(this.call.apiKeyId ? { apiKeyId: this.call.apiKeyId } : {}),
      // A/B experiments (cache)
      ...(this.call.experiment ? { experiment: this.call.experiment } : {}),
      ...(endUserReservation ? { endUserReservation: { tokens: endUserReservation.tokens } } : {}),
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
    if (this.call.endUserReservation && !this.endUserReservationSettled) {
      this.endUserReservationSettled = true;
      await this.dependencies.endUserLimits?.release(this.call.endUserReservation).catch((error) => this.dependencies.logger.warn({ err: error }, 'could not release end-user reservation'));
    }
    if (!failed) this.dependencies.outages?.recordSuccess(idTextsOf(agent).agentId);
    if (failed) {
      this.dependencies.meter.recordError({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), mode: agent.llm.mode, plan: agent.llm.plan ?? null, timestamp: new Date() });
    } else if (agent.llm.mode === 'byok' && agent.llm.keyStatus !== 'valid' && !this.route.fallbackPlan) {
      // Once per agent record: the calls of a new key's first burst share one (cached) record, and one write (#20).
      let recorded = keyValidRecorded.get(agent);
      if (!recorded) {
        recorded = this.dependencies.keyHealth.recordKeyStatus(agent._id.toString(), 'valid').catch(() => undefined);
        keyValidRecorded.set(agent, recorded);
      }
      await recorded;
    }
  }
}
