// The runner's response-cache hook: before the call, look the request up (response-cache.service.ts); a hit is
// answered from the cache (as a stream of chunks when the request streams) and metered as one event with
// `cacheHit: true`, no tokens and the price it saved; after a successful answer, store it.
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import type { FinishReason, ProviderId } from '../server/llm/llm.types';
import { priceSnapshotFor } from '../server/metering/pricing';
import { StagedEvents } from '../server/llm/staged-events';
import type { AgentDocument } from './agent.model';
import type { UsageMeter } from './agent-ports';
import type { CachedAnswer } from './response-cache.model';
import type { CacheHit, CacheLookupInput, CacheOutcome, CacheTicket, ResponseCacheService } from './response-cache.service';
import { answerInvolvesTools } from './response-cache-key';

export type { CacheOutcome };

const SKIPPED_OFF: CacheTicket = { outcome: { status: 'skipped', reason: 'cache_off' }, store: async () => undefined };

export interface CachedRunResult {
  content: string;
  usage: { inputTokens: number; outputTokens: number };
  finishReason: FinishReason;
  provider: ProviderId;
  model: string;
  requestId: string;
}

/** Splits a cached answer into stream chunks of a few words (they concatenate back to it exactly). */
export function chunksOf(text: string, wordsPerChunk = 3): string[] {
  const pieces = text.match(/\s*\S+\s*/g) ?? [];
  const chunks: string[] = [];
  for (let index = 0; index < pieces.length; index += wordsPerChunk) chunks.push(pieces.slice(index, index + wordsPerChunk).join(''));
  const rest = text.slice(chunks.join('').length);
  if (rest) chunks.push(rest);
  return chunks.length > 0 ? chunks : [''];
}

export class RunCache {
  constructor(private readonly dependencies: { cache?: ResponseCacheService; catalog: Catalog; meter: UsageMeter }) {}

  async begin(input: CacheLookupInput, systemPrompt: () => string): Promise<CacheTicket> {
    const cache = this.dependencies.cache;
    if (!cache || (!input.agent.cache || input.agent.cache.mode === 'off')) return SKIPPED_OFF;
    // A paused agent or a full meter refuse a cached answer as they refuse a call.
    if (input.agent.status === 'paused') throw new DomainError('PLAN_LIMIT_REACHED', 'This agent is paused. Resume it to run it again.');
    if (this.dependencies.meter.isFull()) throw new DomainError('METER_BACKLOG_FULL', 'Usage recording is behind; please retry in a moment.', { retryAfterSeconds: 5 });
    return cache.begin(input, systemPrompt());
  }

  /** Whether `store` can keep anything for this ticket (not when the cache is off or answered): skip building the answer. */
  stores(ticket: CacheTicket): boolean {
    return ticket !== SKIPPED_OFF && ticket.outcome.status !== 'hit';
  }

  /** Stores a successful answer unless it asked for tool calls. */
  async store(ticket: CacheTicket, answer: CachedAnswer & object): Promise<void> {
    if (ticket.outcome.status === 'hit' || answerInvolvesTools(answer as unknown as { finishReason: string; [field: string]: unknown })) return;
    await ticket.store(answer);
  }

  /** The hit's meter event: the call counts as a request, bills no tokens, and records what it saved. */
  meterHit(input: CacheLookupInput, hit: CacheHit, requestType: 'chat' | 'stream', startedAt: number): void {
    const { agent } = input;
    const plan: Plan | undefined = agent.llm.mode === 'managed' && agent.llm.plan ? this.dependencies.catalog.findPlan(agent.llm.plan) : undefined;
    this.dependencies.meter.record({
      requestId: input.requestId,
      agentId: agent._id.toString(),
      workspaceId: agent.workspaceId.toString(),
      timestamp: new Date(),
      provider: hit.answer.provider,
      model: hit.answer.model,
      tier: plan?.tier ?? null,
      mode: agent.llm.mode,
      plan: plan?.id ?? null,
      requestType,
      status: 'ok',
      usageSource: 'provider',
      tokensInput: 0,
      tokensOutput: 0,
      latencyMs: Date.now() - startedAt,
      credential: 'cache',
      sandbox: hit.answer.sandbox,
      attempt: 1,
      priceSnapshot: priceSnapshotFor(this.dependencies.catalog, hit.answer.provider, hit.answer.model, plan),
      countsAsRequest: true,
      cacheHit: true,
      savedPriceMicros: hit.savedPriceMicros,
      ...(input.experiment ? { experiment: input.experiment } : {}),
    });
  }

  answer(input: CacheLookupInput, hit: CacheHit, startedAt: number): CachedRunResult {
    this.meterHit(input, hit, 'chat', startedAt);
    return {
      content: hit.answer.content,
      usage: { inputTokens: 0, outputTokens: 0 },
      finishReason: hit.answer.finishReason as FinishReason,
      provider: hit.answer.provider as ProviderId,
      model: hit.answer.model,
      requestId: input.requestId,
    };
  }

  answerStream(input: CacheLookupInput, hit: CacheHit, startedAt: number) {
    this.meterHit(input, hit, 'stream', startedAt);
    const chunks = chunksOf(hit.answer.content);
    async function* events() {
      for (const content of chunks) yield { type: 'delta' as const, content };
      yield { type: 'end' as const, usage: { inputTokens: 0, outputTokens: 0 }, finishReason: hit.answer.finishReason as FinishReason };
    }
    return { provider: hit.answer.provider as ProviderId, model: hit.answer.model, requestId: input.requestId, events: events() };
  }

  /** Passes a live stream through, collecting its answer, and stores it once the stream ended well. */
  recording<Event extends { type: string }>(
    ticket: CacheTicket,
    events: AsyncIterableIterator<Event>,
    answer: { provider: ProviderId; model: string; sandbox: boolean },
  ): AsyncIterableIterator<Event> {
    if (ticket.outcome.status !== 'miss' && ticket.outcome.reason !== 'client_no_cache') return events;
    const store = (cached: CachedAnswer & object) => this.store(ticket, cached);
    let content = '';
    let end: { usage: { inputTokens: number; outputTokens: number }; finishReason: string } | undefined;
    let toolCalls = false;
    // A stage of the same iterator (staged-events.ts): the answer is gathered as it goes out, stored once it ended.
    return StagedEvents.through<Event, Event>(events, {
      event(event) {
        const record = event as unknown as { type: string; content?: string; usage?: { inputTokens: number; outputTokens: number }; finishReason?: string };
        if (record.type === 'delta' && typeof record.content === 'string') content += record.content;
        if (record.type === 'tool_call') toolCalls = true;
        if (record.type === 'end') end = { usage: record.usage!, finishReason: record.finishReason! };
        return event;
      },
      async finished(outcome) {
        if (outcome === 'ended' && end && !toolCalls) await store({ content, finishReason: end.finishReason, usage: end.usage, ...answer });
      },
    });
  }
}

export function agentHasCache(agent: Pick<AgentDocument, 'cache'>): boolean {
  return Boolean(agent.cache && agent.cache.mode !== 'off');
}
