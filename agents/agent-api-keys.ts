// An agent's /v1 API keys (`ak_…`): created (shown once, stored as a hash), listed, renamed, revoked, and looked up
// by the key for /v1 authentication (with its last use).
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { notFound } from '../server/errors/domain-error';
import type { AgentDocument, AgentModels } from './agent.model';
import { hashAgentApiKey } from './agent-key-cache';
import type { Actor, AgentEditContext } from './agent-edit-context';

export async function createAgentApiKey(context: AgentEditContext, workspaceId: string, agentId: string, actor: Actor, input: { name?: string } = {}) {
  const agent = await context.load(workspaceId, agentId);
  const key = `ak_${crypto.randomBytes(32).toString('base64url')}`;
  const prefix = key.slice(0, 10);
  const name = input.name ?? null;
  const record = await context.models.AgentApiKey.create({
    agentId: agent._id,
    workspaceId: agent.workspaceId,
    keyHash: hashAgentApiKey(key),
    prefix,
    createdBy: new Types.ObjectId(actor.userId),
    name,
  });
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.create', targetType: 'agent', targetId: agentId, changes: { apiKeyId: record._id.toString(), prefix, name } });
  return { id: record._id.toString(), key, prefix, name, createdAt: record.createdAt.toISOString() };
}

export async function listAgentApiKeys(context: AgentEditContext, workspaceId: string, agentId: string) {
  const agent = await context.load(workspaceId, agentId);
  const keys = await context.models.AgentApiKey.find({ agentId: agent._id }).sort({ createdAt: 1 }).lean();
  return keys.map((key) => ({ id: key._id.toString(), prefix: key.prefix, name: key.name ?? null, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null }));
}

export async function renameAgentApiKey(context: AgentEditContext, workspaceId: string, agentId: string, keyId: string, actor: Actor, name: string) {
  const agent = await context.load(workspaceId, agentId);
  if (!OBJECT_ID_PATTERN.test(keyId)) throw notFound('API key');
  const key = await context.models.AgentApiKey.findOneAndUpdate({ _id: new Types.ObjectId(keyId), agentId: agent._id }, { $set: { name } }, { new: true }).lean();
  if (!key) throw notFound('API key');
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.rename', targetType: 'agent', targetId: agentId, changes: { apiKeyId: keyId, name } });
  return { id: key._id.toString(), prefix: key.prefix, name: key.name ?? null, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null };
}

export async function revokeAgentApiKey(context: AgentEditContext, workspaceId: string, agentId: string, keyId: string, actor: Actor): Promise<void> {
  const agent = await context.load(workspaceId, agentId);
  if (!OBJECT_ID_PATTERN.test(keyId)) throw notFound('API key');
  const result = await context.models.AgentApiKey.deleteOne({ _id: new Types.ObjectId(keyId), agentId: agent._id });
  if (result.deletedCount === 0) throw notFound('API key');
  context.notifyChanged(agentId);
  await context.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.revoke', targetType: 'agent', targetId: agentId, changes: { apiKeyId: keyId } });
}

/** /v1 authentication: the agent behind an `ak_` key, or undefined. */
export async function findAgentByApiKey(models: AgentModels, key: string): Promise<{ agent: AgentDocument; apiKeyId: string; lastUsedAt: Date | null } | undefined> {
  if (!key.startsWith('ak_') || key.length > 100) return undefined;
  const record = await models.AgentApiKey.findOne({ keyHash: hashAgentApiKey(key) }).lean();
  if (!record) return undefined;
  const agent = await models.Agent.findOne({ _id: record.agentId, workspaceId: record.workspaceId }).lean<AgentDocument>();
  if (!agent) return undefined;
  return { agent, apiKeyId: record._id.toString(), lastUsedAt: record.lastUsedAt };
}

export async function touchAgentApiKey(models: AgentModels, apiKeyId: string): Promise<void> {
  await models.AgentApiKey.updateOne({ _id: new Types.ObjectId(apiKeyId) }, { $set: { lastUsedAt: new Date() } });
}
