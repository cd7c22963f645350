// An agent's health in one word and one sentence, computed in one place from what is known about it: its status,
// its key's last verdict, this month's usage against its cap or budget, whether its plan can be served, and recent
// provider failures. The agent API answers it as `health`; the header, the dashboard card and the playground use it.
import type { Catalog } from '../server/catalog/catalog.service';
import { usdToMicros } from '../server/catalog/catalog.service';
import type { Config, PooledProviderId } from '../server/config/config';
import { isSandboxedProvider } from '../server/config/config';
import type { ProviderOutages } from './provider-outages';
import type { AgentHealth, HealthState } from '../shared/agent-health';

export const HEALTH_STATES = ['active', 'sandbox', 'paused', 'key_rejected', 'out_of_credit', 'cap_reached', 'provider_down'] as const satisfies readonly HealthState[];
/** The list names every state of the answer type (checked when compiling). */
type EveryStateListed<Check extends true> = Check;
export type HealthStatesComplete = EveryStateListed<[HealthState] extends [(typeof HEALTH_STATES)[number]] ? true : false>;

/** The fields of a public agent the health reads (agents/agent.service.ts toPublic). */
export interface HealthSubject {
  id: string;
  status: 'active' | 'paused';
  llm: { mode: 'managed'; plan?: string | null } | { mode: 'byok'; key: { status: string } };
  limits: { monthlyTokenCap: number | null; monthlyBudgetUsd: number | null };
  sandbox: boolean;
}

/** This month's counters of some agents (server/metering/usage.service.ts). */
export interface MonthUsageReader {
  monthCounters(agentIds: string[]): Promise<Map<string, { tokens: number; costMicros: number }>>;
}

export function computeAgentHealth(
  agent: HealthSubject,
  facts: { tokens: number; costMicros: number; planServable: boolean; providerFailingSince: Date | undefined },
): AgentHealth {
  const byok = agent.llm.mode === 'byok';
  if (agent.status === 'paused') {
    return { state: 'paused', label: 'Paused', message: 'This agent is paused: the playground and the API refuse calls until it is resumed.', canRun: false, fix: { tab: 'settings', label: 'Resume it in Settings', role: 'builder' } };
  }
  if (agent.llm.mode === 'byok' && agent.llm.key.status === 'invalid') {
    return { state: 'key_rejected', label: 'Key rejected', message: 'The provider rejected this agent’s API key, so every call fails. Paste a working key.', canRun: false, fix: { tab: 'setting', label: 'Replace the key in AI setting', role: 'builder' } };
  }
  if (agent.llm.mode === 'byok' && agent.llm.key.status === 'quota_exceeded') {
    return { state: 'out_of_credit', label: 'Out of credit', message: 'The provider account behind this key is out of credit or over its quota. Add credit with the provider, then test the key again.', canRun: false, fix: { tab: 'setting', label: 'Test the key again in AI setting', role: 'builder' } };
  }
  const cap = !byok ? agent.limits.monthlyTokenCap : null;
  const budgetMicros = byok && agent.limits.monthlyBudgetUsd != null ? usdToMicros(agent.limits.monthlyBudgetUsd) : null;
  if ((cap != null && facts.tokens >= cap) || (budgetMicros != null && facts.costMicros >= budgetMicros)) {
    return {
      state: 'cap_reached',
      label: byok ? 'Budget reached' : 'Limit reached',
      message: byok
        ? 'This agent has used its monthly budget, so calls are refused until next month or until an owner raises the budget.'
        : 'This agent has reached the monthly limit its owner set, so calls are refused until next month or until an owner raises the limit.',
      canRun: false,
      fix: { tab: 'settings', label: 'Raise the limit in Settings', role: 'owner' },
    };
  }
  if (!facts.planServable) {
    return { state: 'provider_down', label: 'Unavailable', message: 'This plan cannot be served right now (the platform has no AI capacity configured for it). Please try again later.', canRun: true, fix: null };
  }
  if (facts.providerFailingSince || (agent.llm.mode === 'byok' && agent.llm.key.status === 'unreachable')) {
    return {
      state: 'provider_down',
      label: 'Provider down',
      message: byok
        ? 'The last call could not reach the provider. It may be down, or this server cannot reach it; test the connection to see why.'
        : 'The last call failed because the AI service was unavailable. New calls are tried again as they come.',
      canRun: true,
      fix: byok ? { tab: 'setting', label: 'Test the connection in AI setting', role: 'builder' } : null,
    };
  }
  if (agent.sandbox) {
    return { state: 'sandbox', label: 'Sandbox', message: 'Replies come from the built-in simulator: nothing is sent to a real AI provider, and billing is simulated.', canRun: true, fix: null };
  }
  return { state: 'active', label: 'Active', message: 'Ready: calls are answered.', canRun: true, fix: null };
}

export class AgentHealthService {
  constructor(private readonly dependencies: { catalog: Catalog; config: Config; usage: MonthUsageReader; outages: ProviderOutages }) {}

  private planServable(agent: HealthSubject): boolean {
    if (agent.llm.mode !== 'managed' || !agent.llm.plan) return true;
    const plan = this.dependencies.catalog.findPlan(agent.llm.plan);
    if (!plan) return false;
    const { config } = this.dependencies;
    return plan.backends.some(
      (backend) => backend.provider !== 'custom' && (isSandboxedProvider(config, backend.provider as PooledProviderId) || config.poolKeys[backend.provider as PooledProviderId].length > 0),
    );
  }

  /** The agents as given, each with its `health`; one read of this month's counters for all of them. */
  async attach<T extends HealthSubject>(agents: T[]): Promise<Array<T & { health: AgentHealth }>> {
    const ids = agents.map((agent) => agent.id);
    // Provider outages seen by any instance (agents/provider-outages.ts): read here, never on the call path.
    const [counters, outages] = agents.length ? await Promise.all([this.dependencies.usage.monthCounters(ids), this.dependencies.outages.downSince(ids)]) : [new Map(), new Map<string, Date>()];
    return agents.map((agent) => {
      const month = counters.get(agent.id);
      return {
        ...agent,
        health: computeAgentHealth(agent, {
          tokens: month?.tokens ?? 0,
          costMicros: month?.costMicros ?? 0,
          planServable: this.planServable(agent),
          providerFailingSince: outages.get(agent.id),
        }),
      };
    });
  }

  async attachOne<T extends HealthSubject>(agent: T): Promise<T & { health: AgentHealth }> {
    return (await this.attach([agent]))[0]!;
  }
}
