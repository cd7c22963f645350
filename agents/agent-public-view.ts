// An agent as the API shows it: its LLM setting without the sealed key (mask and status only), limits in dollars,
// alert thresholds, whether it runs against the provider simulator (sandbox) and its effective routing.
import { isSandboxedProvider, type Config, type PooledProviderId } from '../server/config/config';
import { microsToUsd, type Catalog } from '../server/catalog/catalog.service';
import type { AgentDocument } from './agent.model';
import { publicRouting } from './agent-routing';

export function isAgentSandboxed(agent: Pick<AgentDocument, 'llm'>, catalog: Catalog, config: Config): boolean {
  if (agent.llm.mode === 'byok') return Boolean(agent.llm.sandboxKey);
  if (!agent.llm.plan) return false;
  const plan = catalog.getPlan(agent.llm.plan);
  return plan.backends.some((backend) => backend.provider !== 'custom' && isSandboxedProvider(config, backend.provider as PooledProviderId));
}

export function toPublicAgent(agent: AgentDocument, catalog: Catalog, config: Config) {
  const llm =
    agent.llm.mode === 'managed'
      ? { mode: 'managed' as const, plan: agent.llm.plan }
      : {
          mode: 'byok' as const,
          provider: agent.llm.provider,
          model: agent.llm.model,
          baseUrl: agent.llm.baseUrl ?? null,
          key: { mask: agent.llm.keyMask ?? null, status: agent.llm.keyStatus ?? 'unchecked', checkedAt: agent.llm.keyCheckedAt?.toISOString() ?? null },
          // Cost-aware routing (#14): the light model, shown only when the agent has one.
          ...(agent.llm.light
            ? { light: { provider: agent.llm.light.provider, model: agent.llm.light.model, baseUrl: agent.llm.light.baseUrl ?? null, key: { mask: agent.llm.light.keyMask ?? null, status: agent.llm.light.keyStatus ?? 'unchecked' } } }
            : {}),
        };
  return {
    id: agent._id.toString(),
    workspaceId: agent.workspaceId.toString(),
    name: agent.name,
    templateId: agent.templateId,
    variables: agent.variables ?? {},
    status: agent.status,
    llm,
    limits: {
      monthlyTokenCap: agent.limits?.monthlyTokenCap ?? null,
      monthlyBudgetUsd: agent.limits?.monthlyBudgetMicros == null ? null : microsToUsd(agent.limits.monthlyBudgetMicros),
      endUserMonthlyTokenCap: agent.limits?.endUserMonthlyTokenCap ?? null,
      monthlyOverageBudgetUsd: agent.limits?.monthlyOverageBudgetMicros == null ? null : microsToUsd(agent.limits.monthlyOverageBudgetMicros),
    },
    alertThresholds: agent.alertThresholds ?? null,
    sandbox: isAgentSandboxed(agent, catalog, config),
    routing: publicRouting(agent, catalog),
    createdAt: agent.createdAt.toISOString(),
    updatedAt: agent.updatedAt.toISOString(),
  };
}

export type PublicAgent = ReturnType<typeof toPublicAgent>;
