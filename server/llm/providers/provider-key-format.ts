// A quick sanity check of a pasted provider key; the real check is the connection test. The catalog says which
// prefixes a provider's keys start with; each provider's folder says which prefixes give its keys away.
import { invalidInput } from '../../errors/domain-error';
import type { ProviderId } from '../llm.types';
import { PROVIDERS } from './provider-registry';

/** The part of the catalog the check reads (server/catalog's Catalog fits). */
export interface KeyFormatCatalog {
  findProvider(id: string): { id: ProviderId; name: string; keyPrefixes: readonly string[] } | undefined;
}

const LOOK_ALIKE_PREFIXES: ReadonlyArray<{ prefix: string; provider: ProviderId }> = Object.entries(PROVIDERS).flatMap(
  ([provider, definition]) => definition.keyFormat.lookAlikePrefixes.map((prefix) => ({ prefix, provider: provider as ProviderId })),
);

export function assertPlausibleProviderKey(catalog: KeyFormatCatalog, providerId: string, apiKey: string): void {
  const provider = catalog.findProvider(providerId);
  if (!provider) throw invalidInput('UNKNOWN_PROVIDER', `Unknown provider "${providerId}".`);
  if (/\s/.test(apiKey)) throw invalidInput('API_KEY_FORMAT', 'The key contains spaces or line breaks; paste it again without them.');
  if (apiKey.length < 8) throw invalidInput('API_KEY_FORMAT', 'The key is too short to be a provider key.');
  if (provider.keyPrefixes.length > 0 && !provider.keyPrefixes.some((prefix) => apiKey.startsWith(prefix))) {
    throw invalidInput('API_KEY_FORMAT', `${provider.name} keys start with "${provider.keyPrefixes[0]}". Check that you copied the whole key.`);
  }
  if (PROVIDERS[provider.id].keyFormat.acceptsOtherProvidersKeys) return;
  const other = LOOK_ALIKE_PREFIXES.find((candidate) => apiKey.startsWith(candidate.prefix) && !provider.keyPrefixes.includes(candidate.prefix));
  if (other) {
    const otherName = catalog.findProvider(other.provider)?.name ?? other.provider;
    throw invalidInput('API_KEY_FORMAT', `This looks like a key for ${otherName}, not for ${provider.name}. Choose ${otherName} as the provider, or paste your ${provider.name} key.`);
  }
}
