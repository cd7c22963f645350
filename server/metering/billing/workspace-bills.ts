// One workspace-month's bills, agent by agent: the agents' live records, their rollups and their plan history put
// through the billing rule. The usage API, the dashboard, the statements and the plan advisor all bill through here.
import type { Types } from 'mongoose';
import type { Catalog } from '../../catalog/catalog.service';
import { usdToMicros } from '../../catalog/catalog.service';
import type { BillingSetting, PlanChangeDocument } from './plan-history';
import { billAgentMonth, EMPTY_USAGE, monthBounds, type AgentMonthBill, type AgentMonthUsage, type ChangePoint, type PlanTerms } from './billing-rule';

/** The agent fields billing reads. */
export interface BilledAgentRecord {
  _id: Types.ObjectId;
  name: string;
  status?: 'active' | 'paused';
  llm: { mode: 'managed' | 'byok'; plan?: string | null; provider?: string | null; model?: string | null };
  createdAt?: Date;
  updatedAt?: Date;
}

/** The rollup fields billing reads. */
export interface BilledRollup {
  agentId?: Types.ObjectId;
  tokens?: number;
  managedTokens?: number;
  overageTokens?: number;
  priceTotalMicros?: number;
  byPlan?: AgentMonthUsage['byPlan'];
  byokTokens?: number;
  byokCostMicros?: number;
}

export const BILLED_AGENT_PROJECTION = { name: 1, status: 1, 'llm.mode': 1, 'llm.plan': 1, 'llm.provider': 1, 'llm.model': 1, createdAt: 1, updatedAt: 1 };
export const BILLED_ROLLUP_PROJECTION = { agentId: 1, tokens: 1, managedTokens: 1, overageTokens: 1, priceTotalMicros: 1, byPlan: 1, byokTokens: 1, byokCostMicros: 1 };

export function planTermsOf(catalog: Catalog): (id: string) => PlanTerms | undefined {
  return (id) => {
    const plan = catalog.findPlan(id);
    return plan ? { id: plan.id, name: plan.name, feeMicros: usdToMicros(plan.priceUsd), includedTokens: plan.includedTokens, overageUsdPerMillion: plan.overageUsdPerMillion } : undefined;
  };
}

export function settingOfAgent(agent: BilledAgentRecord): BillingSetting {
  const byok = agent.llm.mode === 'byok';
  return { mode: agent.llm.mode, plan: byok ? null : agent.llm.plan ?? null, status: agent.status ?? 'active', provider: byok ? agent.llm.provider ?? null : null, model: byok ? agent.llm.model ?? null : null };
}

export function usageOfRollup(rollup: BilledRollup | undefined): AgentMonthUsage {
  if (!rollup) return EMPTY_USAGE;
  return {
    tokens: rollup.tokens ?? 0,
    managedTokens: rollup.managedTokens ?? 0,
    overageTokens: rollup.overageTokens ?? 0,
    priceTotalMicros: rollup.priceTotalMicros ?? 0,
    byPlan: rollup.byPlan ?? {},
    byokTokens: rollup.byokTokens ?? 0,
    byokCostMicros: rollup.byokCostMicros ?? 0,
  };
}

export function groupChanges(changes: readonly PlanChangeDocument[]): Map<string, PlanChangeDocument[]> {
  const byAgent = new Map<string, PlanChangeDocument[]>();
  for (const change of changes) {
    const key = change.agentId.toString();
    const list = byAgent.get(key) ?? [];
    list.push(change);
    byAgent.set(key, list);
  }
  return byAgent;
}

/** One agent-month's bill. `agent` undefined: deleted (its name and settings come from its history). */
export function billOne(month: string, agentId: string, agent: BilledAgentRecord | undefined, rollup: BilledRollup | undefined, changes: readonly PlanChangeDocument[], plans: (id: string) => PlanTerms | undefined): AgentMonthBill {
  const points: ChangePoint[] = changes.map((change) => ({ at: change.at, kind: change.kind, from: change.from, to: change.to }));
  const name = agent?.name ?? changes[changes.length - 1]?.agentName ?? '(deleted agent)';
  return billAgentMonth({
    month,
    agentId,
    name,
    current: agent ? { setting: settingOfAgent(agent), createdAt: agent.createdAt ?? monthBounds(month).start, updatedAt: agent.updatedAt ?? agent.createdAt ?? monthBounds(month).start } : null,
    changes: points,
    usage: usageOfRollup(rollup),
    plans,
  });
}

/**
 * Every agent that has anything to bill in the month: metered in it, or existing at some moment of it. Agents created
 * after the month, and deleted agents whose history ends before it, are left out.
 */
export function billWorkspaceMonth(input: {
  month: string;
  agents: readonly BilledAgentRecord[];
  rollups: readonly BilledRollup[];
  changes: readonly PlanChangeDocument[];
  catalog: Catalog;
}): AgentMonthBill[] {
  const plans = planTermsOf(input.catalog);
  const { start, end } = monthBounds(input.month);
  const changesByAgent = groupChanges(input.changes);
  const rollupByAgent = new Map(input.rollups.filter((rollup) => rollup.agentId).map((rollup) => [rollup.agentId!.toString(), rollup]));
  const agentById = new Map(input.agents.map((agent) => [agent._id.toString(), agent]));
  const ids = new Set<string>([...agentById.keys(), ...rollupByAgent.keys(), ...changesByAgent.keys()]);
  const bills: AgentMonthBill[] = [];
  for (const id of ids) {
    const agent = agentById.get(id);
    const rollup = rollupByAgent.get(id);
    const changes = changesByAgent.get(id) ?? [];
    if (agent?.createdAt && agent.createdAt.getTime() >= end.getTime() && !rollup) continue;
    const bill = billOne(input.month, id, agent, rollup, changes, plans);
    if (!rollup && bill.segments.length === 0) continue;
    // A deleted agent whose last change (its deletion) is before the month, with no usage in it: nothing to bill.
    if (!agent && !rollup && (changes[changes.length - 1]?.at.getTime() ?? 0) <= start.getTime()) continue;
    bills.push(bill);
  }
  return bills.sort((a, b) => a.name.localeCompare(b.name) || a.agentId.localeCompare(b.agentId));
}
