// Where a call to a provider goes: the base URL, the credential (a BYOK key opener or a platform key pool; sandbox
// pools on the simulator), and the fetch to use (the SSRF-guarded one for custom endpoints). Built once from the config.
import type { Config, PooledProviderId } from '../config/config';
import { isSandboxedProvider } from '../config/config';
import type { ProviderId } from './llm.types';
import type { CredentialSource, RouteTarget } from './llm-router';
import { KeyPool } from './key-pool';
import { createGuardedFetch } from './base-url-guard';
import { DEFAULT_PROVIDER_BASE_URLS, getProviderAdapter } from './providers/provider-registry';

export interface SimulatorEndpoints {
  baseUrls: Record<ProviderId, string>;
}

/** The endpoint part of a route target: everything but the model and its output budget. */
export type RouteEndpoint = Omit<RouteTarget, 'model' | 'maxTokens'>;

export class ProviderRoutes {
  private readonly pools = new Map<ProviderId, KeyPool>();
  private readonly sandboxPools = new Map<ProviderId, KeyPool>();
  private readonly sandboxed = new Set<ProviderId>();
  private readonly guardedFetch: typeof fetch;

  constructor(
    private readonly config: Config,
    private readonly options: { simulator?: SimulatorEndpoints; fetch?: typeof fetch } = {},
  ) {
    for (const [provider, keys] of Object.entries(config.poolKeys)) {
      this.pools.set(provider as ProviderId, new KeyPool(provider as ProviderId, keys));
      if (isSandboxedProvider(config, provider as PooledProviderId)) this.sandboxed.add(provider as ProviderId);
    }
    this.guardedFetch = createGuardedFetch({ allowPrivate: config.allowPrivateBaseUrls });
  }

  private baseUrlOf(provider: ProviderId): string {
    return this.config.baseUrls[provider as PooledProviderId] ?? DEFAULT_PROVIDER_BASE_URLS[provider];
  }

  /** A customer's own key: the provider's endpoint, or the custom one behind the SSRF guard. */
  byok(provider: ProviderId, credential: Extract<CredentialSource, { kind: 'byok' }>, customBaseUrl: string | undefined): RouteEndpoint {
    return {
      provider,
      baseUrl: customBaseUrl ?? this.baseUrlOf(provider),
      credential,
      sandbox: false,
      fetch: customBaseUrl ? this.guardedFetch : this.options.fetch,
    };
  }

  /** A BYOK sandbox key (agents/byok-sandbox.ts): the provider's own wire format on the built-in simulator. */
  sandboxByok(provider: ProviderId, credential: Extract<CredentialSource, { kind: 'byok' }>): RouteEndpoint | undefined {
    const { simulator, fetch } = this.options;
    if (!simulator) return undefined;
    return { provider, baseUrl: simulator.baseUrls[provider], credential, sandbox: true, fetch };
  }

  /** A managed backend: the platform's key pool, the simulator when the provider is sandboxed; undefined when neither. */
  pooled(provider: ProviderId): RouteEndpoint | undefined {
    const { simulator, fetch } = this.options;
    if (provider !== 'custom' && this.sandboxed.has(provider) && simulator) {
      return { provider, baseUrl: simulator.baseUrls[provider], credential: { kind: 'pool', pool: this.sandboxPool(provider) }, sandbox: true, fetch };
    }
    const pool = this.pools.get(provider);
    if (!pool || pool.size === 0) return undefined;
    return { provider, baseUrl: this.baseUrlOf(provider), credential: { kind: 'pool', pool }, sandbox: false, fetch };
  }

  /** The provider's cheapest authenticated call with a BYOK target's key; throws LlmCallError when the key fails. */
  async checkKey(target: RouteTarget & { credential: Extract<CredentialSource, { kind: 'byok' }> }, timeoutMs = 15_000): Promise<void> {
    await getProviderAdapter(target.provider).checkKey({
      apiKey: target.credential.open(),
      baseUrl: target.baseUrl,
      signal: AbortSignal.timeout(timeoutMs),
      timeoutMs,
      fetch: target.fetch,
    });
  }

  private sandboxPool(provider: ProviderId): KeyPool {
    let pool = this.sandboxPools.get(provider);
    if (!pool) {
      pool = new KeyPool(provider, ['sandbox-platform-key']);
      this.sandboxPools.set(provider, pool);
    }
    return pool;
  }
}
