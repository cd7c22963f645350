// Usage read models: workspace month, agent month (daily, by model), CSV export — all from rollups except the export.
import { Types } from 'mongoose';
import type { Writable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Catalog } from '../catalog/catalog.service';
import { microsToUsd } from '../catalog/catalog.service';
import type { MeteredAgentCollection, MeteredAgentRecord, MeterEventDocument, MeteringModels, UsageMonthlyDocument } from './metering.models';
import { parseModelKey } from './model-key';
import { monthOf } from './pricing';
import { invalidInput, notFound } from '../errors/domain-error';
import { OBJECT_ID_PATTERN } from '../db/driver-errors';
import { routingSummaryOf, sumRoutingSummaries, type RoutingSummary } from './routing-savings';

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
  costUsd: number;
  planFeeUsd: number;
  projectedTokens: number;
  projectedAmountUsd: number;
  budgetUsd: number | null;
  monthlyTokenCap: number | null;
  deleted: boolean;
  /** Cost-aware routing (#14): requests per tier, saved against always strong, escalations, degraded and fallback calls. */
  routing: RoutingSummary;
}

export interface UsageTotals {
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  costUsd: number;
  planFeesUsd: number;
  overageUsd: number;
  amountDueUsd: number;
  routing: RoutingSummary;
}

type RollupSummary = Pick<
  UsageMonthlyDocument,
  'agentId' | 'month' | 'mode' | 'plan' | 'tokensInput' | 'tokensOutput' | 'tokens' | 'requests' | 'errors' | 'costTotalMicros' | 'priceTotalMicros' | 'overageTokens' | 'routing'
>;

const SUMMARY_PROJECTION = {
  agentId: 1, month: 1, mode: 1, plan: 1, tokensInput: 1, tokensOutput: 1, tokens: 1, requests: 1, errors: 1, costTotalMicros: 1, priceTotalMicros: 1, overageTokens: 1,
  routing: 1,
};

const AGENT_ROW_PROJECTION = { name: 1, 'llm.mode': 1, 'llm.plan': 1, 'limits.monthlyBudgetMicros': 1, 'limits.monthlyTokenCap': 1 };

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

  constructor(
    private readonly models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'> & { Agent: { collection: MeteredAgentCollection } },
    private readonly catalog: Catalog,
    private readonly options: UsageServiceOptions = { agentListCacheMs: 0 },
  ) {}

  /** Called on every local agent change (create, update, LLM setting, key status, delete). */
  agentsChanged(): void {
    this.agentLists.clear();
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

  private buildRow(agent: Pick<MeteredAgentRecord, '_id' | 'name' | 'llm' | 'limits'> | undefined, rollup: Partial<RollupSummary> | undefined, agentId: string, context: MonthContext): AgentUsageRow {
    const { isCurrentMonth, fraction } = context;
    // The current month bills the agent's current setting; past months what was metered.
    const mode = (isCurrentMonth && agent ? agent.llm.mode : rollup?.mode ?? agent?.llm.mode ?? 'managed') as 'byok' | 'managed';
    const plan = mode === 'managed' ? ((isCurrentMonth && agent ? agent.llm.plan : rollup?.plan ?? agent?.llm.plan) ?? null) : null;
    const planEntry = plan ? this.catalog.findPlan(plan) : undefined;
    const tokens = rollup?.tokens ?? 0;
    const includedTokens = mode === 'managed' ? planEntry?.includedTokens ?? 0 : 0;
    const overageMicros = rollup?.priceTotalMicros ?? 0;
    const planFeeMicros = mode === 'managed' && planEntry ? Math.round(planEntry.priceUsd * 1_000_000) : 0;
    const projectedTokens = fraction > 0 ? Math.round(tokens / fraction) : tokens;
    const projectedOverageMicros = planEntry && mode === 'managed' ? Math.max(0, projectedTokens - includedTokens) * planEntry.overageUsdPerMillion : 0;
    return {
      agentId,
      name: agent?.name ?? '(deleted agent)',
      mode,
      plan,
      tokensInput: rollup?.tokensInput ?? 0,
      tokensOutput: rollup?.tokensOutput ?? 0,
      tokens,
      requests: rollup?.requests ?? 0,
      errors: rollup?.errors ?? 0,
      includedTokens,
      percentOfIncluded: includedTokens > 0 ? Math.round((tokens / includedTokens) * 10_000) / 100 : 0,
      overageTokens: rollup?.overageTokens ?? 0,
      overageUsd: microsToUsd(overageMicros),
      costUsd: microsToUsd(rollup?.costTotalMicros ?? 0),
      planFeeUsd: microsToUsd(planFeeMicros),
      projectedTokens,
      projectedAmountUsd: microsToUsd(planFeeMicros + Math.max(overageMicros, projectedOverageMicros)),
      budgetUsd: agent?.limits?.monthlyBudgetMicros != null ? microsToUsd(agent.limits.monthlyBudgetMicros) : null,
      monthlyTokenCap: agent?.limits?.monthlyTokenCap ?? null,
      deleted: !agent,
      routing: routingSummaryOf(rollup?.routing),
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
      costUsd: microsToUsd(micros((row) => row.costUsd)),
      planFeesUsd: microsToUsd(planFeesMicros),
      overageUsd: microsToUsd(overageMicros),
      amountDueUsd: microsToUsd(planFeesMicros + overageMicros),
      routing: sumRoutingSummaries(rows.map((row) => row.routing)),
    };
  }

  async workspaceUsage(workspaceId: string, month: string, now = new Date()) {
    const workspaceObjectId = new Types.ObjectId(workspaceId);
    const [rollups, agents] = await Promise.all([
      this.models.UsageMonthly.collection.find({ workspaceId: workspaceObjectId, month }, { projection: SUMMARY_PROJECTION }).toArray() as Promise<Partial<RollupSummary>[]>,
      this.agentsOf(workspaceObjectId),
    ]);
    const rollupByAgent = new Map(rollups.map((rollup) => [rollup.agentId!.toString(), rollup]));
    const isCurrentOrFuture = month >= monthOf(now);
    const context = this.monthContext(month, now);
    const rows: AgentUsageRow[] = [];
    for (const agent of agents) {
      const id = agent._id.toString();
      const rollup = rollupByAgent.get(id);
      // Past months list only the agents that were metered then; the current month lists every agent.
      if (!rollup && !isCurrentOrFuture) continue;
      rows.push(this.buildRow(agent, rollup, id, context));
      rollupByAgent.delete(id);
    }
    for (const [agentId, rollup] of rollupByAgent) rows.push(this.buildRow(undefined, rollup, agentId, context));
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
    const rollup = (await this.models.UsageMonthly.collection.findOne({ agentId: agent._id, month })) as UsageMonthlyDocument | null;
    const row = this.buildRow(agent, rollup ?? undefined, agentId, this.monthContext(month, now));
    const daily = Object.entries(rollup?.daily ?? {})
      .map(([day, counters]) => ({ date: `${month}-${day}`, tokensInput: counters.tokensInput ?? 0, tokensOutput: counters.tokensOutput ?? 0, requests: counters.requests ?? 0 }))
      .sort((a, b) => a.date.localeCompare(b.date));
    const byModel = Object.entries(rollup?.byModel ?? {})
      .map(([key, counters]) => ({ ...parseModelKey(key), tokens: counters.tokens ?? 0, costUsd: microsToUsd(counters.costMicros ?? 0) }))
      .sort((a, b) => b.tokens - a.tokens);
    return { ...row, month, daily, byModel };
  }

  /** Streams one CSV row per meter event of the month (never builds the file in memory). */
  async exportCsv(workspaceId: string, month: string, output: Writable): Promise<void> {
    const columns = [
      'timestamp', 'requestId', 'agentId', 'provider', 'model', 'tier', 'mode', 'requestType', 'status', 'usageSource',
      'tokensInput', 'tokensOutput', 'costInputUsd', 'costOutputUsd', 'costTotalUsd', 'priceTotalUsd', 'overageTokens', 'latencyMs', 'credential', 'sandbox',
      // Cost-aware routing (#14)
      'routingTier', 'routingReason', 'routingSavedUsd', 'degraded', 'fallback',
    ];
    const csv = stringify({ header: true, columns, cast: { string: neutralizeFormula } });
    csv.pipe(output);
    const cursor = this.models.MeterEvent.collection.find({ workspaceId: new Types.ObjectId(workspaceId), month }).sort({ timestamp: 1 }).batchSize(1000);
    for await (const event of cursor as AsyncIterable<MeterEventDocument>) {
      const row = [
        event.timestamp.toISOString(), event.requestId, event.agentId.toString(), event.provider, event.model, event.tier ?? '', event.mode, event.requestType,
        event.status, event.usageSource, event.tokensInput, event.tokensOutput, microsToUsd(event.costInputMicros), microsToUsd(event.costOutputMicros),
        microsToUsd(event.costTotalMicros), microsToUsd(event.priceTotalMicros), event.overageTokens, event.latencyMs, event.credential, event.sandbox,
        event.routing?.tier ?? '', event.routing?.reason ?? '', microsToUsd(event.routing?.savedMicros ?? 0), event.degraded ?? '', event.fallback === true,
      ];
      if (!csv.write(row)) await new Promise((resolve) => csv.once('drain', resolve));
    }
    csv.end();
    await new Promise((resolve) => output.once('finish', resolve));
  }
}
