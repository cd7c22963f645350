// Runs one agent call: render the template prompt → check limits (pre-call hook) → LLM router → meter (post-call hook).
import crypto from 'node:crypto';
import type { Config, PooledProviderId } from '../server/config/config';
import { isSandboxedProvider } from '../server/config/config';
import type { Catalog, CatalogModel, Plan } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import { LlmCallError, isLlmCallError } from '../server/llm/llm-call.error';
import type { ChatMessage, FinishReason, ProviderId, StreamEvent } from '../server/llm/llm.types';
import type { AttemptReport, CredentialSource, LlmRouter, RouteTarget } from '../server/llm/llm-router';
import { KeyPool } from '../server/llm/key-pool';
import { countPromptTokens, upperBoundPromptTokens } from '../server/llm/token-estimator';
import { DEFAULT_PROVIDER_BASE_URLS } from '../server/llm/provider-endpoints';
import { getProviderAdapter } from '../server/llm/providers/provider-registry';
import { createGuardedFetch } from '../server/llm/base-url-guard';
import type { Vault } from '../server/vault/vault.service';
import type { MeterService } from '../server/metering/meter.service';
import type { LimitsService, Reservation } from '../server/metering/limits.service';
import type { AlertService } from '../server/metering/alert.service';
import { costMicros, priceSnapshotFor } from '../server/metering/pricing';
import type { AgentDocument, KeyStatus } from './agent.model';
import type { AgentService } from './agent.service';
import type { TemplateService } from './template.service';

export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;

/** A sealed key that no longer opens (moved record, retired master key): the user must paste it again. */
const storedKeyUnusable = () =>
  new DomainError('PROVIDER_KEY_UNUSABLE', 'The stored provider key of this agent can no longer be used. Paste the key again in the agent\'s LLM settings.');

export interface RunInput {
  agent: AgentDocument;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  signal: AbortSignal;
  requestId: string;
}

export interface RunResult {
  content: string;
  usage: { inputTokens: number; outputTokens: number };
  finishReason: FinishReason;
  provider: ProviderId;
  model: string;
  requestId: string;
}

export type RunStreamEvent = { type: 'delta'; content: string } | { type: 'end'; usage: { inputTokens: number; outputTokens: number }; finishReason: FinishReason };

export interface RunStream {
  provider: ProviderId;
  model: string;
  requestId: string;
  events: AsyncGenerator<RunStreamEvent>;
}

interface SystemPrompt {
  prompt: string;
  /** Never below the exact count; needs no tokenizer. */
  tokensBound: number;
  /** Counted with the tokenizer the first time a call needs it. */
  exactTokens?: number;
}

export interface SimulatorEndpoints {
  baseUrls: Record<ProviderId, string>;
}

interface PreparedCall {
  targets: RouteTarget[];
  messages: ChatMessage[];
  reservation: Reservation | undefined;
  plan: Plan | undefined;
}

/** Turns a provider failure into the contract's error, with the side effects it calls for (key status, alerts). */
export class AgentRunner {
  private readonly pools = new Map<ProviderId, KeyPool>();
  private readonly sandboxPools = new Map<ProviderId, KeyPool>();
  private readonly promptCache = new Map<string, SystemPrompt>();
  private readonly guardedFetch: typeof fetch;

  constructor(
    private readonly dependencies: {
      config: Config;
      catalog: Catalog;
      templates: TemplateService;
      vault: Vault;
      router: LlmRouter;
      meter: MeterService;
      limits: LimitsService;
      alerts: AlertService;
      agents: AgentService;
      logger: Logger;
      simulator?: SimulatorEndpoints;
      fetch?: typeof fetch;
    },
  ) {
    for (const [provider, keys] of Object.entries(dependencies.config.poolKeys)) {
      this.pools.set(provider as ProviderId, new KeyPool(provider as ProviderId, keys));
    }
    this.guardedFetch = createGuardedFetch({ allowPrivate: dependencies.config.allowPrivateBaseUrls });
  }

  private systemPrompt(agent: AgentDocument): SystemPrompt {
    const cacheKey = `${agent._id.toString()}:${agent.updatedAt.getTime()}`;
    let cached = this.promptCache.get(cacheKey);
    if (!cached) {
      const prompt = this.dependencies.templates.render(agent.templateId, agent.variables ?? {});
      cached = { prompt, tokensBound: upperBoundPromptTokens([{ role: 'system', content: prompt }]) };
      if (this.promptCache.size > 5000) this.promptCache.clear();
      this.promptCache.set(cacheKey, cached);
    }
    return cached;
  }

  private providerBaseUrl(provider: ProviderId): string {
    return this.dependencies.config.baseUrls[provider as PooledProviderId] ?? DEFAULT_PROVIDER_BASE_URLS[provider];
  }

  private sandboxPool(provider: ProviderId): KeyPool {
    let pool = this.sandboxPools.get(provider);
    if (!pool) {
      pool = new KeyPool(provider, ['sandbox-platform-key']);
      this.sandboxPools.set(provider, pool);
    }
    return pool;
  }

  /** The output budget for a model; `roomLimited` when the prompt's size, not the request, decided it. */
  private maxTokensFor(model: CatalogModel, promptTokens: number, requested: number | undefined): number | undefined {
    const wanted = Math.min(requested ?? DEFAULT_MAX_OUTPUT_TOKENS, model.maxOutputTokens ?? Number.MAX_SAFE_INTEGER);
    const room = model.contextWindow - promptTokens;
    if (room < wanted) this.roomLimited = true;
    if (room <= 0) return undefined;
    return Math.max(1, Math.min(wanted, room));
  }

  /** Set by maxTokensFor during one resolveTargets: whether an upper-bound prompt size had to be refined. */
  private roomLimited = false;

  /**
   * Routes with a tokenizer-free upper bound of the prompt's size first; only when that bound is close to a
   * context window (it never undercounts), or a limit needs the reservation, is the prompt counted exactly.
   */
  private resolveForPrompt(agent: AgentDocument, system: SystemPrompt, messages: ChatMessage[], requestedMaxTokens: number | undefined) {
    const exactCount = () => {
      system.exactTokens ??= countPromptTokens([{ role: 'system', content: system.prompt }]);
      return system.exactTokens + countPromptTokens(messages);
    };
    const needsReservation = agent.llm.mode === 'managed' ? agent.limits?.monthlyTokenCap != null : agent.limits?.monthlyBudgetMicros != null;
    if (!needsReservation) {
      const bound = system.tokensBound + upperBoundPromptTokens(messages);
      this.roomLimited = false;
      try {
        const resolved = this.resolveTargets(agent, bound, requestedMaxTokens);
        if (!this.roomLimited) return { ...resolved, promptTokens: bound };
      } catch (error) {
        if (!(error instanceof DomainError && error.code === 'PROMPT_TOO_LARGE')) throw error;
      }
    }
    const promptTokens = exactCount();
    return { ...this.resolveTargets(agent, promptTokens, requestedMaxTokens), promptTokens };
  }

  private resolveTargets(agent: AgentDocument, promptTokens: number, requestedMaxTokens: number | undefined): { targets: RouteTarget[]; plan: Plan | undefined } {
    const { catalog, config } = this.dependencies;
    const tooLarge = () => new DomainError('PROMPT_TOO_LARGE', `The conversation is too long for this agent's model (${promptTokens} tokens). Shorten it or start a new one.`);
    if (agent.llm.mode === 'byok') {
      const provider = agent.llm.provider as ProviderId;
      const model = catalog.findModel(provider, agent.llm.model ?? '');
      if (!model || !agent.llm.sealedKey) throw new DomainError('PROVIDER_KEY_INVALID', 'This agent has no usable provider key. Add one in its LLM settings.');
      const maxTokens = this.maxTokensFor(model, promptTokens, requestedMaxTokens);
      if (maxTokens === undefined) throw tooLarge();
      const sealed = agent.llm.sealedKey;
      const binding = { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider };
      const vault = this.dependencies.vault;
      const credential: CredentialSource = {
        kind: 'byok',
        reference: `byok:${agent._id.toString()}:${sealed.keyId}:${sealed.nonce.slice(0, 8)}`,
        // Opened for this one call only; never cached in plaintext.
        open: () => {
          try {
            return vault.open(sealed, binding);
          } catch {
            throw storedKeyUnusable();
          }
        },
      };
      const customUrl = agent.llm.baseUrl ?? undefined;
      return {
        plan: undefined,
        targets: [
          {
            provider,
            model: model.id,
            baseUrl: customUrl ?? this.providerBaseUrl(provider),
            credential,
            sandbox: false,
            maxTokens,
            fetch: customUrl ? this.guardedFetch : this.dependencies.fetch,
          },
        ],
      };
    }
    const plan = catalog.getPlan(agent.llm.plan ?? '');
    const targets: RouteTarget[] = [];
    let fitsSomewhere = false;
    for (const backend of plan.backends) {
      const provider = backend.provider as ProviderId;
      const model = catalog.findModel(provider, backend.model);
      if (!model) continue;
      const maxTokens = this.maxTokensFor(model, promptTokens, requestedMaxTokens);
      if (maxTokens === undefined) continue;
      fitsSomewhere = true;
      const sandbox = provider !== 'custom' && isSandboxedProvider(config, provider as PooledProviderId);
      if (sandbox && this.dependencies.simulator) {
        targets.push({ provider, model: model.id, baseUrl: this.dependencies.simulator.baseUrls[provider], credential: { kind: 'pool', pool: this.sandboxPool(provider) }, sandbox: true, maxTokens, fetch: this.dependencies.fetch });
        continue;
      }
      const pool = this.pools.get(provider);
      if (!pool || pool.size === 0) continue;
      targets.push({ provider, model: model.id, baseUrl: this.providerBaseUrl(provider), credential: { kind: 'pool', pool }, sandbox: false, maxTokens, fetch: this.dependencies.fetch });
    }
    if (!fitsSomewhere) throw tooLarge();
    if (targets.length === 0) throw new DomainError('PROVIDER_UNAVAILABLE', 'This plan has no platform keys configured right now. Please try again later.');
    return { targets, plan };
  }

  private async prepare(input: RunInput): Promise<PreparedCall> {
    const { agent } = input;
    if (agent.status === 'paused') throw new DomainError('PLAN_LIMIT_REACHED', 'This agent is paused. Resume it to run it again.');
    if (agent.llm.mode === 'byok' && agent.llm.keyStatus === 'invalid') {
      throw new DomainError('PROVIDER_KEY_INVALID', 'The provider rejected this agent\'s API key. Replace the key in the agent\'s LLM settings.');
    }
    if (this.dependencies.meter.isFull()) {
      throw new DomainError('METER_BACKLOG_FULL', 'Usage recording is behind; please retry in a moment.', { retryAfterSeconds: 5 });
    }
    const system = this.systemPrompt(agent);
    const messages: ChatMessage[] = [{ role: 'system', content: system.prompt }, ...input.messages];
    const { targets, plan, promptTokens } = this.resolveForPrompt(agent, system, input.messages, input.maxTokens);
    const primary = targets[0]!;
    const snapshot = priceSnapshotFor(this.dependencies.catalog, primary.provider, primary.model, plan);
    const reservation = await this.dependencies.limits.reserve(agent, {
      tokens: promptTokens + primary.maxTokens,
      costMicros: costMicros(promptTokens, snapshot.inputUsdPerMillion) + costMicros(primary.maxTokens, snapshot.outputUsdPerMillion),
    });
    return { targets, messages, reservation, plan };
  }

  /** Builds the per-attempt meter hook; the first metered attempt carries the reservation to settle. */
  private meterHook(input: RunInput, prepared: PreparedCall, requestType: 'chat' | 'stream', state: { reservationSettled: boolean; outputStarted: boolean }) {
    const { agent } = input;
    return (report: AttemptReport) => {
      const usage = report.usage;
      if (!usage || usage.inputTokens + usage.outputTokens <= 0) return;
      const reservation = !state.reservationSettled && prepared.reservation ? prepared.reservation : undefined;
      if (reservation) state.reservationSettled = true;
      this.dependencies.meter.record({
        requestId: report.attempt === 1 ? input.requestId : `${input.requestId}:${report.attempt}`,
        agentId: agent._id.toString(),
        workspaceId: agent.workspaceId.toString(),
        timestamp: new Date(),
        provider: report.provider,
        model: report.model,
        tier: prepared.plan?.tier ?? null,
        mode: agent.llm.mode,
        plan: prepared.plan?.id ?? null,
        requestType,
        status: report.status,
        usageSource: usage.source,
        tokensInput: usage.inputTokens,
        tokensOutput: usage.outputTokens,
        latencyMs: report.latencyMs,
        credential: report.credentialReference,
        sandbox: report.sandbox,
        attempt: report.attempt,
        priceSnapshot: priceSnapshotFor(this.dependencies.catalog, report.provider, report.model, prepared.plan),
        countsAsRequest: report.status === 'ok' || (report.status !== 'error' && state.outputStarted),
        reservation: reservation ? { tokens: reservation.tokens, costMicros: reservation.costMicros } : undefined,
        budgetMicros: agent.llm.mode === 'byok' ? agent.limits?.monthlyBudgetMicros ?? null : undefined,
      });
    };
  }

  private async finish(input: RunInput, prepared: PreparedCall, state: { reservationSettled: boolean }, failed: boolean): Promise<void> {
    if (prepared.reservation && !state.reservationSettled) {
      state.reservationSettled = true;
      await this.dependencies.limits.release(prepared.reservation).catch((error) => this.dependencies.logger.warn({ err: error }, 'could not release reservation'));
    }
    const { agent } = input;
    if (failed) {
      this.dependencies.meter.recordError({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), mode: agent.llm.mode, plan: agent.llm.plan ?? null, timestamp: new Date() });
    } else if (agent.llm.mode === 'byok' && agent.llm.keyStatus !== 'valid') {
      await this.dependencies.agents.recordKeyStatus(agent._id.toString(), 'valid').catch(() => undefined);
    }
  }

  async generate(input: RunInput): Promise<RunResult> {
    const prepared = await this.prepare(input);
    const state = { reservationSettled: false, outputStarted: false };
    let failed = true;
    try {
      const { result, target } = await this.dependencies.router.generate({
        targets: prepared.targets,
        request: { messages: prepared.messages, temperature: input.temperature },
        signal: input.signal,
        deadlineAt: Date.now() + this.dependencies.config.llmDeadlineMs,
        onAttempt: this.meterHook(input, prepared, 'chat', state),
      });
      failed = false;
      return {
        content: result.content,
        usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
        finishReason: result.finishReason,
        provider: target.provider,
        model: target.model,
        requestId: input.requestId,
      };
    } catch (error) {
      throw await this.toAppError(error, input.agent);
    } finally {
      await this.finish(input, prepared, state, failed);
    }
  }

  async stream(input: RunInput): Promise<RunStream> {
    const prepared = await this.prepare(input);
    const state = { reservationSettled: false, outputStarted: false };
    let session;
    try {
      session = await this.dependencies.router.openStream({
        targets: prepared.targets,
        request: { messages: prepared.messages, temperature: input.temperature },
        signal: input.signal,
        deadlineAt: Date.now() + this.dependencies.config.llmDeadlineMs,
        onAttempt: this.meterHook(input, prepared, 'stream', state),
      });
    } catch (error) {
      await this.finish(input, prepared, state, true);
      throw await this.toAppError(error, input.agent);
    }
    state.outputStarted = true;
    const runner = this;
    const opened = session;
    async function* events(): AsyncGenerator<RunStreamEvent> {
      let failed = true;
      try {
        for await (const event of opened.events as AsyncGenerator<StreamEvent>) {
          if (event.type === 'delta') yield event;
          else yield { type: 'end', usage: { inputTokens: event.usage.inputTokens, outputTokens: event.usage.outputTokens }, finishReason: event.finishReason };
        }
        failed = false;
      } catch (error) {
        throw await runner.toAppError(error, input.agent);
      } finally {
        await runner.finish(input, prepared, state, failed);
      }
    }
    return { provider: opened.target.provider, model: opened.target.model, requestId: input.requestId, events: events() };
  }

  /** Connection test: the provider's cheapest authenticated call; records and explains the key status. */
  async testConnection(agent: AgentDocument): Promise<{ ok: boolean; status: KeyStatus | 'managed'; message: string; latencyMs: number }> {
    const startedAt = Date.now();
    if (agent.llm.mode === 'managed') {
      try {
        const { targets } = this.resolveTargets(agent, 1, 1);
        const sandbox = targets.every((target) => target.sandbox);
        return { ok: true, status: 'valid', message: sandbox ? 'Managed plan running in sandbox mode (simulated provider).' : 'Managed plan: served from platform keys.', latencyMs: Date.now() - startedAt };
      } catch (error) {
        return { ok: false, status: 'unreachable', message: (error as Error).message, latencyMs: Date.now() - startedAt };
      }
    }
    const { targets } = this.resolveTargets(agent, 1, 1);
    const target = targets[0]!;
    const credential = target.credential as Extract<CredentialSource, { kind: 'byok' }>;
    let status: KeyStatus = 'valid';
    try {
      await getProviderAdapter(target.provider).checkKey({
        apiKey: credential.open(),
        baseUrl: target.baseUrl,
        signal: AbortSignal.timeout(15_000),
        timeoutMs: 15_000,
        fetch: target.fetch,
      });
    } catch (error) {
      if (error instanceof DomainError) return { ok: false, status: 'invalid', message: error.message, latencyMs: Date.now() - startedAt };
      const kind = isLlmCallError(error) ? error.kind : 'network';
      status = kind === 'auth' ? 'invalid' : kind === 'rate_limit' ? 'rate_limited' : kind === 'quota' ? 'quota_exceeded' : 'unreachable';
    }
    await this.dependencies.agents.recordKeyStatus(agent._id.toString(), status);
    if (status === 'invalid') await this.raiseKeyAlert(agent, 'key_invalid');
    if (status === 'quota_exceeded') await this.raiseKeyAlert(agent, 'provider_quota_exceeded');
    const messages: Record<KeyStatus, string> = {
      valid: 'Connected: the provider accepted the key.',
      invalid: 'The provider rejected this key. Check that you copied it completely and that it is still active.',
      rate_limited: 'The key works but the provider is rate limiting it right now. Try again in a minute.',
      quota_exceeded: 'The key is valid but the provider account is out of credit. Add credit with your provider.',
      unreachable: 'Could not reach the provider. Check the base URL and try again.',
      unchecked: '',
    };
    return { ok: status === 'valid' || status === 'rate_limited', status, message: messages[status], latencyMs: Date.now() - startedAt };
  }

  private async raiseKeyAlert(agent: AgentDocument, type: 'key_invalid' | 'provider_quota_exceeded'): Promise<void> {
    const incident = `${type}:${agent.llm.sealedKey?.nonce ?? 'none'}`;
    const message =
      type === 'key_invalid'
        ? `The provider rejected the API key of ${agent.name}. Calls fail until the key is replaced.`
        : `The provider account behind ${agent.name} is out of credit or over its quota.`;
    await this.dependencies.alerts
      .raise({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), type, message, incident })
      .catch((error) => this.dependencies.logger.warn({ err: error }, 'could not raise key alert'));
  }

  private async toAppError(error: unknown, agent: AgentDocument): Promise<DomainError> {
    if (error instanceof DomainError) return error;
    const failure = isLlmCallError(error) ? error : new LlmCallError({ kind: 'network', provider: 'openai', message: 'unexpected failure', cause: error });
    const byok = agent.llm.mode === 'byok';
    switch (failure.kind) {
      case 'auth':
        if (byok) {
          await this.dependencies.agents.recordKeyStatus(agent._id.toString(), 'invalid').catch(() => undefined);
          await this.raiseKeyAlert(agent, 'key_invalid');
          return new DomainError('PROVIDER_KEY_INVALID', 'The provider rejected this agent\'s API key. Replace the key in the agent\'s LLM settings.');
        }
        return new DomainError('PROVIDER_UNAVAILABLE', 'The AI provider is unavailable right now. Please try again shortly.');
      case 'quota':
        if (byok) {
          await this.dependencies.agents.recordKeyStatus(agent._id.toString(), 'quota_exceeded').catch(() => undefined);
          await this.raiseKeyAlert(agent, 'provider_quota_exceeded');
          return new DomainError('PROVIDER_QUOTA_EXCEEDED', 'Your provider account is out of credit or over its quota. Add credit with your provider, then try again.');
        }
        return new DomainError('PROVIDER_UNAVAILABLE', 'The AI provider is unavailable right now. Please try again shortly.');
      case 'rate_limit': {
        const seconds = Math.max(1, Math.ceil((failure.retryAfterMs ?? 1000) / 1000));
        return new DomainError('PROVIDER_RATE_LIMITED', 'The AI provider is rate limiting requests. Please retry after a short wait.', { retryAfterSeconds: seconds });
      }
      case 'context_length':
        return new DomainError('PROMPT_TOO_LARGE', 'The conversation is too long for this model. Shorten it or start a new one.');
      case 'bad_request':
        return new DomainError('PROVIDER_BAD_REQUEST', 'The AI provider could not accept this request (check the model and parameters).');
      case 'aborted':
        return new DomainError('CLIENT_CLOSED_REQUEST', 'The request was cancelled.');
      default:
        return new DomainError('PROVIDER_UNAVAILABLE', 'The AI provider is unavailable right now. Please try again shortly.');
    }
  }

  static newRequestId(): string {
    return `req_${crypto.randomUUID().replace(/-/g, '')}`;
  }
}
