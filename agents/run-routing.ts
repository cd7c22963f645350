// Cost-aware routing of one agent call (#14): which model answers — the agent's strong model or its light one — from
// the agent's routing setting, a forced model, the conversation's stickiness and, near a limit, graceful degradation.
// The scoring itself is server/llm/prompt-router.ts (pure); this file knows the agent, its targets and its limits.
import type { Catalog } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import type { ChatMessage, ChatOptions } from '../server/llm/llm.types';
import { requestNeeds, type RequestNeeds } from '../server/llm/capabilities';
import type { RouteTarget } from '../server/llm/llm-router';
import { decideRoute, scorePrompt, type PromptExtras, type RouteDecision, type RoutingTier } from '../server/llm/prompt-router';
import { conversationKey, type RoutingStickiness } from '../server/llm/routing-stickiness';
import { DEGRADE_AT_FRACTION } from '../server/metering/limit-headroom';
import { monthOf } from '../server/metering/pricing';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, KeyOpener, LimitReading, ProviderRouting } from './agent-ports';
import { AgentRoutingStates, type LightModelState } from './agent-routing-state';
import type { CallRouting } from './run-metering';
import { outputBudget, unmetNeed, type RunTargets } from './run-targets';

/** The request header that forces a model, and the headers that report the decision. */
export const ROUTE_HEADER = 'x-agent-host-route';
export const CONVERSATION_HEADER = 'x-agent-host-conversation';
export const ROUTING_RESPONSE_HEADER = 'X-Agent-Host-Routing';
export const FALLBACK_RESPONSE_HEADER = 'X-Agent-Host-Fallback';

/** `light` / `strong` (any case), or undefined when absent; anything else is a 400. */
export function parseForcedRoute(value: string | string[] | undefined): RoutingTier | undefined {
  if (value === undefined) return undefined;
  const text = (Array.isArray(value) ? value[0] ?? '' : value).trim().toLowerCase();
  if (text === '') return undefined;
  if (text === 'light' || text === 'strong') return text;
  throw new DomainError('ROUTE_INVALID', 'X-Agent-Host-Route must be "light" or "strong".');
}

/** The caller's conversation id (header or metadata.conversation_id), trimmed and bounded. */
export function conversationIdFrom(header: string | string[] | undefined, metadata?: Record<string, string>): string | undefined {
  const value = (Array.isArray(header) ? header[0] : header) ?? metadata?.conversation_id;
  const trimmed = typeof value === 'string' ? value.trim().slice(0, 200) : '';
  return trimmed === '' ? undefined : trimmed;
}

/** The response header's value: `light; score=0.12; reason=simple` (+ `; forced`, `; escalated`). */
export function routingHeaderValue(decision: RouteDecision): string {
  return `${decision.tier}; score=${decision.score}; reason=${decision.reason}${decision.forced ? '; forced' : ''}${decision.escalated ? '; escalated' : ''}`;
}

export interface RoutingRequest {
  messages: ChatMessage[];
  maxTokens?: number;
  /** X-Agent-Host-Route. */
  route?: RoutingTier;
  conversationId?: string;
  metadata?: Record<string, string>;
  /** Tools, response format, …: what the light model must support too, and features for the router's score. */
  options?: ChatOptions;
}

/** The router's features beyond the text: tools requested (or a tool conversation), non-text content parts. */
function extrasOf(needs: RequestNeeds | undefined): PromptExtras | undefined {
  if (!needs) return undefined;
  return { toolsRequested: needs.capabilities.includes('tools'), nonTextParts: needs.capabilities.includes('vision') };
}

export interface RoutedTargets {
  targets: RouteTarget[];
  route: CallRouting;
}

export interface RunRoutingDependencies {
  catalog: Catalog;
  routing: ProviderRouting;
  vault: KeyOpener;
  stickiness: RoutingStickiness;
  headroom?: LimitReading;
  alerts: AgentAlerts;
  logger: Logger;
}

export class RunRouting {
  /** Agent-months whose degradation alert this instance raised (the alert store dedupes across instances too). */
  private readonly degradedAlerted = new Set<string>();

  private readonly states: AgentRoutingStates;

  constructor(private readonly dependencies: RunRoutingDependencies) {
    this.states = new AgentRoutingStates(dependencies);
  }

  /** The targets for this call: the strong ones unchanged unless routing, a forced model or degradation says light. */
  async route(agent: AgentDocument, request: RoutingRequest, strong: RunTargets): Promise<RoutedTargets> {
    // Everything that depends on the agent alone is derived once per agent version (agent-routing-state.ts, #20).
    const state = this.states.of(agent);
    const { settings, effective } = state;
    const degradable = settings.degrade && effective.lightAvailable && state.hasLimit;
    // The common case first: routing off, nothing forced, no degradation — not one extra step.
    if (effective.setting === 'off' && !request.route && !degradable) return { targets: strong.targets, route: {} };
    const needs = requestNeeds(request.messages, request.options);
    const extras = extrasOf(needs);
    const strongPrimary = strong.targets[0]!;
    const strongPrice = this.states.strongPrice(state, strongPrimary.provider, strongPrimary.model);
    const asStrong = (reason: string, forced?: boolean): RoutedTargets => ({
      targets: strong.targets,
      route: { decision: { tier: 'strong', score: scorePrompt(request.messages, extras).score, reason, ...(forced ? { forced } : {}) }, strongPrice },
    });

    if (!effective.lightAvailable) return asStrong('no_light_model', true);
    const light = this.lightTargets(state.light, strong, request.maxTokens, needs);

    if (degradable && light && (await this.nearLimit(agent))) {
      const score = scorePrompt(request.messages, extras).score;
      void this.raiseDegradedAlert(agent);
      return { targets: light, route: { decision: { tier: 'light', score, reason: 'near_limit' }, strongPrice, degraded: 'light_model' } };
    }
    if (settings.alwaysStrong) return asStrong('always_strong', request.route !== undefined);
    if (effective.setting === 'off' && !request.route) return { targets: strong.targets, route: {} };

    const conversation =
      effective.setting !== 'off'
        ? { key: conversationKey(state.agentId, request.messages, request.conversationId ?? request.metadata?.conversation_id), memory: this.dependencies.stickiness }
        : undefined;
    const decision = decideRoute({
      messages: request.messages,
      extras,
      setting: effective.setting === 'off' ? 'balanced' : effective.setting,
      forced: request.route,
      conversation,
    });
    // The light model cannot take this request (context too small, a capability it lacks): the strong one answers.
    if (decision.tier === 'light' && !light) return asStrong(decision.forced ? 'light_unavailable' : 'light_context', decision.forced);
    return { targets: decision.tier === 'light' ? light! : strong.targets, route: { decision, strongPrice } };
  }

  private async nearLimit(agent: AgentDocument): Promise<boolean> {
    const headroom = this.dependencies.headroom;
    if (!headroom) return false;
    try {
      return (await headroom.usedFraction(agent)) >= DEGRADE_AT_FRACTION;
    } catch (error) {
      // Not knowing how near the limit is costs the cheaper model, never the call: the limit itself still holds.
      this.dependencies.logger.warn({ err: error, agentId: agent._id.toString() }, 'could not read the limit headroom');
      return false;
    }
  }

  /**
   * The light model's targets with their own output budgets: a managed plan's light backend (then its strong
   * backends, for failover), or a BYOK agent's light model with its own key. Undefined when the prompt does not fit.
   */
  private lightTargets(light: LightModelState | undefined, strong: RunTargets, requestedMaxTokens: number | undefined, needs: RequestNeeds | undefined): RouteTarget[] | undefined {
    if (!light || (needs && unmetNeed(light.provider, light.model, needs))) return undefined;
    const { maxTokens } = outputBudget(light.model, strong.promptTokens, requestedMaxTokens);
    if (maxTokens === undefined) return undefined;
    if (!light.endpoint) {
      // A managed plan's light backend: its pool is read per call (a pool can be empty, a provider sandboxed).
      const endpoint = this.dependencies.routing.pooled(light.provider);
      return endpoint ? [Object.assign({}, endpoint, { model: light.model.id, maxTokens }), ...strong.targets] : undefined;
    }
    // Object.assign, not a literal starting with a spread (a hidden class per call, see run-targets.ts).
    return [Object.assign({}, light.endpoint, { model: light.model.id, maxTokens })];
  }

  private async raiseDegradedAlert(agent: AgentDocument): Promise<void> {
    const month = monthOf(new Date());
    const key = `${agent._id.toString()}:${month}`;
    if (this.degradedAlerted.has(key)) return;
    if (this.degradedAlerted.size >= 10_000) this.degradedAlerted.clear();
    this.degradedAlerted.add(key);
    await this.dependencies.alerts
      .raise({
        workspaceId: agent.workspaceId.toString(),
        agentId: agent._id.toString(),
        type: 'routing_degraded',
        message: `${agent.name} is close to its monthly limit and now answers with its light model to make the rest last. Output is shortened, then calls are refused, only if usage keeps growing.`,
        incident: month,
      })
      .catch((error) => this.dependencies.logger.warn({ err: error }, 'could not raise the degradation alert'));
  }
}
