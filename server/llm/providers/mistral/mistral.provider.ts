// Mistral: chat completions through `@mistralai/mistralai` (not Stainless-generated: its own error ladder), loaded on first use.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const mistralProvider: ProviderDefinition = {
  adapter: lazyAdapter('mistral', () => (require('./mistral.adapter') as typeof import('./mistral.adapter')).mistralAdapter),
  defaultBaseUrl: 'https://api.mistral.ai',
  simulator: {
    apiPrefix: '/mistral/v1',
    baseUrlPath: '/mistral',
    models: ['mistral-small-latest'],
    createWire: () => (require('./mistral.simulator-wire') as typeof import('./mistral.simulator-wire')).createMistralWire(),
  },
  // Mistral keys are bare random strings.
  keyFormat: { lookAlikePrefixes: [] },
};
