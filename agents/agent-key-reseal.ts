// `npm run vault:rotate`: every stored provider key (main and light models) re-sealed under the newest master key;
// a key replaced meanwhile is counted as failed so the operator runs the command again.
import type { Vault } from '../server/vault/vault.service';
import type { AgentDocument, AgentModels } from './agent.model';

export interface ResealCounts {
  total: number;
  resealed: number;
  alreadyCurrent: number;
  failed: number;
}

/** Light models' own keys (#14), counted with the main keys. */
async function resealLightKeys(models: AgentModels, vault: Vault, counts: ResealCounts): Promise<void> {
  const cursor = models.Agent.find({ 'llm.mode': 'byok', 'llm.light.sealedKey': { $ne: null } }).lean<AgentDocument[]>().cursor();
  for await (const agent of cursor as AsyncIterable<AgentDocument>) {
    const light = agent.llm.light;
    if (!light?.sealedKey) continue;
    counts.total += 1;
    if (!vault.needsReseal(light.sealedKey)) {
      counts.alreadyCurrent += 1;
      continue;
    }
    try {
      const resealed = vault.reseal(light.sealedKey, { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider: light.provider });
      const result = await models.Agent.updateOne({ _id: agent._id, 'llm.light.sealedKey.nonce': light.sealedKey.nonce }, { $set: { 'llm.light.sealedKey': resealed } });
      if (result.matchedCount === 1) counts.resealed += 1;
      else counts.failed += 1;
    } catch {
      counts.failed += 1;
    }
  }
}

export async function resealAllAgentKeys(models: AgentModels, vault: Vault): Promise<ResealCounts> {
  const counts = { total: 0, resealed: 0, alreadyCurrent: 0, failed: 0 };
  const cursor = models.Agent.find({ 'llm.mode': 'byok', 'llm.sealedKey': { $ne: null } }).lean<AgentDocument[]>().cursor();
  for await (const agent of cursor as AsyncIterable<AgentDocument>) {
    counts.total += 1;
    const sealed = agent.llm.sealedKey!;
    if (!vault.needsReseal(sealed)) {
      counts.alreadyCurrent += 1;
      continue;
    }
    try {
      const binding = { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider: agent.llm.provider! };
      const resealed = vault.reseal(sealed, binding);
      const result = await models.Agent.updateOne({ _id: agent._id, 'llm.sealedKey.nonce': sealed.nonce }, { $set: { 'llm.sealedKey': resealed } });
      // No match: the key was replaced or removed meanwhile; counted as failed so the operator runs the command again.
      if (result.matchedCount === 1) counts.resealed += 1;
      else counts.failed += 1;
    } catch {
      counts.failed += 1;
    }
  }
  await resealLightKeys(models, vault, counts);
  return counts;
}
