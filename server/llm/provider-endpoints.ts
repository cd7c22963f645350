// Each provider's own endpoint, in the form its SDK takes as base URL (overridable with <PROVIDER>_BASE_URL).
import type { ProviderId } from './llm.types';

export const DEFAULT_PROVIDER_BASE_URLS: Record<ProviderId, string> = {
  openai: 'https://api.openai.com/v1',
  anthropic: 'https://api.anthropic.com',
  mistral: 'https://api.mistral.ai',
  groq: 'https://api.groq.com',
  minimax: 'https://api.minimax.io/v1',
  openrouter: 'https://openrouter.ai/api/v1',
  custom: '',
};
