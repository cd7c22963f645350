// "Test the key" before an agent exists: the same checks as saving (provider, model, base URL, key format), then the
// provider's cheapest authenticated call. Nothing is stored, sealed, metered or logged; the key lives for this call.
import type { Catalog } from '../server/catalog/catalog.service';
import { domainErrorInCauses } from '../server/errors/domain-error';
import { isLlmCallError } from '../server/llm/llm-call.error';
import type { ProviderId } from '../server/llm/llm.types';
import { DEFAULT_PROVIDER_BASE_URLS } from '../server/llm/providers/provider-registry';
import type { KeyStatus } from './agent.model';
import type { ByokCredential, ProviderRouting } from './agent-ports';
import { z } from 'zod';
import { byokLlmSchema, type LlmSettingInput } from './agent.schemas';

/** The body of POST /api/workspaces/:workspaceId/llm/test: a BYOK setting whose key is required. */
export const keyPretestSchema = byokLlmSchema.extend({ apiKey: z.string().trim().min(1).max(512) }).strict();
import { describeKeyCheck } from './key-check-messages';
import type { KeyPretestResult } from '../shared/key-check-answers';

export interface ByokSettingChecker {
  checkByokSetting(input: Extract<LlmSettingInput, { mode: 'byok' }>): { provider: { name: string; keyPrefixes: readonly string[] }; baseUrl: string | null; sandboxKey: boolean };
}

export class KeyPretest {
  constructor(private readonly dependencies: { settings: ByokSettingChecker; catalog: Catalog; routing: ProviderRouting }) {}

  async test(input: Extract<LlmSettingInput, { mode: 'byok' }> & { apiKey: string }): Promise<KeyPretestResult> {
    const { provider, baseUrl, sandboxKey } = this.dependencies.settings.checkByokSetting(input);
    const startedAt = Date.now();
    const providerId = input.provider as ProviderId;
    const apiKey = input.apiKey;
    const credential: ByokCredential = { kind: 'byok', reference: 'pretest', open: () => apiKey };
    const endpoint = sandboxKey ? this.dependencies.routing.sandboxByok(providerId, credential) : this.dependencies.routing.byok(providerId, credential, baseUrl ?? undefined);
    const context = {
      providerName: provider.name,
      baseUrl: sandboxKey ? null : baseUrl,
      defaultBaseUrl: endpoint?.baseUrl ?? DEFAULT_PROVIDER_BASE_URLS[providerId],
      keyPrefix: provider.keyPrefixes[0] ?? null,
      sandbox: sandboxKey,
      sandboxAvailable: this.dependencies.routing.sandboxByok(providerId, credential) !== undefined,
    };
    let status: KeyStatus = 'valid';
    let timedOut = false;
    if (!endpoint) {
      status = 'unreachable';
    } else {
      try {
        await this.dependencies.routing.checkKey({ ...endpoint, model: input.model, maxTokens: 1, credential });
      } catch (error) {
        const ours = domainErrorInCauses(error);
        if (ours) return { ok: false, status: 'unreachable', message: ours.message, latencyMs: Date.now() - startedAt, sandbox: sandboxKey };
        const kind = isLlmCallError(error) ? error.kind : 'network';
        timedOut = kind === 'timeout';
        status = kind === 'auth' ? 'invalid' : kind === 'rate_limit' ? 'rate_limited' : kind === 'quota' ? 'quota_exceeded' : 'unreachable';
      }
    }
    return {
      ok: status === 'valid' || status === 'rate_limited',
      status,
      message: describeKeyCheck(status, { ...context, timedOut }),
      latencyMs: Date.now() - startedAt,
      sandbox: sandboxKey,
    };
  }
}
