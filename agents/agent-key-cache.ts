// /v1 authentication: `ak_` key → agent, cached for a few seconds (local changes to an agent drop its entries at
// once), with the key's last-used time written at most once a minute.
import crypto from 'node:crypto';
import type { AgentDocument } from './agent.model';

export function hashAgentApiKey(key: string): string {
  // One-shot hash: no Hash object per call (every /v1 request hashes its key).
  return crypto.hash('sha256', key, 'hex');
}

/** The part of the agent service the cache reads through (agents/agent.service.ts). */
export interface AgentKeyLookup {
  findByApiKey(key: string): Promise<{ agent: AgentDocument; apiKeyId: string } | undefined>;
  touchApiKey(apiKeyId: string): Promise<void>;
  onAgentChanged(listener: (agentId: string) => void): void;
}

export interface AuthenticatedAgent {
  agent: AgentDocument;
  apiKeyId: string;
  expiresAt: number;
}

const AGENT_CACHE_TTL_MS = 5_000;
const LAST_USED_WRITE_INTERVAL_MS = 60_000;
const MAX_ENTRIES = 10_000;

export class AgentKeyCache {
  private readonly entries = new Map<string, AuthenticatedAgent>();
  private readonly lastUsedWrites = new Map<string, number>();
  /** Lookups in progress by key hash: a burst of calls with one key (cold or just expired) reads it once (#20). */
  private readonly lookups = new Map<string, Promise<AuthenticatedAgent | undefined>>();
  /** Bumped by every agent change: a lookup that started before one is not cached (it may have read the old agent). */
  private generation = 0;

  constructor(private readonly agents: AgentKeyLookup) {
    agents.onAgentChanged((agentId) => {
      for (const [hash, entry] of this.entries) if (entry.agent._id.toString() === agentId) this.entries.delete(hash);
      this.generation += 1;
      this.lookups.clear();
    });
  }

  /** The agent behind a key, or undefined for an unknown or revoked key; records the key's use. */
  async authenticate(key: string): Promise<AuthenticatedAgent | undefined> {
    const resolved = await this.resolve(key);
    if (resolved) this.touch(resolved.apiKeyId);
    return resolved;
  }

  private async resolve(key: string): Promise<AuthenticatedAgent | undefined> {
    const hash = hashAgentApiKey(key);
    const cached = this.entries.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached;
    let lookup = this.lookups.get(hash);
    if (!lookup) {
      lookup = this.lookUp(key, hash).finally(() => {
        if (this.lookups.get(hash) === lookup) this.lookups.delete(hash);
      });
      this.lookups.set(hash, lookup);
    }
    return lookup;
  }

  private async lookUp(key: string, hash: string): Promise<AuthenticatedAgent | undefined> {
    const generation = this.generation;
    const found = await this.agents.findByApiKey(key);
    const current = generation === this.generation;
    if (!found) {
      if (current) this.entries.delete(hash);
      return undefined;
    }
    const entry = { agent: found.agent, apiKeyId: found.apiKeyId, expiresAt: Date.now() + AGENT_CACHE_TTL_MS };
    if (!current) return entry;
    if (this.entries.size > MAX_ENTRIES) this.entries.clear();
    this.entries.set(hash, entry);
    return entry;
  }

  private touch(apiKeyId: string): void {
    const last = this.lastUsedWrites.get(apiKeyId) ?? 0;
    if (Date.now() - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWrites.set(apiKeyId, Date.now());
    void this.agents.touchApiKey(apiKeyId).catch(() => undefined);
  }
}
