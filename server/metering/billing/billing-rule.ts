// The one billing rule (docs/BILLING.md), as arithmetic on integer micro-dollars: no I/O, no clock.
//   1. A plan's fee is prorated by time on each managed, active segment of the month (BYOK and paused time are free).
//   2. "Time or use, whichever is more": a plan's fees for the month are at least its fee × the share of its allowance
//      used on it, so using a plan's allowance and switching away the same day still pays for that allowance.
//   3. Overage is what the meter events were priced at when they were written (their price snapshots); never re-priced.
// Amount due = plan-fee segments + allowance minimums + Σ meter events' prices.
import { billedPlanOf, type BillingSetting, type PlanChangeKind } from './plan-history';

export interface PlanTerms {
  id: string;
  name: string;
  feeMicros: number;
  includedTokens: number;
  overageUsdPerMillion: number;
}

export interface PlanUsageCounters {
  tokens?: number;
  overageTokens?: number;
  priceMicros?: number;
}

/** What the agent-month rollup says (server/metering: usage_monthly). */
export interface AgentMonthUsage {
  tokens: number;
  managedTokens: number;
  overageTokens: number;
  priceTotalMicros: number;
  byPlan: Record<string, PlanUsageCounters>;
  byokTokens: number;
  byokCostMicros: number;
}

export const EMPTY_USAGE: AgentMonthUsage = { tokens: 0, managedTokens: 0, overageTokens: 0, priceTotalMicros: 0, byPlan: {}, byokTokens: 0, byokCostMicros: 0 };

export interface ChangePoint {
  at: Date;
  kind: PlanChangeKind;
  from: BillingSetting | null;
  to: BillingSetting | null;
}

export interface AgentMonthInput {
  month: string;
  agentId: string;
  name: string;
  /** The live record, when the agent still exists (legacy agents without history, and a missed history write). */
  current?: { setting: BillingSetting; createdAt: Date; updatedAt: Date } | null;
  /** The agent's plan history from the month's start on (or all of it), oldest first. */
  changes: ChangePoint[];
  usage: AgentMonthUsage;
  plans: (id: string) => PlanTerms | undefined;
}

export interface BillSegment {
  kind: 'plan' | 'byok' | 'paused';
  plan: string | null;
  planName: string | null;
  from: Date;
  to: Date;
  feeMicros: number;
}

export interface AllowanceMinimum {
  plan: string;
  planName: string;
  includedUsedTokens: number;
  includedTokens: number;
  /** fee × includedUsed / included */
  minimumMicros: number;
  segmentFeesMicros: number;
  /** What the minimum adds over the segments' fees (> 0 only when use outran time). */
  topUpMicros: number;
}

export interface PlanUsageLine {
  plan: string;
  planName: string;
  tokens: number;
  includedUsedTokens: number;
  overageTokens: number;
  overageMicros: number;
  overageUsdPerMillion: number;
}

export interface AgentMonthBill {
  agentId: string;
  name: string;
  month: string;
  segments: BillSegment[];
  allowanceMinimums: AllowanceMinimum[];
  planUsage: PlanUsageLine[];
  byok: { tokens: number; providerCostMicros: number };
  /** segments + allowance minimums */
  planFeesMicros: number;
  /** Σ meter events' prices */
  overageMicros: number;
  amountDueMicros: number;
  /** The setting the month ends on (null: the agent did not exist at its end). */
  lastSetting: BillingSetting | null;
}

const boundsCache = new Map<string, Readonly<{ start: Date; end: Date }>>();

/** The month's [start, end) (shared, read-only Dates: billing asks for them per agent and per segment). */
export function monthBounds(month: string): Readonly<{ start: Date; end: Date }> {
  let bounds = boundsCache.get(month);
  if (!bounds) {
    const [year, monthNumber] = month.split('-').map(Number) as [number, number];
    bounds = Object.freeze({ start: new Date(Date.UTC(year, monthNumber - 1, 1)), end: new Date(Date.UTC(year, monthNumber, 1)) });
    if (boundsCache.size > 500) boundsCache.clear();
    boundsCache.set(month, bounds);
  }
  return bounds;
}

export function nextMonth(month: string): string {
  return monthBounds(month).end.toISOString().slice(0, 7);
}

export function previousMonth(month: string): string {
  const { start } = monthBounds(month);
  return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

/** round-half-up(fee × offset / length) in exact integer arithmetic (fee × milliseconds passes 2^53). */
function feeShare(feeMicros: number, offsetMs: number, lengthMs: number): number {
  const numerator = BigInt(feeMicros) * BigInt(offsetMs) * 2n + BigInt(lengthMs);
  return Number(numerator / (BigInt(lengthMs) * 2n));
}

/**
 * The fee of [from, to) on a plan: the difference of cumulative shares, so the segments of one plan that tile the
 * month add up to its fee exactly.
 */
export function segmentFee(feeMicros: number, month: string, from: Date, to: Date): number {
  const { start, end } = monthBounds(month);
  const length = end.getTime() - start.getTime();
  return feeShare(feeMicros, to.getTime() - start.getTime(), length) - feeShare(feeMicros, from.getTime() - start.getTime(), length);
}

function sameBilling(a: BillingSetting | null, b: BillingSetting | null): boolean {
  if (!a || !b) return a === b;
  return billedPlanOf(a) === billedPlanOf(b) && a.mode === b.mode && a.status === b.status;
}

function segmentKind(setting: BillingSetting): BillSegment['kind'] {
  if (billedPlanOf(setting)) return 'plan';
  return setting.status === 'paused' ? 'paused' : 'byok';
}

/**
 * The agent's setting over the month: [from, to) pieces with the setting in force (null: the agent did not exist).
 * `changes` needs only the changes from the month's start on (earlier ones are used when given): the setting at the
 * start is the `from` of the first change after it, or, with none since, the live record's setting.
 */
export function settingTimeline(input: Pick<AgentMonthInput, 'month' | 'current' | 'changes'>): Array<{ from: Date; to: Date; setting: BillingSetting | null }> {
  const { start, end } = monthBounds(input.month);
  const changes = input.changes;
  let state: BillingSetting | null;
  const points: Array<{ at: Date; setting: BillingSetting | null }> = [];
  const before = changes.filter((change) => change.at.getTime() <= start.getTime());
  const since = changes.filter((change) => change.at.getTime() > start.getTime());
  const within = since.filter((change) => change.at.getTime() < end.getTime());
  if (before.length > 0) state = before[before.length - 1]!.to;
  else if (since.length > 0 && since[0]!.kind === 'created') state = null;
  else {
    // The setting before the first later change (an agent from before plan history, or history read from the month's
    // start), or with no change since, the setting it has now; from its creation if that is inside the month.
    state = since.length > 0 ? since[0]!.from : input.current?.setting ?? null;
    const createdAt = input.current?.createdAt;
    if (state && createdAt && createdAt.getTime() > start.getTime()) {
      points.push({ at: createdAt, setting: state });
      state = null;
    }
  }
  for (const change of within) points.push({ at: change.at, setting: change.to });
  // A history write that failed after the agent changed: the live record wins from its last update.
  const lastRecorded = changes.length > 0 ? changes[changes.length - 1]!.to : undefined;
  if (input.current && lastRecorded !== undefined && !sameBilling(lastRecorded, input.current.setting)) {
    const at = new Date(Math.max(input.current.updatedAt.getTime(), start.getTime()));
    if (at.getTime() < end.getTime()) points.push({ at, setting: input.current.setting });
  }
  const pieces: Array<{ from: Date; to: Date; setting: BillingSetting | null }> = [];
  let cursor = start;
  for (const point of points) {
    const at = point.at.getTime() < cursor.getTime() ? cursor : point.at;
    if (at.getTime() > cursor.getTime()) pieces.push({ from: cursor, to: at, setting: state });
    cursor = at;
    state = point.setting;
  }
  if (end.getTime() > cursor.getTime()) pieces.push({ from: cursor, to: end, setting: state });
  // Merge neighbours that bill the same.
  const merged: typeof pieces = [];
  for (const piece of pieces) {
    const previous = merged[merged.length - 1];
    if (previous && sameBilling(previous.setting, piece.setting)) {
      previous.to = piece.to;
      previous.setting = piece.setting;
    } else merged.push({ ...piece });
  }
  return merged;
}

export function billAgentMonth(input: AgentMonthInput): AgentMonthBill {
  const timeline = settingTimeline(input);
  const segments: BillSegment[] = [];
  for (const piece of timeline) {
    if (!piece.setting) continue;
    const kind = segmentKind(piece.setting);
    const plan = kind === 'plan' ? billedPlanOf(piece.setting) : null;
    const terms = plan ? input.plans(plan) : undefined;
    segments.push({
      kind,
      plan,
      planName: terms?.name ?? plan,
      from: piece.from,
      to: piece.to,
      feeMicros: terms ? segmentFee(terms.feeMicros, input.month, piece.from, piece.to) : 0,
    });
  }

  const planIds = new Set<string>([...segments.filter((segment) => segment.plan).map((segment) => segment.plan!), ...Object.keys(input.usage.byPlan)]);
  const allowanceMinimums: AllowanceMinimum[] = [];
  const planUsage: PlanUsageLine[] = [];
  for (const plan of [...planIds].sort()) {
    const terms = input.plans(plan);
    const counters = input.usage.byPlan[plan] ?? {};
    const tokens = counters.tokens ?? 0;
    const overageTokens = counters.overageTokens ?? 0;
    const includedUsedTokens = Math.max(0, tokens - overageTokens);
    const planName = terms?.name ?? plan;
    if (tokens > 0 || overageTokens > 0) {
      planUsage.push({ plan, planName, tokens, includedUsedTokens, overageTokens, overageMicros: counters.priceMicros ?? 0, overageUsdPerMillion: terms?.overageUsdPerMillion ?? 0 });
    }
    if (!terms || terms.includedTokens <= 0 || includedUsedTokens <= 0) continue;
    const used = Math.min(includedUsedTokens, terms.includedTokens);
    const minimumMicros = Number((BigInt(terms.feeMicros) * BigInt(used) * 2n + BigInt(terms.includedTokens)) / (BigInt(terms.includedTokens) * 2n));
    const segmentFeesMicros = segments.filter((segment) => segment.plan === plan).reduce((total, segment) => total + segment.feeMicros, 0);
    const topUpMicros = Math.max(0, minimumMicros - segmentFeesMicros);
    if (topUpMicros > 0) allowanceMinimums.push({ plan, planName, includedUsedTokens: used, includedTokens: terms.includedTokens, minimumMicros, segmentFeesMicros, topUpMicros });
  }
  const planFeesMicros = segments.reduce((total, segment) => total + segment.feeMicros, 0) + allowanceMinimums.reduce((total, line) => total + line.topUpMicros, 0);
  const overageMicros = input.usage.priceTotalMicros;
  return {
    agentId: input.agentId,
    name: input.name,
    month: input.month,
    segments,
    allowanceMinimums,
    planUsage,
    byok: { tokens: input.usage.byokTokens, providerCostMicros: input.usage.byokCostMicros },
    planFeesMicros,
    overageMicros,
    amountDueMicros: planFeesMicros + overageMicros,
    lastSetting: timeline.length > 0 ? timeline[timeline.length - 1]!.setting : null,
  };
}
