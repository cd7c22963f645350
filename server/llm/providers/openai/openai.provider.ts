// OpenAI: chat completions through the `openai` SDK, loaded on the first call (most plans use it).
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const openAiProvider: ProviderDefinition = {
  // The `openai` SDK loads on the first call (memory, #20: an idle server does not need it).
  adapter: lazyAdapter('openai', () => (require('./openai.adapter') as typeof import('./openai.adapter')).createOpenAiCompatibleAdapter('openai', {
    maxTokensParameter: 'max_completion_tokens',
    temperatureRange: { min: 0, max: 2 },
  })),
  defaultBaseUrl: 'https://api.openai.com/v1',
  simulator: {
    apiPrefix: '/openai/v1',
    baseUrlPath: '/openai/v1',
    models: ['gpt-4o-mini', 'gpt-4o'],
    createWire: () => (require('./openai.simulator-wire') as typeof import('./openai.simulator-wire')).createOpenAiWire(),
  },
  // `sk-` is shared with many OpenAI-compatible servers: nothing about it says "this is an OpenAI key".
  keyFormat: { lookAlikePrefixes: [] },
};
