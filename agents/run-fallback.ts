// Consented fallback from BYOK to managed (#14): when an agent's own key fails with invalid / quota / persistent rate
// limit, and only when its owner chose a managed plan for this in advance, the call is answered from that plan's
// platform keys, billed per token at the plan's overage rate (no monthly fee), marked `fallback: true` on the meter
// event, and an alert says so. Without that consent a BYOK call never touches a platform key.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { domainErrorInCauses } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import { isLlmCallError } from '../server/llm/llm-call.error';
import type { RouteTarget } from '../server/llm/llm-router';
import type { ChatMessage, ChatOptions } from '../server/llm/llm.types';
import { requestNeeds } from '../server/llm/capabilities';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts } from './agent-ports';
import { routingOf } from './agent-routing';
import type { RunFailures } from './run-failures';
import type { RunTargetResolver } from './run-targets';

export interface FallbackTargets {
  plan: Plan;
  targets: RouteTarget[];
}

/** The failures a fallback answers: the key itself (rejected, unusable, out of quota) or a rate limit that outlasted the retries. */
export function fallbackEligible(error: unknown): boolean {
  const ours = domainErrorInCauses(error);
  if (ours) return ours.code === 'PROVIDER_KEY_UNUSABLE' || ours.code === 'PROVIDER_KEY_INVALID';
  return isLlmCallError(error) && (error.kind === 'auth' || error.kind === 'quota' || error.kind === 'rate_limit');
}

export class RunFallback {
  constructor(private readonly dependencies: { catalog: Catalog; targets: RunTargetResolver; failures: RunFailures; alerts: AgentAlerts; logger: Logger }) {}

  /** The plan the owner consented to, for a BYOK agent; undefined otherwise. */
  consentedPlan(agent: AgentDocument): Plan | undefined {
    const planId = agent.llm.mode === 'byok' ? routingOf(agent).fallbackPlan : null;
    return planId ? this.dependencies.catalog.findPlan(planId) : undefined;
  }

  /** The plan's targets for this prompt (its backends in failover order, on platform keys). */
  targetsFor(agent: AgentDocument, plan: Plan, promptTokens: number, requestedMaxTokens: number | undefined, request: { messages: ChatMessage[]; options?: ChatOptions }): FallbackTargets {
    const needs = requestNeeds(request.messages, request.options);
    const resolved = this.dependencies.targets.resolve({ ...agent, llm: { mode: 'managed', plan: plan.id } }, promptTokens, requestedMaxTokens, needs);
    return { plan, targets: resolved.targets };
  }

  /**
   * After the agent's own key failed: the fallback's targets when the owner consented and the failure is one a
   * fallback answers (the key's status and its own alert are recorded first, as without a fallback); else undefined.
   */
  async afterFailure(
    error: unknown,
    agent: AgentDocument,
    promptTokens: number,
    requestedMaxTokens: number | undefined,
    request: { messages: ChatMessage[]; options?: ChatOptions },
  ): Promise<FallbackTargets | undefined> {
    const plan = this.consentedPlan(agent);
    if (!plan || !fallbackEligible(error)) return undefined;
    const reason = await this.dependencies.failures.toDomainError(error, agent);
    const fallback = this.targetsFor(agent, plan, promptTokens, requestedMaxTokens, request);
    await this.raiseAlert(agent, plan, reason.code);
    return fallback;
  }

  async raiseAlert(agent: AgentDocument, plan: Plan, code: string): Promise<void> {
    const why =
      code === 'PROVIDER_QUOTA_EXCEEDED' ? 'its provider account is out of credit' : code === 'PROVIDER_RATE_LIMITED' ? 'its provider kept rate limiting it' : 'its own API key was rejected';
    await this.dependencies.alerts
      .raise({
        workspaceId: agent.workspaceId.toString(),
        agentId: agent._id.toString(),
        type: 'byok_fallback',
        message: `${agent.name} answered from the ${plan.name} plan because ${why}. These calls are billed at $${plan.overageUsdPerMillion} per 1M tokens until the key works again.`,
        incident: `${code}:${agent.llm.sealedKey?.nonce ?? 'none'}`,
      })
      .catch((failure) => this.dependencies.logger.warn({ err: failure }, 'could not raise the fallback alert'));
  }
}
