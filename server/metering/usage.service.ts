// Usage read models: workspace month, agent month (daily, by model), CSV export — all from rollups except the export.
import { Types } from 'mongoose';
import type { Writable } from 'node:stream';
import type { stringify as csvStringify } from 'csv-stringify';
import type { Catalog } from '../catalog/catalog.service';
import { microsToUsd } from '../catalog/catalog.service';
import type { MeteredAgentCollection, MeteredAgentRecord, MeterEventDocument, MeteringModels, UsageMonthlyDocument } from './metering.models';
import { parseModelKey } from './model-key';
import { monthOf } from './pricing';
import { invalidInput, notFound } from '../errors/domain-error';
import { OBJECT_ID_PATTERN } from '../db/driver-errors';
import { routingSummaryOf, sumRoutingSummaries } from './routing-savings';
import type { RoutingSummary, UsageTotals } from '../../shared/usage-answers';
import type { Model } from 'mongoose';
import type { PlanChangeDocument } from './billing/plan-history';
import { monthBounds, type AgentMonthBill } from './billing/billing-rule';
import { billOne, billWorkspaceMonth, groupChanges, planTermsOf, type BilledAgentRecord, type BilledRollup } from './billing/workspace-bills';
import { adviseOnPlan } from './billing/plan-advisor';
import type { PlanAdvice } from '../../shared/plan-advice';

/**
 * A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR at the start: OWASP's CSV injection list) is
 * written with a leading apostrophe, so a model name like `=HYPERLINK(...)` shows as text.
 */
export function neutralizeFormula(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

export interface AgentUsageRow {
  agentId: string;
  name: string;
  mode: 'byok' | 'managed';
  plan: string | null;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  errors: number;
  includedTokens: number;
  percentOfIncluded: number;
  overageTokens: number;
  overageUsd: number;
  /** What the provider charges: BYOK agents only (a managed agent's provider cost is the platform's, never shown). */
  costUsd?: number;
  planFeeUsd: number;
  projectedTokens: number;
  projectedAmountUsd: number;
  budgetUsd: number | null;
  monthlyTokenCap: number | null;
  deleted: boolean;
  /** Cost-aware routing (#14): requests per tier, saved against always strong, escalations, degraded and fallback calls. */
  routing: RoutingSummary;
  /** Billing (docs/BILLING.md): the month cut into plan / BYOK / paused segments, each with its prorated fee. */
  planSegments: Array<{ kind: 'plan' | 'byok' | 'paused'; plan: string | null; from: string; to: string; feeUsd: number }>;
  /** What "time or use, whichever is more" adds to the segments' fees (already inside planFeeUsd). */
  allowanceMinimumUsd: number;
  /** planFeeUsd + overageUsd: what this agent's month costs (the current month: if nothing changes until its end). */
  amountDueUsd: number;
}

type RollupSummary = Pick<
  UsageMonthlyDocument,
  'agentId' | 'month' | 'mode' | 'plan' | 'tokensInput' | 'tokensOutput' | 'tokens' | 'requests' | 'errors' | 'costTotalMicros' | 'priceTotalMicros' | 'overageTokens' | 'routing'
>;

const SUMMARY_PROJECTION = {
  agentId: 1, month: 1, mode: 1, plan: 1, tokensInput: 1, tokensOutput: 1, tokens: 1, requests: 1, errors: 1, costTotalMicros: 1, priceTotalMicros: 1, overageTokens: 1,
  routing: 1,
  managedTokens: 1, byPlan: 1, byokTokens: 1, byokCostMicros: 1,
};

const AGENT_ROW_PROJECTION = {
  name: 1, 'llm.mode': 1, 'llm.plan': 1, 'limits.monthlyBudgetMicros': 1, 'limits.monthlyTokenCap': 1,
  status: 1, 'llm.provider': 1, 'llm.model': 1, createdAt: 1, updatedAt: 1,
};

const MONTH_PATTERN = /^\d{4}-(0[1-9]|1[0-2])$/;

export function parseMonth(value: unknown, now = new Date()): string {
  if (value === undefined || value === '') return monthOf(now);
  if (typeof value !== 'string' || !MONTH_PATTERN.test(value)) throw invalidInput('INVALID_MONTH', 'month must look like 2026-11 (UTC year and month).');
  return value;
}

/** Fraction of the month elapsed (UTC); 1 for past months. */
function elapsedFraction(month: string, now: Date): number {
  const current = monthOf(now);
  if (month < current) return 1;
  if (month > current) return 0;
  const [year, monthIndex] = month.split('-').map(Number) as [number, number];
  const start = Date.UTC(year, monthIndex - 1, 1);
  const end = Date.UTC(year, monthIndex, 1);
  return Math.min(1, Math.max((now.getTime() - start) / (end - start), 1 / (24 * 31)));
}

interface MonthContext {
  isCurrentMonth: boolean;
  /** Fraction of the month elapsed, for projections. */
  fraction: number;
}

export interface UsageServiceOptions {
  /**
   * How long a workspace's agent list (names, plans, limits) is reused by usage reads; 0 reads it every time. Local
   * agent changes drop it at once (`agentsChanged`); a change made on another instance shows after at most this long.
   */
  agentListCacheMs: number;
}

export class UsageService {
  private readonly agentLists = new Map<string, { agents: Promise<MeteredAgentRecord[]>; expiresAt: number }>();
  private readonly changeLists = new Map<string, { changes: Promise<PlanChangeDocument[]>; expiresAt: number }>();

  constructor(
    private readonly models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'> & { Agent: { collection: MeteredAgentCollection }; PlanChange?: Model<PlanChangeDocument> },
    private readonly catalog: Catalog,
    private readonly options: UsageServiceOptions = { agentListCacheMs: 0 },
  ) {}

  /** Called on every local agent change (create, update, LLM setting, key status, delete). */
  agentsChanged(): void {
    this.agentLists.clear();
    this.changeLists.clear();
  }

  /** Only what a row shows (not the sealed key, template or variables), straight from the driver. */
  private agentsOf(workspaceId: Types.ObjectId): Promise<MeteredAgentRecord[]> {
    const read = () => this.models.Agent.collection.find({ workspaceId }, { projection: AGENT_ROW_PROJECTION }).toArray() as unknown as Promise<MeteredAgentRecord[]>;
    if (this.options.agentListCacheMs <= 0) return read();
    const key = workspaceId.toHexString();
    const cached = this.agentLists.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.agents;
    const agents = read();
    if (this.agentLists.size >= 1000) this.agentLists.clear();
    this.agentLists.set(key, { agents, expiresAt: Date.now() + this.options.agentListCacheMs });
    agents.catch(() => this.agentLists.delete(key));
    return agents;
  }

  /** What every row of one month's answer shares, worked out once per request rather than per row. */
  private monthContext(month: string, now: Date): MonthContext {
    return { isCurrentMonth: month === monthOf(now), fraction: elapsedFraction(month, now) };
  }

  /**
   * The plan history of a workspace from a month's start on (what billing needs; empty without the billing models).
   * A workspace's is reused like its agent list (it changes only with an agent change, which drops both).
   */
  private changesOf(workspaceId: Types.ObjectId, month: string, agentId?: Types.ObjectId): Promise<PlanChangeDocument[]> {
    const model = this.models.PlanChange;
    if (!model) return Promise.resolve([]);
    const filter: Record<string, unknown> = { workspaceId, at: { $gte: monthBounds(month).start } };
    if (agentId) filter.agentId = agentId;
    const read = () => model.collection.find(filter).sort({ at: 1, _id: 1 }).toArray() as unknown as Promise<PlanChangeDocument[]>;
    if (agentId || this.options.agentListCacheMs <= 0) return read();
    const key = `${workspaceId.toHexString()}|${month}`;
    const cached = this.changeLists.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.changes;
    const changes = read();
    if (this.changeLists.size >= 1000) this.changeLists.clear();
    this.changeLists.set(key, { changes, expiresAt: Date.now() + this.options.agentListCacheMs });
    changes.catch(() => this.changeLists.delete(key));
    return changes;
  }

  private buildRow(agent: Pick<MeteredAgentRecord, '_id' | 'name' | 'llm' | 'limits'> | undefined, rollup: Partial<RollupSummary> | undefined, agentId: string, context: MonthContext, bill: AgentMonthBill): AgentUsageRow {
    const { isCurrentMonth, fraction } = context;
    // The current month shows the agent's current setting; past months the one the month ended on (or what was metered).
    const ended = bill.lastSetting;
    const mode = (isCurrentMonth && agent ? agent.llm.mode : ended?.mode ?? rollup?.mode ?? agent?.llm.mode ?? 'managed') as 'byok' | 'managed';
    const plan = mode === 'managed' ? ((isCurrentMonth && agent ? agent.llm.plan : ended?.plan ?? rollup?.plan ?? agent?.llm.plan) ?? null) : null;
    const planEntry = plan ? this.catalog.findPlan(plan) : undefined;
    const tokens = rollup?.tokens ?? 0;
    const managedTokens = (rollup as BilledRollup | undefined)?.managedTokens ?? 0;
    const includedTokens = mode === 'managed' ? planEntry?.includedTokens ?? 0 : 0;
    const overageMicros = bill.overageMicros;
    const planFeeMicros = bill.planFeesMicros;
    const projectedTokens = fraction > 0 ? Math.round(tokens / fraction) : tokens;
    const projectedManaged = fraction > 0 ? Math.round(managedTokens / fraction) : managedTokens;
    const projectedOverageMicros = planEntry && mode === 'managed' ? Math.max(0, projectedManaged - includedTokens) * planEntry.overageUsdPerMillion : 0;
    return {
      agentId,
      name: agent?.name ?? bill.name,
      mode,
      plan,
      tokensInput: rollup?.tokensInput ?? 0,
      tokensOutput: rollup?.tokensOutput ?? 0,
      tokens,
      requests: rollup?.requests ?? 0,
      errors: rollup?.errors ?? 0,
      includedTokens,
      percentOfIncluded: includedTokens > 0 ? Math.round((managedTokens / includedTokens) * 10_000) / 100 : 0,
      overageTokens: rollup?.overageTokens ?? 0,
      overageUsd: microsToUsd(overageMicros),
      ...(mode === 'byok' ? { costUsd: microsToUsd(rollup?.costTotalMicros ?? 0) } : {}),
      planFeeUsd: microsToUsd(planFeeMicros),
      projectedTokens,
      projectedAmountUsd: microsToUsd(planFeeMicros + Math.max(overageMicros, projectedOverageMicros)),
      budgetUsd: agent?.limits?.monthlyBudgetMicros != null ? microsToUsd(agent.limits.monthlyBudgetMicros) : null,
      monthlyTokenCap: agent?.limits?.monthlyTokenCap ?? null,
      deleted: !agent,
      routing: routingSummaryOf(rollup?.routing),
      planSegments: bill.segments.map((segment) => ({ kind: segment.kind, plan: segment.plan, from: segment.from.toISOString(), to: segment.to.toISOString(), feeUsd: microsToUsd(segment.feeMicros) })),
      allowanceMinimumUsd: microsToUsd(bill.allowanceMinimums.reduce((total, line) => total + line.topUpMicros, 0)),
      amountDueUsd: microsToUsd(planFeeMicros + overageMicros),
    };
  }

  private totalsOf(rows: AgentUsageRow[]): UsageTotals {
    // Sum in micro-dollars, convert once.
    const sum = (pick: (row: AgentUsageRow) => number) => rows.reduce((total, row) => total + pick(row), 0);
    const micros = (pick: (row: AgentUsageRow) => number) => rows.reduce((total, row) => total + Math.round(pick(row) * 1_000_000), 0);
    const planFeesMicros = micros((row) => row.planFeeUsd);
    const overageMicros = micros((row) => row.overageUsd);
    return {
      tokensInput: sum((row) => row.tokensInput),
      tokensOutput: sum((row) => row.tokensOutput),
      tokens: sum((row) => row.tokens),
      requests: sum((row) => row.requests),
      costUsd: microsToUsd(micros((row) => row.costUsd ?? 0)),
      planFeesUsd: microsToUsd(planFeesMicros),
      overageUsd: microsToUsd(overageMicros),
      amountDueUsd: microsToUsd(planFeesMicros + overageMicros),
      routing: sumRoutingSummaries(rows.map((row) => row.routing)),
    };
  }

  async workspaceUsage(workspaceId: string, month: string, now = new Date()) {
    const workspaceObjectId = new Types.ObjectId(workspaceId);
    const [rollups, agents, changes] = await Promise.all([
      this.models.UsageMonthly.collection.find({ workspaceId: workspaceObjectId, month }, { projection: SUMMARY_PROJECTION }).toArray() as Promise<Partial<RollupSummary>[]>,
      this.agentsOf(workspaceObjectId),
      this.changesOf(workspaceObjectId, month),
    ]);
    const rollupByAgent = new Map(rollups.map((rollup) => [rollup.agentId!.toString(), rollup]));
    const isCurrentOrFuture = month >= monthOf(now);
    const context = this.monthContext(month, now);
    // The agents with something to bill in the month (metered, or on a plan at some moment of it): the statement's.
    const bills = new Map(
      billWorkspaceMonth({ month, agents: agents as unknown as BilledAgentRecord[], rollups: rollups as BilledRollup[], changes, catalog: this.catalog }).map((bill) => [bill.agentId, bill]),
    );
    const changesByAgent = groupChanges(changes);
    const plans = planTermsOf(this.catalog);
    const rows: AgentUsageRow[] = [];
    for (const agent of agents) {
      const id = agent._id.toString();
      const rollup = rollupByAgent.get(id);
      const bill = bills.get(id);
      // Past months list the agents billed then; the current month lists every agent.
      if (!bill && !isCurrentOrFuture) continue;
      rows.push(this.buildRow(agent, rollup, id, context, bill ?? billOne(month, id, agent as unknown as BilledAgentRecord, rollup as BilledRollup, changesByAgent.get(id) ?? [], plans)));
      bills.delete(id);
    }
    for (const [agentId, bill] of bills) rows.push(this.buildRow(undefined, rollupByAgent.get(agentId), agentId, context, bill));
    return { month, workspaceId, totals: this.totalsOf(rows), agents: rows };
  }

  /** The rows of some agents plus the workspace totals (live dashboard updates). */
  async liveUpdate(workspaceId: string, month: string, agentIds: Set<string>) {
    const usage = await this.workspaceUsage(workspaceId, month);
    return { workspaceId, month, agents: usage.agents.filter((row) => agentIds.has(row.agentId)), totals: usage.totals };
  }

  async agentUsage(workspaceId: string, agentId: string, month: string, now = new Date()) {
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = (await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) })) as MeteredAgentRecord | null;
    if (!agent) throw notFound('Agent');
    const [rollup, changes] = await Promise.all([
      this.models.UsageMonthly.collection.findOne({ agentId: agent._id, month }) as Promise<UsageMonthlyDocument | null>,
      this.changesOf(agent.workspaceId, month, agent._id),
    ]);
    const bill = billOne(month, agentId, agent as unknown as BilledAgentRecord, (rollup ?? undefined) as BilledRollup | undefined, changes, planTermsOf(this.catalog));
    const row = this.buildRow(agent, rollup ?? undefined, agentId, this.monthContext(month, now), bill);
    const planAdvice: PlanAdvice | null = month === monthOf(now) ? adviseOnPlan({ month, now, agent: agent as unknown as BilledAgentRecord, rollup: (rollup ?? undefined) as BilledRollup | undefined, changes, catalog: this.catalog }) : null;
    const daily = Object.entries(rollup?.daily ?? {})
      .map(([day, counters]) => ({ date: `${month}-${day}`, tokensInput: counters.tokensInput ?? 0, tokensOutput: counters.tokensOutput ?? 0, requests: counters.requests ?? 0 }))
      .sort((a, b) => a.date.localeCompare(b.date));
    // A managed plan's models are the platform's business: the plan is the customer's unit (experience, #18).
    const byModel = row.mode === 'managed' ? [] : Object.entries(rollup?.byModel ?? {})
      .map(([key, counters]) => ({ ...parseModelKey(key), tokens: counters.tokens ?? 0, costUsd: microsToUsd(counters.costMicros ?? 0) }))
      .sort((a, b) => b.tokens - a.tokens);
    return { ...row, month, daily, byModel, planAdvice };
  }

  /** experience (#18): this month's tokens and cost of some agents, for their health (one indexed read). */
  async monthCounters(agentIds: string[], now = new Date()): Promise<Map<string, { tokens: number; costMicros: number }>> {
    const ids = agentIds.filter((id) => OBJECT_ID_PATTERN.test(id)).map((id) => new Types.ObjectId(id));
    const rollups = (await this.models.UsageMonthly.collection
      .find({ agentId: { $in: ids }, month: monthOf(now) }, { projection: { agentId: 1, tokens: 1, costTotalMicros: 1 } })
      .toArray()) as unknown as Array<Pick<UsageMonthlyDocument, 'agentId' | 'tokens' | 'costTotalMicros'>>;
    return new Map(rollups.map((rollup) => [rollup.agentId.toString(), { tokens: rollup.tokens ?? 0, costMicros: rollup.costTotalMicros ?? 0 }]));
  }

  /**
   * Streams one CSV row per meter event of the month (never builds the file in memory). Customer-facing: agent names,
   * and provider cost only for BYOK calls (the customer's own provider); never the platform's cost of managed calls,
   * credential ids or key pool names.
   */
  async exportCsv(workspaceId: string, month: string, output: Writable): Promise<void> {
    const columns = [
      'timestamp', 'requestId', 'agentId', 'agentName', 'provider', 'model', 'tier', 'mode', 'plan', 'requestType', 'status', 'usageSource',
      'tokensInput', 'tokensOutput', 'costInputUsd', 'costOutputUsd', 'costTotalUsd', 'priceTotalUsd', 'overageTokens', 'latencyMs', 'sandbox',
      // Cost-aware routing (#14)
      'routingTier', 'routingReason', 'routingSavedUsd', 'degraded', 'fallback',
    ];
    const workspaceObjectId = new Types.ObjectId(workspaceId);
    const names = new Map<string, string>();
    for (const change of await this.changesOf(workspaceObjectId, month)) names.set(change.agentId.toString(), change.agentName);
    for (const agent of await this.agentsOf(workspaceObjectId)) names.set(agent._id.toString(), agent.name);
    // Loaded when an export is asked for, not at start-up.
    const { stringify } = require('csv-stringify') as { stringify: typeof csvStringify };
    const csv = stringify({ header: true, columns, cast: { string: neutralizeFormula } });
    csv.pipe(output);
    const cursor = this.models.MeterEvent.collection.find({ workspaceId: workspaceObjectId, month }).sort({ timestamp: 1 }).batchSize(1000);
    for await (const event of cursor as AsyncIterable<MeterEventDocument>) {
      // A managed call's provider, model and tier stay out of the customer's file too (experience, #18).
      const byok = event.mode === 'byok';
      const agentId = event.agentId.toString();
      const row = [
        event.timestamp.toISOString(), event.requestId, agentId, names.get(agentId) ?? '(deleted agent)', byok ? event.provider : '', byok ? event.model : '', byok ? event.tier ?? '' : '', event.mode, event.plan ?? '',
        event.requestType, event.status, event.usageSource, event.tokensInput, event.tokensOutput,
        byok ? microsToUsd(event.costInputMicros) : '', byok ? microsToUsd(event.costOutputMicros) : '', byok ? microsToUsd(event.costTotalMicros) : '',
        microsToUsd(event.priceTotalMicros), event.overageTokens, event.latencyMs, event.sandbox,
        event.routing?.tier ?? '', event.routing?.reason ?? '', microsToUsd(event.routing?.savedMicros ?? 0), event.degraded ?? '', event.fallback === true,
      ];
      if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
    }
    csv.end();
    await new Promise((resolve) => output.once('finish', resolve));
  }
}
