// The registry: one line per provider, each pointing at the provider's folder. The compiler requires exactly one
// entry per id in server/config/provider-ids.ts.
import type { OptionalParameter, ProviderAdapter, ProviderId } from '../llm.types';
import { anthropicProvider } from './anthropic/anthropic.provider';
import { customProvider } from './custom/custom.provider';
import { groqProvider } from './groq/groq.provider';
import { minimaxProvider } from './minimax/minimax.provider';
import { mistralProvider } from './mistral/mistral.provider';
import { openAiProvider } from './openai/openai.provider';
import { openRouterProvider } from './openrouter/openrouter.provider';
import type { ProviderDefinition } from './provider-definition';

export const PROVIDERS: Readonly<Record<ProviderId, ProviderDefinition>> = {
  openai: openAiProvider,
  anthropic: anthropicProvider,
  mistral: mistralProvider,
  groq: groqProvider,
  minimax: minimaxProvider,
  openrouter: openRouterProvider,
  custom: customProvider,
};

export const providerAdapters: readonly ProviderAdapter[] = Object.values(PROVIDERS).map((provider) => provider.adapter);

/** Each provider's own endpoint (see ProviderDefinition.defaultBaseUrl). */
export const DEFAULT_PROVIDER_BASE_URLS = Object.fromEntries(
  Object.entries(PROVIDERS).map(([id, provider]) => [id, provider.defaultBaseUrl]),
) as Readonly<Record<ProviderId, string>>;

export function getProviderDefinition(id: ProviderId): ProviderDefinition {
  const provider = PROVIDERS[id];
  if (!provider) throw new UnknownProviderError(id);
  return provider;
}

/** Whether the provider's API has this optional request parameter (ProviderDefinition.unsupportedParameters). */
export function providerSupportsParameter(id: ProviderId, parameter: OptionalParameter): boolean {
  return !getProviderDefinition(id).unsupportedParameters?.includes(parameter);
}

export function getProviderAdapter(id: ProviderId): ProviderAdapter {
  return getProviderDefinition(id).adapter;
}

export class UnknownProviderError extends Error {
  readonly code = 'PROVIDER_UNKNOWN';
  constructor(id: string) {
    super(`Unknown LLM provider "${id}"`);
    this.name = 'UnknownProviderError';
  }
}
