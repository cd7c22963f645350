// Shapes of the public API (see shared/API.md), as the client uses them.
import type { AgentHealth } from '../../shared/agent-health';
import type { KeyStatus } from '../../shared/key-check-answers';
import type { PlanAdvice } from '../../shared/plan-advice';
import type { UsageTotals } from '../../shared/usage-answers';
import type { Role } from '../../shared/workspace-role';

export type { KeyStatus, Role };
export type PlanId = 'starter' | 'pro' | 'ultra';

export interface WorkspaceSummary {
  id: string;
  name: string;
  role: Role;
}

export interface Me {
  user: { id: string; email: string; name: string };
  workspaces: WorkspaceSummary[];
}

export interface Plan {
  id: PlanId;
  name: string;
  priceUsd: number;
  includedTokens: number;
  overageUsdPerMillion: number;
  description: string;
  popular?: boolean;
}

export interface Model {
  id: string;
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
  contextWindow: number;
}

export interface Provider {
  id: string;
  name: string;
  models: Model[];
  pooled: boolean;
  anyModel?: boolean;
  keyPrefix?: string | null;
  /** experience (#18): where a base URL is taken, the offline sandbox key, whether local endpoints are allowed. */
  baseUrl?: 'required' | 'optional' | 'none';
  sandboxKey?: string | null;
  privateAddressesAllowed?: boolean;
}

export interface TemplateVariable {
  name: string;
  label: string;
  required: boolean;
  default: string | null;
}

export interface Template {
  id: string;
  name: string;
  description: string;
  recommendedPlan: PlanId;
  variables: TemplateVariable[];
  estimatedMonthlyTokens: { input: number; output: number };
}

export type LlmSetting =
  | { mode: 'managed'; plan: PlanId }
  | { mode: 'byok'; provider: string; model: string; apiKey?: string; baseUrl?: string | null };

export type AgentLlm =
  | { mode: 'managed'; plan: PlanId }
  | { mode: 'byok'; provider: string; model: string; baseUrl: string | null; key: { mask: string; status: KeyStatus; checkedAt: string | null } };

export interface Agent {
  id: string;
  workspaceId: string;
  name: string;
  templateId: string;
  variables: Record<string, string>;
  status: 'active' | 'paused';
  llm: AgentLlm;
  limits: { monthlyTokenCap: number | null; monthlyBudgetUsd: number | null; endUserMonthlyTokenCap?: number | null; monthlyOverageBudgetUsd?: number | null };
  /** This agent's alert thresholds in percent (null: the workspace's). */
  alertThresholds?: number[] | null;
  sandbox: boolean;
  createdAt: string;
  updatedAt: string;
  /** experience (#18): computed by the server (agents/agent-health.ts). */
  health?: AgentHealth;
}

/** What "Test connection" answers. */
export type { ConnectionTestResult as ConnectionTest } from '../../shared/key-check-answers';

export interface ApiKeySummary {
  id: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface ApiKeyCreated extends ApiKeySummary {
  key: string;
}

export interface UsageRow {
  agentId: string;
  name: string;
  mode: 'managed' | 'byok';
  plan: PlanId | null;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
  requests: number;
  errors: number;
  includedTokens: number | null;
  percentOfIncluded: number | null;
  overageTokens: number;
  overageUsd: number;
  /** Own-key agents only: what their provider charges. */
  costUsd?: number;
  planFeeUsd: number;
  projectedTokens?: number;
  projectedAmountUsd?: number;
  budgetUsd?: number | null;
  monthlyTokenCap?: number | null;
  deleted?: boolean;
  /** Billing: the month's plan / own-key / paused segments with their prorated fees (docs/BILLING.md). */
  planSegments?: Array<{ kind: 'plan' | 'byok' | 'paused'; plan: string | null; from: string; to: string; feeUsd: number }>;
  allowanceMinimumUsd?: number;
  amountDueUsd?: number;
}

export interface WorkspaceUsage {
  month: string;
  workspaceId: string;
  totals: UsageTotals;
  agents: UsageRow[];
}

export interface AgentUsage extends UsageRow {
  month: string;
  /** Billing: which plan would be cheapest this month (null for past months). */
  planAdvice?: PlanAdvice | null;
  daily: Array<{ date: string; tokensInput: number; tokensOutput: number; requests: number }>;
  byModel: Array<{ provider: string; model: string; tokens: number; costUsd: number }>;
}

export interface Alert {
  id: string;
  type: 'allowance_80' | 'allowance_100' | 'budget_reached' | 'key_invalid' | 'provider_quota_exceeded' | string;
  agentId: string | null;
  message: string;
  createdAt: string;
  readAt?: string | null;
  /** alerts: the percentage of a threshold alert; set when the cause went away. */
  threshold?: number | null;
  resolvedAt?: string | null;
  resolvedReason?: string | null;
}

export interface Member {
  userId: string;
  email: string;
  name: string;
  role: Role;
}
