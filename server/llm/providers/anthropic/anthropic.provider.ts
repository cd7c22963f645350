// Anthropic: the Messages API through `@anthropic-ai/sdk`, loaded on first use.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const anthropicProvider: ProviderDefinition = {
  adapter: lazyAdapter('anthropic', () => (require('./anthropic.adapter') as typeof import('./anthropic.adapter')).anthropicAdapter),
  defaultBaseUrl: 'https://api.anthropic.com',
  simulator: {
    apiPrefix: '/anthropic/v1',
    baseUrlPath: '/anthropic',
    models: ['claude-haiku-4-5', 'claude-sonnet-4-20250514'],
    createWire: () => (require('./anthropic.simulator-wire') as typeof import('./anthropic.simulator-wire')).createAnthropicWire(),
  },
  keyFormat: { lookAlikePrefixes: ['sk-ant-'] },
  // The Messages API has no seed or penalties, and SDK 1.x no top_p.
  unsupportedParameters: ['topP', 'seed', 'presencePenalty', 'frequencyPenalty'],
};
