// "Test connection" on an agent's LLM setting: the provider's cheapest authenticated call with the BYOK key; records
// and explains the key's status. A managed plan reports whether platform keys (or the sandbox) serve it.
import { domainErrorInCauses } from '../server/errors/domain-error';
import { isLlmCallError } from '../server/llm/llm-call.error';
import type { AgentDocument, KeyStatus } from './agent.model';
import type { ByokCredential, KeyHealth, ProviderRouting } from './agent-ports';
import type { RunTargetResolver } from './run-targets';
import type { RunFailures } from './run-failures';
import type { KeyStatusSource } from './key-health.model';
import type { Catalog } from '../server/catalog/catalog.service';
import type { RouteTarget } from '../server/llm/llm-router';
import { describeKeyCheck } from './key-check-messages';
import type { ConnectionTestResult } from '../shared/key-check-answers';

export type { ConnectionTestResult } from '../shared/key-check-answers';

/** The words of a key check for this agent (agents/key-check-messages.ts names the real cause). */
function explain(catalog: Catalog | undefined, routing: ProviderRouting, agent: AgentDocument, target: RouteTarget & { credential: ByokCredential }, status: KeyStatus, timedOut: boolean): string {
  const provider = catalog?.findProvider(agent.llm.provider ?? '');
  return describeKeyCheck(status, {
    providerName: provider?.name ?? agent.llm.provider ?? 'The provider',
    baseUrl: agent.llm.sandboxKey ? null : agent.llm.baseUrl ?? null,
    defaultBaseUrl: target.baseUrl,
    keyPrefix: provider?.keyPrefixes[0] ?? null,
    sandbox: Boolean(agent.llm.sandboxKey),
    timedOut,
    sandboxAvailable: routing.sandboxByok(target.provider, target.credential) !== undefined,
  });
}

export async function testConnection(
  dependencies: { targets: RunTargetResolver; routing: ProviderRouting; keyHealth: KeyHealth; failures: RunFailures; catalog?: Catalog },
  agent: AgentDocument,
  source: KeyStatusSource = 'connection_test',
): Promise<ConnectionTestResult> {
  const startedAt = Date.now();
  const took = () => Date.now() - startedAt;
  if (agent.llm.mode === 'managed') {
    try {
      const { targets } = dependencies.targets.resolve(agent, 1, 1);
      const sandbox = targets.every((target) => target.sandbox);
      return { ok: true, status: 'valid', message: sandbox ? 'Managed plan running in sandbox mode: the built-in simulator answers and billing is simulated.' : 'Managed plan: served from platform keys.', latencyMs: took() };
    } catch (error) {
      return { ok: false, status: 'unreachable', message: (error as Error).message, latencyMs: took() };
    }
  }
  const target = dependencies.targets.resolve(agent, 1, 1).targets[0]! as RouteTarget & { credential: ByokCredential };
  let status: KeyStatus = 'valid';
  let timedOut = false;
  try {
    await dependencies.routing.checkKey(target);
  } catch (error) {
    const ours = domainErrorInCauses(error);
    if (ours) return { ok: false, status: 'invalid', message: ours.message, latencyMs: took() };
    const kind = isLlmCallError(error) ? error.kind : 'network';
    timedOut = kind === 'timeout';
    status = kind === 'auth' ? 'invalid' : kind === 'rate_limit' ? 'rate_limited' : kind === 'quota' ? 'quota_exceeded' : 'unreachable';
  }
  await dependencies.keyHealth.recordKeyStatus(agent._id.toString(), status, source);
  if (status === 'invalid') await dependencies.failures.raiseKeyAlert(agent, 'key_invalid');
  if (status === 'quota_exceeded') await dependencies.failures.raiseKeyAlert(agent, 'provider_quota_exceeded');
  if (status === 'rate_limited' && source === 'background_check') await dependencies.failures.raiseKeyAlert(agent, 'key_rate_limited');
  return { ok: status === 'valid' || status === 'rate_limited', status, message: explain(dependencies.catalog, dependencies.routing, agent, target, status, timedOut), latencyMs: took() };
}
