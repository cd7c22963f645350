// Reading and changing an agent's response cache setting: defaults, whether semantic lookups can run for it (an
// embeddings provider: its own OpenAI / Mistral key, or the platform's), the entries it holds, and emptying them.
import { DomainError } from '../server/errors/domain-error';
import type { AgentCacheSetting, AgentDocument } from './agent.model';
import type { Actor, AgentService } from './agent.service';
import type { CacheSettingInput } from './experiment.schemas';
import { cacheSettingOf } from './response-cache-key';
import type { ResponseCacheService } from './response-cache.service';

export class ResponseCacheSettings {
  constructor(private readonly agents: AgentService, private readonly cache: ResponseCacheService) {}

  private describe(agent: AgentDocument) {
    const route = this.cache.embeddingRoute(agent);
    return {
      setting: cacheSettingOf(agent),
      semanticAvailable: route !== undefined,
      embeddings: route ? { provider: route.model.provider, model: route.model.model } : null,
      vectorIndex: this.cache.vectorIndexKind ?? null,
    };
  }

  async get(workspaceId: string, agentId: string) {
    const agent = await this.agents.getRecord(workspaceId, agentId);
    return { ...this.describe(agent), ...(await this.cache.stats(agent)) };
  }

  async update(workspaceId: string, agentId: string, actor: Actor, input: CacheSettingInput) {
    const agent = await this.agents.getRecord(workspaceId, agentId);
    const setting: AgentCacheSetting = { ...cacheSettingOf(agent), ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined)) };
    if (setting.mode === 'semantic' && !this.cache.embeddingRoute(agent)) {
      throw new DomainError(
        'SEMANTIC_CACHE_UNAVAILABLE',
        'Similar-question matching needs an embeddings provider (OpenAI or Mistral: your own key on this agent, or the platform’s). Use exact matching instead.',
      );
    }
    const updated = await this.agents.setCacheSetting(workspaceId, agentId, actor, setting);
    return { ...this.describe(updated), ...(await this.cache.stats(updated)) };
  }

  async clear(workspaceId: string, agentId: string) {
    const agent = await this.agents.getRecord(workspaceId, agentId);
    return { removed: await this.cache.clear(agent) };
  }
}
