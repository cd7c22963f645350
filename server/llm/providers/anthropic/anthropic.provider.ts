// Anthropic: the Messages API through `@anthropic-ai/sdk`, loaded on first use.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';
import { createAnthropicWire } from './anthropic.simulator-wire';

export const anthropicProvider: ProviderDefinition = {
  adapter: lazyAdapter('anthropic', () => (require('./anthropic.adapter') as typeof import('./anthropic.adapter')).anthropicAdapter),
  defaultBaseUrl: 'https://api.anthropic.com',
  simulator: {
    apiPrefix: '/anthropic/v1',
    baseUrlPath: '/anthropic',
    models: ['claude-haiku-4-5', 'claude-sonnet-4-20250514'],
    createWire: createAnthropicWire,
  },
  keyFormat: { lookAlikePrefixes: ['sk-ant-'] },
};
