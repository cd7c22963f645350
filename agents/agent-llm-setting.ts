// An agent's LLM setting checked and turned into its stored record: a managed plan, or BYOK (provider, model, base
// URL guarded against private addresses, the key's format, sandbox keys) with the key sealed to the agent and
// provider; without a new key the stored one is kept only for the same provider and endpoint.
import type { Config } from '../server/config/config';
import type { Catalog } from '../server/catalog/catalog.service';
import { invalidInput } from '../server/errors/domain-error';
import { maskSecret, type Vault } from '../server/vault/vault.service';
import { assertSafeBaseUrl } from '../server/llm/base-url-guard';
import { assertPlausibleProviderKey } from '../server/llm/providers/provider-key-format';
import type { AgentLlmRecord } from './agent.model';
import type { LlmSettingInput } from './agent.schemas';
import { isByokSandboxAvailable, isSandboxKey } from './byok-sandbox';
import { explainBaseUrlRefusal } from './base-url-advice';

/**
 * The checks of a BYOK setting that need no stored record (also used by the key test before an agent exists):
 * provider, model, base URL (only where the provider takes one, never to a private address unless the operator
 * allows it) and, when given, the key's format and whether it is a sandbox key.
 */
export function checkByokSetting(input: Extract<LlmSettingInput, { mode: 'byok' }>, catalog: Catalog, config: Config) {
  const provider = catalog.findProvider(input.provider);
  if (!provider) throw invalidInput('UNKNOWN_PROVIDER', `Unknown provider "${input.provider}".`);
  if (!catalog.findModel(input.provider, input.model)) {
    throw invalidInput('UNKNOWN_MODEL', `${provider.name} has no model "${input.model}" in the catalog.`);
  }
  const sandboxKey = input.apiKey ? isSandboxKey(input.apiKey) : false;
  if (sandboxKey && !isByokSandboxAvailable(config)) {
    throw invalidInput('SANDBOX_KEY_UNAVAILABLE', 'Sandbox keys only work while Agent Host runs in sandbox mode (outside production, or with LLM_SANDBOX=on). Paste a real provider key.');
  }
  let baseUrl: string | null = null;
  if (input.baseUrl) {
    if (input.provider !== 'custom' && !config.allowProviderBaseUrlOverride) {
      throw invalidInput('BASE_URL_NOT_ALLOWED', `${provider.name} is always called at its own address; a base URL is only taken by "Custom (OpenAI-compatible)".`);
    }
    try {
      baseUrl = assertSafeBaseUrl(input.baseUrl, { allowPrivate: config.allowPrivateBaseUrls }).toString().replace(/\/+$/, '');
    } catch (error) {
      throw invalidInput('UNSAFE_BASE_URL', explainBaseUrlRefusal(input.baseUrl, error as Error, config.allowPrivateBaseUrls));
    }
  } else if (input.provider === 'custom' && !sandboxKey) {
    throw invalidInput('BASE_URL_REQUIRED', 'A custom provider needs the base URL of its OpenAI-compatible API (for example https://llm.example.com/v1, or http://localhost:11434/v1 for Ollama).');
  }
  if (input.apiKey) assertPlausibleProviderKey(catalog, input.provider, input.apiKey);
  return { provider, baseUrl, sandboxKey };
}

/** Validates an LLM setting and seals a new key when one is given. */
export function buildLlmRecord(
  deps: { catalog: Catalog; config: Config; vault: Vault },
  workspaceId: string,
  agentId: string,
  input: LlmSettingInput,
  existing?: AgentLlmRecord,
): AgentLlmRecord {
  if (input.mode === 'managed') {
    if (!deps.catalog.findPlan(input.plan)) throw invalidInput('UNKNOWN_PLAN', `Unknown plan "${input.plan}".`);
    return { mode: 'managed', plan: input.plan, provider: null, model: null, baseUrl: null, sealedKey: null, keyMask: null, keyStatus: null, keyCheckedAt: null };
  }
  const { provider, baseUrl, sandboxKey } = checkByokSetting(input, deps.catalog, deps.config);

  const binding = { workspaceId, agentId, provider: input.provider };
  if (input.apiKey) {
    return {
      mode: 'byok',
      plan: null,
      provider: input.provider,
      model: input.model,
      baseUrl,
      sealedKey: deps.vault.seal(input.apiKey, binding),
      keyMask: maskSecret(input.apiKey),
      keyStatus: 'unchecked',
      keyCheckedAt: null,
      sandboxKey,
    };
  }
  // No new key: keep the stored one, but only for the same provider (the seal is bound to it) and the same endpoint:
  // otherwise anyone who may edit the agent could point it at their own server and receive the stored key.
  if (existing?.mode === 'byok' && existing.sealedKey && existing.provider === input.provider) {
    if ((existing.baseUrl ?? null) === baseUrl) return { ...existing, mode: 'byok', plan: null, model: input.model, baseUrl };
    throw invalidInput('API_KEY_REQUIRED', `Paste the ${provider.name} API key again to change the base URL it is sent to.`);
  }
  throw invalidInput('API_KEY_REQUIRED', `Paste your ${provider.name} API key to use your own key.`);
}

/** The setting as the audit log records it (the key's mask, never the key). */
export function describeLlm(llm: AgentLlmRecord) {
  return llm.mode === 'managed' ? { mode: 'managed', plan: llm.plan } : { mode: 'byok', provider: llm.provider, model: llm.model, baseUrl: llm.baseUrl, keyMask: llm.keyMask };
}
