// Runs one agent call: checks → template prompt → targets → limits (pre-call hook) → LLM router → meter (post-call
// hook, per attempt) → settle. The pieces live beside it: run-targets, run-metering, run-failures, connection-test.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import type { ChatMessage, FinishReason, ProviderId, StreamEvent } from '../server/llm/llm.types';
import { upperBoundPromptTokens } from '../server/llm/token-estimator';
import type { RouteTarget } from '../server/llm/llm-router';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts, KeyHealth, KeyOpener, LlmCalls, ProviderRouting, UsageLimits, UsageMeter } from './agent-ports';
import type { TemplateService } from './template.service';
import { RunTargetResolver, type SystemPrompt } from './run-targets';
import { CallMetering } from './run-metering';
import { RunFailures, keyRejected } from './run-failures';
import { testConnection, type ConnectionTestResult } from './connection-test';

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
}

interface PreparedCall {
  targets: RouteTarget[];
  messages: ChatMessage[];
  plan: Plan | undefined;
  metering: CallMetering;
}

export class AgentRunner {
  private readonly promptCache = new Map<string, SystemPrompt>();
  private readonly targets: RunTargetResolver;
  private readonly failures: RunFailures;

  constructor(private readonly dependencies: AgentRunnerDependencies) {
    this.targets = new RunTargetResolver({ catalog: dependencies.catalog, routing: dependencies.routing, vault: dependencies.vault });
    this.failures = new RunFailures(dependencies);
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

  private async prepare(input: RunInput, requestType: 'chat' | 'stream'): Promise<PreparedCall> {
    const { agent } = input;
    if (agent.status === 'paused') throw new DomainError('PLAN_LIMIT_REACHED', 'This agent is paused. Resume it to run it again.');
    if (agent.llm.mode === 'byok' && agent.llm.keyStatus === 'invalid') throw keyRejected();
    if (this.dependencies.meter.isFull()) {
      throw new DomainError('METER_BACKLOG_FULL', 'Usage recording is behind; please retry in a moment.', { retryAfterSeconds: 5 });
    }
    const system = this.systemPrompt(agent);
    const messages: ChatMessage[] = [{ role: 'system', content: system.prompt }, ...input.messages];
    const { targets, plan, promptTokens } = this.targets.forPrompt(agent, system, input.messages, input.maxTokens);
    const reservation = await CallMetering.reserve(this.dependencies, agent, targets[0]!, plan, promptTokens);
    const metering = new CallMetering(this.dependencies, { agent, requestId: input.requestId, requestType, plan, reservation });
    return { targets, messages, plan, metering };
  }

  private routedCall(input: RunInput, prepared: PreparedCall) {
    return {
      targets: prepared.targets,
      request: { messages: prepared.messages, temperature: input.temperature },
      signal: input.signal,
      deadlineAt: Date.now() + this.dependencies.deadlineMs,
      onAttempt: prepared.metering.onAttempt,
    };
  }

  async generate(input: RunInput): Promise<RunResult> {
    const prepared = await this.prepare(input, 'chat');
    let failed = true;
    try {
      const { result, target } = await this.dependencies.llm.generate(this.routedCall(input, prepared));
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
      throw await this.failures.toDomainError(error, input.agent);
    } finally {
      await prepared.metering.finish(failed);
    }
  }

  async stream(input: RunInput): Promise<RunStream> {
    const prepared = await this.prepare(input, 'stream');
    let session;
    try {
      session = await this.dependencies.llm.openStream(this.routedCall(input, prepared));
    } catch (error) {
      await prepared.metering.finish(true);
      throw await this.failures.toDomainError(error, input.agent);
    }
    prepared.metering.markOutputStarted();
    const failures = this.failures;
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
        throw await failures.toDomainError(error, input.agent);
      } finally {
        await prepared.metering.finish(failed);
      }
    }
    return { provider: opened.target.provider, model: opened.target.model, requestId: input.requestId, events: events() };
  }

  testConnection(agent: AgentDocument): Promise<ConnectionTestResult> {
    return testConnection({ targets: this.targets, routing: this.dependencies.routing, keyHealth: this.dependencies.keyHealth, failures: this.failures }, agent);
  }
}
