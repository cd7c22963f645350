// The agent's response cache setting (cache) stored as given: validated before by agents/response-cache-settings.ts.
import { notFound } from '../server/errors/domain-error';
import type { AgentCacheSetting, AgentDocument } from './agent.model';
import type { Actor, AgentEditContext } from './agent-edit-context';

export async function setAgentCacheSetting(context: AgentEditContext, workspaceId: string, agentId: string, actor: Actor, cache: AgentCacheSetting): Promise<AgentDocument> {
  const agent = await context.load(workspaceId, agentId);
  const updated = await context.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { cache } }, { new: true }).lean<AgentDocument>();
  if (!updated) throw notFound('Agent');
  context.notifyChanged(agentId);
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.cache.change', targetType: 'agent', targetId: agentId, changes: { from: agent.cache ?? null, to: cache } });
  return updated;
}
