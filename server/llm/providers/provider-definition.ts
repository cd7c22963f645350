// What one provider folder declares about its provider; the registry holds one of these per provider id.
import type { OptionalParameter, ProviderAdapter, ProviderId } from '../llm.types';
import type { ProviderWire } from '../simulator/simulator-wire';

export interface ProviderDefinition {
  adapter: ProviderAdapter;
  /** The provider's own endpoint, in the form its SDK takes as base URL (overridable with <PROVIDER>_BASE_URL). */
  defaultBaseUrl: string;
  simulator: SimulatedProviderRoute;
  keyFormat: ProviderKeyFormat;
  /** Request parameters this provider's API does not have: a request using one is refused (or, managed, sent elsewhere). */
  unsupportedParameters?: readonly OptionalParameter[];
}

/** Where the provider simulator serves this provider, and in which wire format. */
export interface SimulatedProviderRoute {
  /** Path prefix of the provider's API below the simulator's root (what the SDK's paths start with). */
  apiPrefix: string;
  /** Path the adapter's base URL points at: the SDKs add the rest (`/v1/...`, `/openai/v1/...`). */
  baseUrlPath: string;
  /** Models this provider lists. */
  models: readonly string[];
  /** Called once, when the simulator loads: it requires the wire module then, so other processes never load it. */
  createWire(): ProviderWire;
}

/** The provider's side of the quick key check (the prefixes its keys must start with are catalog data). */
export interface ProviderKeyFormat {
  /** Prefixes only this provider's keys have: such a key pasted for another provider was pasted in the wrong place. */
  lookAlikePrefixes: readonly string[];
  /** True when any key is fine, even one that looks like another provider's (a custom endpoint's own auth). */
  acceptsOtherProvidersKeys?: boolean;
}

/**
 * Loads an adapter (and its SDK) on first use: a process that never calls Mistral, say, does not keep that SDK's
 * tens of MB of heap, which V8 multiplies under load (docs/BENCHMARKS.md, gateway overhead).
 */
export function lazyAdapter(id: ProviderId, load: () => ProviderAdapter): ProviderAdapter {
  let adapter: ProviderAdapter | undefined;
  const loaded = () => (adapter ??= load());
  return {
    id,
    generate: (request, options) => loaded().generate(request, options),
    stream: (request, options) => loaded().stream(request, options),
    checkKey: (options) => loaded().checkKey(options),
  };
}
