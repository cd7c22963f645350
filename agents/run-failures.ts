// A failed agent call as the contract's error, with what it implies: a BYOK key marked invalid or out of quota, and
// the owner alerted once per incident.
import { DomainError, domainErrorInCauses } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import { LlmCallError, isLlmCallError } from '../server/llm/llm-call.error';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, KeyHealth } from './agent-ports';
import type { ProviderOutages } from './provider-outages';

const providerUnavailable = () => new DomainError('PROVIDER_UNAVAILABLE', 'The AI provider is unavailable right now. Please try again shortly.');

export const keyRejected = () => new DomainError('PROVIDER_KEY_INVALID', "The provider rejected this agent's API key. Replace the key in the agent's LLM settings.");

export class RunFailures {
  constructor(private readonly dependencies: { keyHealth: KeyHealth; alerts: AgentAlerts; logger: Logger; outages?: ProviderOutages }) {}

  async toDomainError(error: unknown, agent: AgentDocument): Promise<DomainError> {
    // Ours, also when it surfaces inside a provider failure (the SSRF guard refusing at connect time).
    const ours = domainErrorInCauses(error);
    if (ours) return ours;
    const failure = isLlmCallError(error) ? error : new LlmCallError({ kind: 'network', provider: 'openai', message: 'unexpected failure', cause: error });
    const byok = agent.llm.mode === 'byok';
    switch (failure.kind) {
      case 'auth':
        if (!byok) return providerUnavailable();
        await this.dependencies.keyHealth.recordKeyStatus(agent._id.toString(), 'invalid').catch(() => undefined);
        await this.raiseKeyAlert(agent, 'key_invalid');
        return keyRejected();
      case 'quota':
        if (!byok) return providerUnavailable();
        await this.dependencies.keyHealth.recordKeyStatus(agent._id.toString(), 'quota_exceeded').catch(() => undefined);
        await this.raiseKeyAlert(agent, 'provider_quota_exceeded');
        return new DomainError('PROVIDER_QUOTA_EXCEEDED', 'Your provider account is out of credit or over its quota. Add credit with your provider, then try again.');
      case 'rate_limit':
        // Still rate limited after the router's retries: on the customer's own key that is the key's state, and news.
        if (byok) {
          await this.dependencies.keyHealth.recordKeyStatus(agent._id.toString(), 'rate_limited').catch(() => undefined);
          await this.raiseKeyAlert(agent, 'key_rate_limited');
        }
        return new DomainError('PROVIDER_RATE_LIMITED', 'The AI provider is rate limiting requests. Please retry after a short wait.', {
          retryAfterSeconds: Math.max(1, Math.ceil((failure.retryAfterMs ?? 1000) / 1000)),
        });
      case 'context_length':
        return new DomainError('PROMPT_TOO_LARGE', 'The conversation is too long for this model. Shorten it or start a new one.');
      case 'bad_request':
        return new DomainError('PROVIDER_BAD_REQUEST', 'The AI provider could not accept this request (check the model and parameters).');
      case 'aborted':
        return new DomainError('CLIENT_CLOSED_REQUEST', 'The request was cancelled.');
      default:
        this.dependencies.outages?.recordFailure(agent._id.toString());
        return providerUnavailable();
    }
  }

  async raiseKeyAlert(agent: AgentDocument, type: 'key_invalid' | 'provider_quota_exceeded' | 'key_rate_limited'): Promise<void> {
    const incident = `${type}:${agent.llm.sealedKey?.nonce ?? 'none'}`;
    const message =
      type === 'key_invalid'
        ? `The provider rejected the API key of ${agent.name}. Calls fail until the key is replaced.`
        : type === 'key_rate_limited'
          ? `The provider keeps rate limiting the API key of ${agent.name}, even after retries. Calls fail until it lets up; you can ask your provider for a higher rate limit.`
          : `The provider account behind ${agent.name} is out of credit or over its quota.`;
    await this.dependencies.alerts
      .raise({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), type, message, incident })
      .catch((error) => this.dependencies.logger.warn({ err: error }, 'could not raise key alert'));
  }
}
