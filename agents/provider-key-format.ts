// A quick sanity check of a pasted provider key; the real check is the connection test.
import type { Catalog } from '../server/catalog/catalog.service';
import { invalidInput } from '../server/errors/domain-error';

const LOOKS_LIKE: Array<{ prefix: string; provider: string }> = [
  { prefix: 'sk-ant-', provider: 'Anthropic' },
  { prefix: 'sk-or-', provider: 'OpenRouter' },
  { prefix: 'gsk_', provider: 'Groq' },
];

export function assertPlausibleProviderKey(catalog: Catalog, providerId: string, apiKey: string): void {
  const provider = catalog.findProvider(providerId);
  if (!provider) throw invalidInput('UNKNOWN_PROVIDER', `Unknown provider "${providerId}".`);
  if (/\s/.test(apiKey)) throw invalidInput('API_KEY_FORMAT', 'The key contains spaces or line breaks; paste it again without them.');
  if (apiKey.length < 8) throw invalidInput('API_KEY_FORMAT', 'The key is too short to be a provider key.');
  if (provider.keyPrefixes.length > 0 && !provider.keyPrefixes.some((prefix) => apiKey.startsWith(prefix))) {
    throw invalidInput('API_KEY_FORMAT', `${provider.name} keys start with "${provider.keyPrefixes[0]}". Check that you copied the whole key.`);
  }
  const other = LOOKS_LIKE.find((candidate) => apiKey.startsWith(candidate.prefix) && !provider.keyPrefixes.includes(candidate.prefix));
  if (other && provider.id !== 'custom') {
    throw invalidInput('API_KEY_FORMAT', `This looks like a key for ${other.provider}, not for ${provider.name}. Choose ${other.provider} as the provider, or paste your ${provider.name} key.`);
  }
}
