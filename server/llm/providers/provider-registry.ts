// The one list of provider adapters. A new provider = one adapter file + one line here.
import type { ProviderAdapter, ProviderId } from '../llm.types';
import { anthropicAdapter } from './anthropic.provider';
import { groqAdapter } from './groq.provider';
import { mistralAdapter } from './mistral.provider';
import { createOpenAiCompatibleAdapter } from './openai-compatible.provider';

const PROVIDER_ADAPTERS: Readonly<Record<ProviderId, ProviderAdapter>> = {
  openai: createOpenAiCompatibleAdapter('openai'),
  anthropic: anthropicAdapter,
  mistral: mistralAdapter,
  groq: groqAdapter,
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
