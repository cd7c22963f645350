// MiniMax: the OpenAI-compatible adapter with MiniMax's endpoint and parameter ranges.
import { createOpenAiCompatibleAdapter } from '../openai/openai.adapter';
import type { ProviderDefinition } from '../provider-definition';

export const minimaxProvider: ProviderDefinition = {
  adapter: createOpenAiCompatibleAdapter('minimax', { maxTokensParameter: 'max_tokens', temperatureRange: { min: 0.01, max: 1 } }),
  defaultBaseUrl: 'https://api.minimax.io/v1',
  simulator: {
    apiPrefix: '/minimax/v1',
    baseUrlPath: '/minimax/v1',
    models: ['MiniMax-M2.5'],
    createWire: () => (require('../openai/openai.simulator-wire') as typeof import('../openai/openai.simulator-wire')).createOpenAiWire(),
  },
  keyFormat: { lookAlikePrefixes: [] },
};
