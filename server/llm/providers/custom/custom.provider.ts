// Custom endpoints (Ollama, vLLM, …): the OpenAI-compatible adapter at the base URL the user gives.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const customProvider: ProviderDefinition = {
  // The `openai` SDK loads on the first call (memory, #20: an idle server does not need it).
  adapter: lazyAdapter('custom', () => (require('../openai/openai.adapter') as typeof import('../openai/openai.adapter')).createOpenAiCompatibleAdapter('custom', { maxTokensParameter: 'max_tokens', temperatureRange: { min: 0, max: 2 } })),
  // No default: the user's agent names its endpoint.
  defaultBaseUrl: '',
  simulator: {
    apiPrefix: '/custom/v1',
    baseUrlPath: '/custom/v1',
    models: ['llama3.1:8b'],
    createWire: () => (require('../openai/openai.simulator-wire') as typeof import('../openai/openai.simulator-wire')).createOpenAiWire(),
  },
  // The endpoint's own server decides what a key looks like.
  keyFormat: { lookAlikePrefixes: [], acceptsOtherProvidersKeys: true },
};
