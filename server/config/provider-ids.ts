// The one list of provider ids. It has no imports so that config (the bottom layer) can read it; the provider
// registry (server/llm/providers/provider-registry.ts) is a Record over it, so the compiler asks for exactly one
// folder per id there.
export const PROVIDER_IDS = ['openai', 'anthropic', 'mistral', 'groq', 'minimax', 'openrouter', 'custom'] as const;
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** Providers the platform can hold pooled keys for. A custom endpoint is the user's own, so it never has a pool. */
export type PooledProviderId = Exclude<ProviderId, 'custom'>;
export const POOLED_PROVIDER_IDS: readonly PooledProviderId[] = PROVIDER_IDS.filter(
  (id): id is PooledProviderId => id !== 'custom',
);

/** The prefix of a provider's environment variables: `openai` → `OPENAI` (`OPENAI_POOL_KEYS`, `OPENAI_BASE_URL`). */
export function providerEnvName(id: PooledProviderId): string {
  return id.toUpperCase().replace(/-/g, '_');
}
