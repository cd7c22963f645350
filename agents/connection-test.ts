// "Test connection" on an agent's LLM setting: the provider's cheapest authenticated call with the BYOK key; records
// and explains the key's status. A managed plan reports whether platform keys (or the sandbox) serve it.
import { domainErrorInCauses } from '../server/errors/domain-error';
import { isLlmCallError } from '../server/llm/llm-call.error';
import type { AgentDocument, KeyStatus } from './agent.model';
import type { ByokCredential, KeyHealth, ProviderRouting } from './agent-ports';
import type { RunTargetResolver } from './run-targets';
import type { RunFailures } from './run-failures';
import type { KeyStatusSource } from './key-health.model';

export interface ConnectionTestResult {
  ok: boolean;
  status: KeyStatus | 'managed';
  message: string;
  latencyMs: number;
}

const KEY_STATUS_MESSAGES: Record<KeyStatus, string> = {
  valid: 'Connected: the provider accepted the key.',
  invalid: 'The provider rejected this key. Check that you copied it completely and that it is still active.',
  rate_limited: 'The key works but the provider is rate limiting it right now. Try again in a minute.',
  quota_exceeded: 'The key is valid but the provider account is out of credit. Add credit with your provider.',
  unreachable: 'Could not reach the provider. Check the base URL and try again.',
  unchecked: '',
};

export async function testConnection(
  dependencies: { targets: RunTargetResolver; routing: ProviderRouting; keyHealth: KeyHealth; failures: RunFailures },
  agent: AgentDocument,
  source: KeyStatusSource = 'connection_test',
): Promise<ConnectionTestResult> {
  const startedAt = Date.now();
  const took = () => Date.now() - startedAt;
  if (agent.llm.mode === 'managed') {
    try {
      const { targets } = dependencies.targets.resolve(agent, 1, 1);
      const sandbox = targets.every((target) => target.sandbox);
      return { ok: true, status: 'valid', message: sandbox ? 'Managed plan running in sandbox mode (simulated provider).' : 'Managed plan: served from platform keys.', latencyMs: took() };
    } catch (error) {
      return { ok: false, status: 'unreachable', message: (error as Error).message, latencyMs: took() };
    }
  }
  const target = dependencies.targets.resolve(agent, 1, 1).targets[0]!;
  let status: KeyStatus = 'valid';
  try {
    await dependencies.routing.checkKey({ ...target, credential: target.credential as ByokCredential });
  } catch (error) {
    const ours = domainErrorInCauses(error);
    if (ours) return { ok: false, status: 'invalid', message: ours.message, latencyMs: took() };
    const kind = isLlmCallError(error) ? error.kind : 'network';
    status = kind === 'auth' ? 'invalid' : kind === 'rate_limit' ? 'rate_limited' : kind === 'quota' ? 'quota_exceeded' : 'unreachable';
  }
  await dependencies.keyHealth.recordKeyStatus(agent._id.toString(), status, source);
  if (status === 'invalid') await dependencies.failures.raiseKeyAlert(agent, 'key_invalid');
  if (status === 'quota_exceeded') await dependencies.failures.raiseKeyAlert(agent, 'provider_quota_exceeded');
  if (status === 'rate_limited' && source === 'background_check') await dependencies.failures.raiseKeyAlert(agent, 'key_rate_limited');
  return { ok: status === 'valid' || status === 'rate_limited', status, message: KEY_STATUS_MESSAGES[status], latencyMs: took() };
}
