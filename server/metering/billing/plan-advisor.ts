// The plan advisor: for a managed agent, which plan would be cheapest this month at the pace it is used, and by how
// much, in plain words. Until it has a few days of data it says so instead of guessing.
import type { Catalog } from '../../catalog/catalog.service';
import { microsToUsd, usdToMicros } from '../../catalog/catalog.service';
import { monthBounds } from './billing-rule';
import type { PlanChangeDocument } from './plan-history';
import type { BilledAgentRecord, BilledRollup } from './workspace-bills';
import type { PlanAdvice } from '../../../shared/plan-advice';

/** Days of use in the month before the advisor projects anything. */
export const ADVISOR_MIN_DAYS = 3;
const DAY_MS = 24 * 3600_000;

function formatUsd(micros: number): string {
  return `$${(micros / 1_000_000).toFixed(2)}`;
}

/** What a month on `plan` would cost for `tokens` managed tokens, under the billing rule (time or use; overage past the allowance). */
export function projectedPlanCostMicros(plan: { feeMicros: number; includedTokens: number; overageUsdPerMillion: number }, tokens: number, timeShare: number): number {
  const timeFee = Math.round(plan.feeMicros * timeShare);
  const useFee = plan.includedTokens > 0 ? Math.round((plan.feeMicros * Math.min(tokens, plan.includedTokens)) / plan.includedTokens) : 0;
  return Math.max(timeFee, useFee) + Math.max(0, tokens - plan.includedTokens) * plan.overageUsdPerMillion;
}

export function adviseOnPlan(input: { month: string; now: Date; agent: BilledAgentRecord; rollup: BilledRollup | undefined; changes: readonly PlanChangeDocument[]; catalog: Catalog }): PlanAdvice {
  const { start, end } = monthBounds(input.month);
  const currentPlan = input.agent.llm.mode === 'managed' ? input.agent.llm.plan ?? null : null;
  const base = { currentPlan, bestPlan: null, savingsUsd: 0, projectedTokens: null, plans: [] as PlanAdvice['plans'] };
  if (!currentPlan) return { ...base, status: 'not_managed', daysOfData: 0, message: 'This agent uses your own provider key, so there is no plan to compare.' };
  // Data since the agent existed in the month.
  const observedFrom = Math.max(start.getTime(), input.agent.createdAt?.getTime() ?? start.getTime());
  const observedMs = Math.max(0, Math.min(input.now.getTime(), end.getTime()) - observedFrom);
  const daysOfData = Math.floor((observedMs / DAY_MS) * 10) / 10;
  if (observedMs < ADVISOR_MIN_DAYS * DAY_MS) {
    const daysLeft = Math.ceil(ADVISOR_MIN_DAYS - observedMs / DAY_MS);
    return { ...base, status: 'not_enough_data', daysOfData, message: `Not enough data yet. After ${ADVISOR_MIN_DAYS} days of use we can tell you which plan is cheapest (check back in ${daysLeft} day${daysLeft === 1 ? '' : 's'}).` };
  }
  const managedTokens = input.rollup?.managedTokens ?? 0;
  const remainingShare = (end.getTime() - observedFrom) / (end.getTime() - start.getTime());
  const projectedTokens = Math.round((managedTokens * (end.getTime() - observedFrom)) / observedMs);
  const plans = input.catalog.plans.map((plan) => ({
    plan: plan.id,
    name: plan.name,
    micros: projectedPlanCostMicros({ feeMicros: usdToMicros(plan.priceUsd), includedTokens: plan.includedTokens, overageUsdPerMillion: plan.overageUsdPerMillion }, projectedTokens, remainingShare),
  }));
  const current = plans.find((entry) => entry.plan === currentPlan);
  const best = [...plans].sort((a, b) => a.micros - b.micros)[0];
  const listed = plans.map((entry) => ({ plan: entry.plan, name: entry.name, projectedCostUsd: microsToUsd(entry.micros) }));
  if (!current || !best) return { ...base, status: 'cheapest_already', daysOfData, projectedTokens, plans: listed, message: 'No plan comparison is available.' };
  const savings = current.micros - best.micros;
  if (best.plan === current.plan || savings <= 0) {
    const runnerUp = [...plans].filter((entry) => entry.plan !== current.plan).sort((a, b) => a.micros - b.micros)[0];
    const extra = runnerUp ? ` The next cheapest, ${runnerUp.name}, would cost ${formatUsd(runnerUp.micros - current.micros)} more.` : '';
    return { ...base, status: 'cheapest_already', bestPlan: current.plan, daysOfData, projectedTokens, plans: listed, message: `${current.name} is already the cheapest plan for how this agent is used (about ${formatUsd(current.micros)} this month).${extra}` };
  }
  return {
    ...base,
    status: 'cheaper_plan',
    bestPlan: best.plan,
    savingsUsd: microsToUsd(savings),
    daysOfData,
    projectedTokens,
    plans: listed,
    message: `At this pace ${best.name} would cost you ${formatUsd(savings)} less this month than ${current.name} (${formatUsd(best.micros)} instead of ${formatUsd(current.micros)}).`,
  };
}
