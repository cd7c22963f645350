// OpenRouter: the OpenAI-compatible adapter with OpenRouter's endpoint; its wire's differences (error bodies) are in openrouter.simulator-wire.ts.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const openRouterProvider: ProviderDefinition = {
  // The `openai` SDK loads on the first call (memory, #20: an idle server does not need it).
  adapter: lazyAdapter('openrouter', () => (require('../openai/openai.adapter') as typeof import('../openai/openai.adapter')).createOpenAiCompatibleAdapter('openrouter', { maxTokensParameter: 'max_tokens', temperatureRange: { min: 0, max: 2 } })),
  defaultBaseUrl: 'https://openrouter.ai/api/v1',
  simulator: {
    apiPrefix: '/openrouter/v1',
    baseUrlPath: '/openrouter/v1',
    models: ['openai/gpt-4o-mini', 'anthropic/claude-haiku-4.5'],
    createWire: () => (require('./openrouter.simulator-wire') as typeof import('./openrouter.simulator-wire')).createOpenRouterWire(),
  },
  keyFormat: { lookAlikePrefixes: ['sk-or-'] },
};
