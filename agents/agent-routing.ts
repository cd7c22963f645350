// What routing an agent gets (#14): its effective setting from its own choice, its plan's operator setting and its
// light model, and its public description. Pure: read from the agent record and the catalog.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import type { RoutingSetting } from '../server/llm/prompt-router';
import { ROUTING_THRESHOLDS } from '../server/llm/prompt-router';
import type { AgentDocument, AgentRoutingRecord } from './agent.model';

export const DEFAULT_ROUTING: AgentRoutingRecord = { setting: null, alwaysStrong: false, fallbackPlan: null, degrade: false };

export interface EffectiveRouting {
  /** What the router applies to this agent's requests ('off': every request goes to the strong model). */
  setting: RoutingSetting;
  /** A light model exists for this agent (its own for BYOK; the plan's, with plan routing on, for managed). */
  lightAvailable: boolean;
  /** The operator's routing for the agent's plan ('off' when plan routing is off); null for BYOK. */
  planRouting: RoutingSetting | null;
  lightModel: { provider: string; model: string } | null;
}

export function routingOf(agent: Pick<AgentDocument, 'routing'>): AgentRoutingRecord {
  return { ...DEFAULT_ROUTING, ...(agent.routing ?? {}) };
}

export function planOf(agent: Pick<AgentDocument, 'llm'>, catalog: Catalog): Plan | undefined {
  return agent.llm.mode === 'managed' && agent.llm.plan ? catalog.findPlan(agent.llm.plan) : undefined;
}

export function effectiveRouting(agent: Pick<AgentDocument, 'llm' | 'routing'>, catalog: Catalog): EffectiveRouting {
  const routing = routingOf(agent);
  if (agent.llm.mode === 'managed') {
    const plan = planOf(agent, catalog);
    const planRouting = plan?.routing ?? 'off';
    const lightAvailable = Boolean(plan?.lightBackend) && planRouting !== 'off';
    const setting = !lightAvailable || routing.alwaysStrong ? 'off' : routing.setting ?? planRouting;
    return { setting, lightAvailable, planRouting, lightModel: lightAvailable ? plan!.lightBackend! : null };
  }
  const light = agent.llm.light ?? null;
  const setting = !light || routing.alwaysStrong ? 'off' : routing.setting ?? 'off';
  return { setting, lightAvailable: Boolean(light), planRouting: null, lightModel: light ? { provider: light.provider, model: light.model } : null };
}

/** One sentence per setting, for the API and the UI. */
export const ROUTING_SETTING_WORDS: Record<RoutingSetting, string> = {
  off: 'Every request goes to the main (most capable) model.',
  quality: `Quality first: only clearly easy requests (score below ${ROUTING_THRESHOLDS.quality}) go to the light model.`,
  balanced: `Balanced: easy and routine requests (score below ${ROUTING_THRESHOLDS.balanced}) go to the light model, the rest to the main one.`,
  savings: `Maximum savings: everything but clearly hard requests (score below ${ROUTING_THRESHOLDS.savings}) goes to the light model.`,
};

/** The sentence a plan's plain description gains when its operator turned routing on. */
export function planRoutingDisclosure(plan: Plan): string | null {
  if (plan.routing === 'off' || !plan.lightBackend) return null;
  // Plain words (the plan screen names no models); the model is in the plan's `routing.lightModel` for builders.
  return 'Smart routing: simple questions may be answered by a faster, lighter model; an owner can choose "always the most capable model" for any agent.';
}

export function publicRouting(agent: AgentDocument, catalog: Catalog) {
  const routing = routingOf(agent);
  const effective = effectiveRouting(agent, catalog);
  return {
    setting: routing.setting,
    effectiveSetting: effective.setting,
    explanation: ROUTING_SETTING_WORDS[effective.setting],
    alwaysStrong: routing.alwaysStrong,
    degrade: routing.degrade,
    fallbackPlan: routing.fallbackPlan,
    lightAvailable: effective.lightAvailable,
    planRouting: effective.planRouting,
    lightModel: effective.lightModel,
  };
}
