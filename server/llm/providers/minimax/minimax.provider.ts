// MiniMax: the OpenAI-compatible adapter with MiniMax's endpoint and parameter ranges.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const minimaxProvider: ProviderDefinition = {
  // The `openai` SDK loads on the first call (memory, #20: an idle server does not need it).
  adapter: lazyAdapter('minimax', () => (require('../openai/openai.adapter') as typeof import('../openai/openai.adapter')).createOpenAiCompatibleAdapter('minimax', { maxTokensParameter: 'max_tokens', temperatureRange: { min: 0.01, max: 1 } })),
  defaultBaseUrl: 'https://api.minimax.io/v1',
  simulator: {
    apiPrefix: '/minimax/v1',
    baseUrlPath: '/minimax/v1',
    models: ['MiniMax-M2.5'],
    createWire: () => (require('../openai/openai.simulator-wire') as typeof import('../openai/openai.simulator-wire')).createOpenAiWire(),
  },
  keyFormat: { lookAlikePrefixes: [] },
};
