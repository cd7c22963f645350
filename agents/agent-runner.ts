// Runs one agent call: checks → template prompt → targets → limits (pre-call hook) → LLM router → meter (post-call
// hook, per attempt) → settle. The pieces live beside it: run-targets, run-metering, run-failures, connection-test.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import type { ChatMessage, ChatOptions, FinishReason, ProviderId, StreamEvent, ToolCall } from '../server/llm/llm.types';
import type { AnswerCost } from '../server/metering/meter.types';
import { upperBoundPromptTokens } from '../server/llm/token-estimator';
import type { RouteTarget } from '../server/llm/llm-router';
import { StagedEvents } from '../server/llm/staged-events';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, EndUserLimits, KeyHealth, KeyOpener, LlmCalls, MonthToDate, ProviderRouting, UsageLimits, UsageMeter } from './agent-ports';
import { normalizeEndUser, reserveForEndUser } from './run-end-user';
import type { TemplateService } from './template.service';
import { RunTargetResolver, type SystemPrompt } from './run-targets';
import { CallMetering } from './run-metering';
import { RunFailures, keyRejected } from './run-failures';
import { testConnection, type ConnectionTestResult } from './connection-test';
import type { KeyStatusSource } from './key-health.model';
import type { ProviderOutages } from './provider-outages';
// Cost-aware routing (#14)
import type { RouteDecision, RoutingTier } from '../server/llm/prompt-router';
import { RoutingStickiness } from '../server/llm/routing-stickiness';
import type { LimitReading } from './agent-ports';
import { RunRouting } from './run-routing';
import { RunFallback } from './run-fallback';
import { RunCache, type CacheOutcome } from './run-cache';
import type { ResponseCacheService } from './response-cache.service';
import { RunExperiments, type ExperimentAssigner } from './run-experiment';

export interface RunInput {
  agent: AgentDocument;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
  signal: AbortSignal;
  /**
   * The controller behind `signal`, when the caller owns one (/v1): the runner aborts it at shutdown instead of making
   * a controller of its own that follows `signal` (one controller and one abort listener fewer per call).
   */
  abortController?: AbortController;
  requestId: string;
  /** Tools, tool choice, response format, stop, sampling: passed to the provider in the normalized shape. */
  options?: ChatOptions;
  /** End-customer attribution (the request's `user` and `metadata`), stored on the meter event. */
  endUser?: string;
  metadata?: Record<string, string>;
  // Cost-aware routing (#14): a forced model (X-Agent-Host-Route) and the caller's conversation id.
  route?: RoutingTier;
  conversationId?: string;
  /** The agent API key that made the call (/v1), recorded on its meter events (activity log). */
  apiKeyId?: string;
  // Response cache and A/B experiments (cache): the client's Cache-Control, and the variant this call runs.
  cacheControl?: string;
  experiment?: { id: string; variant: string };
  /** Runs exactly the given agent setting: no experiment assignment (side-by-side comparisons). */
  pinned?: boolean;
}

/** How routing (#14) answered a call: its decision, and the plan that answered when the agent's own key failed. */
export interface RunRoutingOutcome {
  routing?: RouteDecision;
  fallbackPlan?: string;
}

export interface RunResult extends RunRoutingOutcome {
  content: string;
  toolCalls?: ToolCall[];
  /** What the call costs the customer (see AnswerCost). */
  cost?: AnswerCost;
  usage: { inputTokens: number; outputTokens: number };
  finishReason: FinishReason;
  provider: ProviderId;
  model: string;
  requestId: string;
  cache?: CacheOutcome;
  experiment?: { id: string; variant: string };
}

export type RunStreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
  | { type: 'end'; usage: { inputTokens: number; outputTokens: number }; finishReason: FinishReason; cost?: AnswerCost };

export interface RunStream extends RunRoutingOutcome {
  provider: ProviderId;
  model: string;
  requestId: string;
  events: AsyncIterableIterator<RunStreamEvent>;
  cache?: CacheOutcome;
  experiment?: { id: string; variant: string };
}

export interface AgentRunnerDependencies {
  catalog: Catalog;
  templates: TemplateService;
  vault: KeyOpener;
  llm: LlmCalls;
  routing: ProviderRouting;
  meter: UsageMeter;
  limits: UsageLimits;
  alerts: AgentAlerts;
  keyHealth: KeyHealth;
  logger: Logger;
  /** LLM_DEADLINE_MS: one call's whole budget, retries and failover included. */
  deadlineMs: number;
  /** experience (#18): recent provider outages per agent, for its health. */
  outages?: ProviderOutages;
  /** Month-to-date tokens, to price each answer (usage.cost); without it managed answers carry no price. */
  monthToDate?: MonthToDate;
  // Cost-aware routing (#14): the conversation memory (default: a fresh one) and the limit reading for degradation.
  stickiness?: RoutingStickiness;
  headroom?: LimitReading;
  // Response cache and A/B experiments (cache); absent: neither runs.
  responseCache?: ResponseCacheService;
  experiments?: ExperimentAssigner;
  /** The per-end-user monthly token cap (publish). */
  endUserLimits?: EndUserLimits;
}

/** One call in progress: its own abort (the client's hang-up or a shutdown) and the end of its metering. */
interface CallInFlight {
  controller: AbortController;
  done(): void;
  /** Its place in AgentRunner.inFlight (-1 once done). */
  slot: number;
}

interface PreparedCall {
  targets: RouteTarget[];
  messages: ChatMessage[];
  plan: Plan | undefined;
  metering: CallMetering;
  promptTokens: number;
}

export class AgentRunner {
  private readonly promptCache = new Map<string, SystemPrompt>();
  private readonly targets: RunTargetResolver;
  private readonly failures: RunFailures;
  private readonly routing: RunRouting;
  private readonly fallback: RunFallback;
  /**
   * The calls in progress, removed by swapping in the last one. Not a Set: an add and a delete per call made the Set
   * rehash its table, and a long-lived Set's new table is allocated in the old generation (docs/BENCHMARKS.md, round 3).
   */
  private readonly inFlight: CallInFlight[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private readonly cache: RunCache;
  private readonly experiments: RunExperiments;

  constructor(private readonly dependencies: AgentRunnerDependencies) {
    this.targets = new RunTargetResolver({ catalog: dependencies.catalog, routing: dependencies.routing, vault: dependencies.vault });
    this.failures = new RunFailures(dependencies);
    this.routing = new RunRouting({ ...dependencies, stickiness: dependencies.stickiness ?? new RoutingStickiness() });
    this.fallback = new RunFallback({ ...dependencies, targets: this.targets, failures: this.failures });
    this.cache = new RunCache({ cache: dependencies.responseCache, catalog: dependencies.catalog, meter: dependencies.meter });
    this.experiments = new RunExperiments(dependencies.experiments);
  }

  private systemPrompt(agent: AgentDocument, experiment?: RunInput['experiment']): SystemPrompt {
    const cacheKey = `${agent._id.toString()}:${agent.updatedAt.getTime()}${experiment ? `:${experiment.id}:${experiment.variant}` : ''}`;
    let cached = this.promptCache.get(cacheKey);
    if (!cached) {
      const prompt = this.dependencies.templates.renderAgent(agent);
      cached = { prompt, tokensBound: upperBoundPromptTokens([{ role: 'system', content: prompt }]) };
      if (this.promptCache.size > 5000) this.promptCache.clear();
      this.promptCache.set(cacheKey, cached);
    }
    return cached;
  }

  /** Follows the caller's signal (a client hang-up) and can also be cut by `abortInFlight`: both take the same path. */
  private track(input: RunInput): CallInFlight {
    const owned = input.abortController?.signal === input.signal ? input.abortController : undefined;
    const controller = owned ?? new AbortController();
    const forward = () => controller.abort(input.signal.reason);
    if (!owned) {
      if (input.signal.aborted) forward();
      else input.signal.addEventListener('abort', forward, { once: true });
    }
    const call: CallInFlight = {
      controller,
      slot: this.inFlight.length,
      done: () => {
        if (!owned) input.signal.removeEventListener('abort', forward);
        if (call.slot < 0) return;
        const last = this.inFlight.pop()!;
        if (last !== call) {
          this.inFlight[call.slot] = last;
          last.slot = call.slot;
        }
        call.slot = -1;
        if (this.inFlight.length === 0 && this.idleWaiters.length > 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      },
    };
    this.inFlight.push(call);
    return call;
  }

  /** Calls whose metering has not finished yet. */
  get callsInFlight(): number {
    return this.inFlight.length;
  }

  /** Cuts every call in progress as a client hang-up would (shutdown at its drain deadline): each meters what it got. */
  abortInFlight(reason: Error): number {
    const calls = [...this.inFlight];
    for (const call of calls) call.controller.abort(reason);
    return calls.length;
  }

  /** Resolves true once no call is in progress (every one has recorded its meter events), false at the timeout. */
  whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private async prepare(input: RunInput, requestType: 'chat' | 'stream'): Promise<PreparedCall> {
    const { agent } = input;
    if (agent.status === 'paused') throw new DomainError('PLAN_LIMIT_REACHED', 'This agent is paused. Resume it to run it again.');
    const fallbackPlan = this.fallback.consentedPlan(agent);
    const keyInvalid = agent.llm.mode === 'byok' && agent.llm.keyStatus === 'invalid';
    if (keyInvalid && !fallbackPlan) throw keyRejected();
    if (this.dependencies.meter.isFull()) {
      throw new DomainError('METER_BACKLOG_FULL', 'Usage recording is behind; please retry in a moment.', { retryAfterSeconds: 5 });
    }
    const system = this.systemPrompt(agent, input.experiment);
    const messages: ChatMessage[] = [{ role: 'system', content: system.prompt }, ...input.messages];
    const strong = this.targets.forPrompt(agent, system, input.messages, input.maxTokens, input.options);
    const { plan, promptTokens } = strong;
    // Cost-aware routing (#14): a key already known to be rejected goes straight to the consented fallback plan;
    // otherwise the router picks the light or the strong targets.
    const fallback = keyInvalid && fallbackPlan ? this.fallback.targetsFor(agent, fallbackPlan, promptTokens, input.maxTokens, input) : undefined;
    if (fallback) await this.fallback.raiseAlert(agent, fallback.plan, 'PROVIDER_KEY_INVALID');
    const routed = fallback ? { targets: fallback.targets, route: { fallbackPlan: fallback.plan } } : await this.routing.route(agent, input, strong);
    // publish: a call for an end user reserves against the per-end-user monthly cap first
    const endUser = normalizeEndUser(input.endUser);
    const endUserReservation = await reserveForEndUser(this.dependencies.endUserLimits, agent, endUser, promptTokens + routed.targets[0]!.maxTokens);
    // Near a cap or budget the reservation clamps the output budget: the targets come back with it.
    const { reservation, targets } = await CallMetering.reserve(this.dependencies, agent, routed.targets, fallback?.plan ?? plan, promptTokens).catch(async (error: unknown) => {
      if (endUserReservation) await this.dependencies.endUserLimits!.release(endUserReservation).catch(() => undefined);
      throw error;
    });
    const monthToDateLoading = CallMetering.prepareMonthToDate(this.dependencies.monthToDate, agent);
    if (monthToDateLoading) await monthToDateLoading;
    const metering = new CallMetering(this.dependencies, { agent, requestId: input.requestId, requestType, plan, reservation, endUser, metadata: input.metadata, apiKeyId: input.apiKeyId, experiment: input.experiment, endUserReservation }, routed.route);
    return { targets, messages, plan, metering, promptTokens };
  }

  /** Runs the routed call; when the agent's own key fails and its owner consented, once more on the fallback plan (#14). */
  private async withFallback<T>(input: RunInput, prepared: PreparedCall, run: (call: ReturnType<AgentRunner['routedCall']>) => Promise<T>): Promise<T> {
    try {
      return await run(this.routedCall(input, prepared));
    } catch (error) {
      if (prepared.metering.route.fallbackPlan || input.signal.aborted) throw error;
      const fallback = await this.fallback.afterFailure(error, input.agent, prepared.promptTokens, input.maxTokens, input);
      if (!fallback) throw error;
      prepared.targets = fallback.targets;
      prepared.metering.useFallback(fallback.plan);
      return run(this.routedCall(input, prepared));
    }
  }

  private outcome(prepared: PreparedCall): RunRoutingOutcome {
    const { decision, fallbackPlan } = prepared.metering.route;
    // Built field by field: a literal that starts with a spread gets a hidden class of its own per call in optimized
    // code (V8 11), an old-generation object per call (docs/BENCHMARKS.md, gateway overhead, round 3).
    const outcome: RunRoutingOutcome = {};
    if (decision) outcome.routing = decision;
    if (fallbackPlan) outcome.fallbackPlan = fallbackPlan.id;
    return outcome;
  }

  private routedCall(input: RunInput, prepared: PreparedCall) {
    return {
      targets: prepared.targets,
      request: input.options ? { messages: prepared.messages, temperature: input.temperature, ...input.options } : { messages: prepared.messages, temperature: input.temperature },
      signal: input.signal,
      deadlineAt: Date.now() + this.dependencies.deadlineMs,
      onAttempt: prepared.metering.onAttempt,
    };
  }

  /** Tracks the call (its signal becomes the call's own), then prepares it; a refused call is no longer in flight. */
  private async start(request: RunInput, requestType: 'chat' | 'stream'): Promise<{ call: CallInFlight; input: RunInput; prepared: PreparedCall }> {
    const call = this.track(request);
    const input: RunInput = Object.assign({}, request, { signal: call.controller.signal });
    try {
      return { call, input, prepared: await this.prepare(input, requestType) };
    } catch (error) {
      call.done();
      throw error;
    }
  }

  async generate(original: RunInput): Promise<RunResult> {
    const startedAt = Date.now();
    const request = await this.experiments.assign(original);
    return this.experiments.observe(request, async () => {
      const ticket = await this.cache.begin(request, () => this.systemPrompt(request.agent, request.experiment).prompt);
      if (ticket.hit) return Object.assign(this.cache.answer(request, ticket.hit, startedAt), { cache: ticket.outcome, experiment: request.experiment });
      const { call, input, prepared } = await this.start(request, 'chat');
      let failed = true;
      try {
        const { result, target } = await this.withFallback(input, prepared, (routed) => this.dependencies.llm.generate(routed));
        failed = false;
        if (this.cache.stores(ticket)) await this.cache.store(ticket, Object.assign({}, result, { content: result.content, finishReason: result.finishReason, provider: target.provider, model: target.model, sandbox: target.sandbox, usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens } }));
        return Object.assign(this.outcome(prepared), {
          content: result.content,
          ...(result.toolCalls?.length ? { toolCalls: result.toolCalls } : {}),
          usage: { inputTokens: result.usage.inputTokens, outputTokens: result.usage.outputTokens },
          finishReason: result.finishReason,
          provider: target.provider,
          model: target.model,
          requestId: input.requestId,
          cost: prepared.metering.cost,
          cache: ticket.outcome,
          experiment: input.experiment,
        });
      } catch (error) {
        throw await this.failures.toDomainError(error, input.agent);
      } finally {
        await prepared.metering.finish(failed);
        call.done();
      }
    });
  }

  async stream(original: RunInput): Promise<RunStream> {
    const startedAt = Date.now();
    const request = await this.experiments.assign(original);
    const ticket = await this.experiments.observe(request, () => this.cache.begin(request, () => this.systemPrompt(request.agent, request.experiment).prompt));
    if (ticket.hit) return { ...this.cache.answerStream(request, ticket.hit, startedAt), cache: ticket.outcome, experiment: request.experiment };
    const { call, input, prepared } = await this.experiments.observe(request, () => this.start(request, 'stream'));
    let session;
    try {
      session = await this.withFallback(input, prepared, (routed) => this.dependencies.llm.openStream(routed));
    } catch (error) {
      await prepared.metering.finish(true);
      call.done();
      this.experiments.failed(input);
      throw await this.failures.toDomainError(error, input.agent);
    }
    prepared.metering.markOutputStarted();
    const failures = this.failures;
    const experiments = this.experiments;
    const opened = session;
    // A stage of the router's iterator (staged-events.ts, #20): the end event gets the call's cost; a failure becomes
    // the domain error; when the stream is over (ended, failed, or stopped by the client) the call is metered, once.
    const events = StagedEvents.through<StreamEvent, RunStreamEvent>(opened.events, {
      event: (event) =>
        event.type === 'delta' || event.type === 'tool_call'
          ? event
          : { type: 'end', usage: { inputTokens: event.usage.inputTokens, outputTokens: event.usage.outputTokens }, finishReason: event.finishReason, cost: prepared.metering.cost },
      failed(error) {
        experiments.failed(input);
        return failures.toDomainError(error, input.agent);
      },
      async finished(outcome) {
        try {
          await prepared.metering.finish(outcome !== 'ended');
        } finally {
          call.done();
        }
      },
    });
    const answer = { provider: opened.target.provider, model: opened.target.model, sandbox: opened.target.sandbox };
    return { ...this.outcome(prepared), provider: opened.target.provider, model: opened.target.model, requestId: input.requestId, events: this.cache.recording(ticket, events, answer), cache: ticket.outcome, experiment: input.experiment };
  }

  testConnection(agent: AgentDocument, source?: KeyStatusSource): Promise<ConnectionTestResult> {
    return testConnection({ targets: this.targets, routing: this.dependencies.routing, keyHealth: this.dependencies.keyHealth, failures: this.failures, catalog: this.dependencies.catalog }, agent, source);
  }
}
