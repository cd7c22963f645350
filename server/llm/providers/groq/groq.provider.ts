// Groq: chat completions through `groq-sdk`, loaded on first use. Its wire is OpenAI's with Groq's additions.
import { lazyAdapter, type ProviderDefinition } from '../provider-definition';

export const groqProvider: ProviderDefinition = {
  adapter: lazyAdapter('groq', () => (require('./groq.adapter') as typeof import('./groq.adapter')).groqAdapter),
  // The SDK's paths start with /openai/v1, so the base URL is the host (plus any prefix) without it.
  defaultBaseUrl: 'https://api.groq.com',
  simulator: {
    apiPrefix: '/groq/openai/v1',
    baseUrlPath: '/groq',
    models: ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant'],
    createWire: () => (require('./groq.simulator-wire') as typeof import('./groq.simulator-wire')).createGroqWire(),
  },
  keyFormat: { lookAlikePrefixes: ['gsk_'] },
};
