// The one list of provider adapters. A new provider = one adapter file + one line here.
import type { ProviderAdapter, ProviderId } from '../llm.types';
import { createOpenAiCompatibleAdapter } from './openai-compatible.provider';

/**
 * Loads an adapter (and its SDK) on first use: a process that never calls Mistral, say, does not keep that SDK's
 * tens of MB of heap, which V8 multiplies under load (docs/BENCHMARKS.md, gateway overhead).
 */
function lazyAdapter(id: ProviderId, load: () => ProviderAdapter): ProviderAdapter {
  let adapter: ProviderAdapter | undefined;
  const loaded = () => (adapter ??= load());
  return {
    id,
    generate: (request, options) => loaded().generate(request, options),
    stream: (request, options) => loaded().stream(request, options),
    checkKey: (options) => loaded().checkKey(options),
  };
}

const PROVIDER_ADAPTERS: Readonly<Record<ProviderId, ProviderAdapter>> = {
  openai: createOpenAiCompatibleAdapter('openai'),
  anthropic: lazyAdapter('anthropic', () => (require('./anthropic.provider') as typeof import('./anthropic.provider')).anthropicAdapter),
  mistral: lazyAdapter('mistral', () => (require('./mistral.provider') as typeof import('./mistral.provider')).mistralAdapter),
  groq: lazyAdapter('groq', () => (require('./groq.provider') as typeof import('./groq.provider')).groqAdapter),
  minimax: createOpenAiCompatibleAdapter('minimax'),
  openrouter: createOpenAiCompatibleAdapter('openrouter'),
  custom: createOpenAiCompatibleAdapter('custom'),
};

export const providerAdapters: readonly ProviderAdapter[] = Object.values(PROVIDER_ADAPTERS);

export function getProviderAdapter(id: ProviderId): ProviderAdapter {
  const adapter = PROVIDER_ADAPTERS[id];
  if (!adapter) throw new UnknownProviderError(id);
  return adapter;
}

export class UnknownProviderError extends Error {
  readonly code = 'PROVIDER_UNKNOWN';
  constructor(id: string) {
    super(`Unknown LLM provider "${id}"`);
    this.name = 'UnknownProviderError';
  }
}
