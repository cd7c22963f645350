// Cost-aware routing (#14) as members change it: a BYOK agent's light model (added, replaced, removed; its key
// checked and sealed like the main model's) and the routing setting, opt-out, degradation and fallback consent
// (owners only for what spends the workspace's money).
import type { Config } from '../server/config/config';
import type { Catalog } from '../server/catalog/catalog.service';
import { forbidden, invalidInput, notFound } from '../server/errors/domain-error';
import type { Vault } from '../server/vault/vault.service';
import type { AgentDocument, AgentLightModelRecord } from './agent.model';
import type { LightModelInput, RoutingSettingsInput } from './agent-routing.schemas';
import { DEFAULT_ROUTING, effectiveRouting, routingOf } from './agent-routing';
import type { Actor, AgentEditContext } from './agent-edit-context';
import { buildLlmRecord } from './agent-llm-setting';
import type { PublicAgent } from './agent-public-view';

export interface RoutingSettingContext extends AgentEditContext {
  readonly catalog: Catalog;
  readonly config: Config;
  readonly vault: Vault;
  toPublic(agent: AgentDocument): PublicAgent;
}

/** Adds or replaces a BYOK agent's light model; no key on the main model's provider and endpoint reuses its key. */
export async function setLightModel(context: RoutingSettingContext, workspaceId: string, agentId: string, actor: Actor, input: LightModelInput) {
  const agent = await context.load(workspaceId, agentId);
  if (agent.llm.mode !== 'byok') throw invalidInput('LIGHT_MODEL_NEEDS_BYOK', "A managed plan's light model is part of the plan. Use your own key to choose a light model.");
  const current = agent.llm.light;
  const existing = current?.sealedKey && current.provider === input.provider
    ? { mode: 'byok' as const, provider: current.provider, baseUrl: current.baseUrl, sealedKey: current.sealedKey, keyMask: current.keyMask, keyStatus: current.keyStatus }
    : agent.llm;
  // The same validation, endpoint guard and sealing as the main model (bound to the light model's provider).
  const built = buildLlmRecord(context, workspaceId, agentId, { mode: 'byok', ...input }, existing);
  const light: AgentLightModelRecord = {
    provider: built.provider!,
    model: built.model!,
    baseUrl: built.baseUrl ?? null,
    sealedKey: built.sealedKey ?? null,
    keyMask: built.keyMask ?? null,
    keyStatus: input.apiKey ? 'unchecked' : built.keyStatus ?? 'unchecked',
  };
  const updated = await context.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId, 'llm.mode': 'byok' }, { $set: { 'llm.light': light } }, { new: true }).lean<AgentDocument>();
  if (!updated) throw notFound('Agent');
  context.notifyChanged(agentId);
  await context.workspaces.audit({
    workspaceId,
    actorUserId: actor.userId,
    action: input.apiKey ? 'agent.llm.light_key_replaced' : 'agent.llm.light_change',
    targetType: 'agent',
    targetId: agentId,
    changes: { to: { provider: light.provider, model: light.model, baseUrl: light.baseUrl, keyMask: light.keyMask } },
  });
  return context.toPublic(updated);
}

/** Removes the light model; routing and degradation then have nothing to move to and stay off. */
export async function removeLightModel(context: RoutingSettingContext, workspaceId: string, agentId: string, actor: Actor) {
  const agent = await context.load(workspaceId, agentId);
  if (agent.llm.mode !== 'byok' || !agent.llm.light) return context.toPublic(agent);
  const updated = await context.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { 'llm.light': null } }, { new: true }).lean<AgentDocument>();
  if (!updated) throw notFound('Agent');
  context.notifyChanged(agentId);
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.llm.light_remove', targetType: 'agent', targetId: agentId, changes: { provider: agent.llm.light.provider, model: agent.llm.light.model } });
  return context.toPublic(updated);
}

/** The routing setting (builders), opt-out, degradation and fallback consent (owners: they spend the workspace's money). */
export async function setRouting(context: RoutingSettingContext, workspaceId: string, agentId: string, actor: Actor, input: RoutingSettingsInput) {
  const agent = await context.load(workspaceId, agentId);
  const next = { ...routingOf(agent) };
  if (input.setting !== undefined) next.setting = input.setting;
  if (input.alwaysStrong !== undefined) next.alwaysStrong = input.alwaysStrong;
  if (input.degrade !== undefined) next.degrade = input.degrade;
  if (input.fallbackPlan !== undefined) next.fallbackPlan = input.fallbackPlan;
  const spendsMoney = (input.fallbackPlan !== undefined && input.fallbackPlan !== routingOf(agent).fallbackPlan) || (input.degrade !== undefined && input.degrade !== routingOf(agent).degrade);
  if (spendsMoney && actor.role !== 'owner') throw forbidden('Only workspace owners can change the fallback plan or graceful degradation.');
  if (next.fallbackPlan && agent.llm.mode !== 'byok') throw invalidInput('FALLBACK_NEEDS_BYOK', 'A fallback to a managed plan is for agents that use their own key.');
  const effective = effectiveRouting({ llm: agent.llm, routing: next }, context.catalog);
  if (next.setting && next.setting !== 'off' && !effective.lightAvailable) {
    throw agent.llm.mode === 'managed'
      ? invalidInput('PLAN_ROUTING_OFF', 'Smart routing is not offered on this plan.')
      : invalidInput('LIGHT_MODEL_REQUIRED', 'Add a light model first: routing needs a second model to send easy requests to.');
  }
  if (next.degrade && !effective.lightAvailable) {
    throw invalidInput('LIGHT_MODEL_REQUIRED', agent.llm.mode === 'managed' ? 'This plan has no light model to move to near the limit.' : 'Add a light model first: graceful degradation moves to it near the limit.');
  }
  const updated = await context.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { routing: { ...DEFAULT_ROUTING, ...next } } }, { new: true }).lean<AgentDocument>();
  if (!updated) throw notFound('Agent');
  context.notifyChanged(agentId);
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.routing.change', targetType: 'agent', targetId: agentId, changes: { from: routingOf(agent), to: next } });
  return context.toPublic(updated);
}
