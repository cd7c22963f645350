// OpenAI: chat completions through the `openai` SDK. Loaded at start: most plans use it.
import type { ProviderDefinition } from '../provider-definition';
import { createOpenAiCompatibleAdapter } from './openai.adapter';

export const openAiProvider: ProviderDefinition = {
  adapter: createOpenAiCompatibleAdapter('openai', {
    maxTokensParameter: 'max_completion_tokens',
    temperatureRange: { min: 0, max: 2 },
  }),
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
