// The response cache of agents: exact lookups by key in `response_cache`, semantic ones by the embedding of the last
// user message among entries of the same scope (vector-index.ts), embeddings metered as their own events, entries
// written after a successful answer. Per agent, never across agents or workspaces (every query names the agent).
// The call path reads and writes through the driver's collection (no mongoose documents or query casting): a hit is
// one indexed findOne with a projection, a miss that and its share of a batched upsert written after the answer
// (response-cache-writes.ts); hit counters are batched (response-cache-hits.ts).
import { Types, type Model } from 'mongoose';
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import type { Logger } from '../server/logger';
import type { ProviderId } from '../server/llm/llm.types';
import { EMBEDDING_MODELS, embed, type EmbeddingModel } from '../server/llm/embeddings/embeddings';
import type { AgentCacheSetting, AgentDocument } from './agent.model';
import type { KeyOpener, ProviderRouting, RouteEndpoint, UsageMeter } from './agent-ports';
import type { CachedAnswer, ResponseCacheEntryDocument } from './response-cache.model';
import { cacheKeys, cacheSettingOf, skipReason, type CacheKeys } from './response-cache-key';
import { ResponseCacheHitCounter } from './response-cache-hits';
import { ResponseCacheWrites } from './response-cache-writes';
import { withinDeadline } from './response-cache-deadline';
import { RunTargetResolver } from './run-targets';
import type { VectorIndex } from './vector-index';
import { listPriceMicros } from './variant-setting';

/** What the response headers say about one call. */
export interface CacheOutcome {
  status: 'hit' | 'miss' | 'skipped';
  /** For skipped: why (cache_off, client_no_cache, tools, temperature_above_limit); for a hit: exact or semantic. */
  reason?: string;
  similarity?: number;
}

export interface CacheHit {
  entryId: string;
  answer: CachedAnswer;
  savedPriceMicros: number;
  similarity?: number;
}

export interface CacheLookupInput {
  agent: AgentDocument;
  messages: ReadonlyArray<{ role: string; content?: unknown }>;
  temperature?: number;
  cacheControl?: string;
  requestId: string;
  experiment?: { id: string; variant: string };
  signal: AbortSignal;
}

/** One call's view of the cache: the outcome so far, a hit, and how to store the answer on a miss. */
export interface CacheTicket {
  outcome: CacheOutcome;
  hit?: CacheHit;
  /** Stores a successful answer (does nothing when the call was skipped or the answer must not be cached). */
  store(answer: CachedAnswer): Promise<void>;
}

interface EmbeddingRoute {
  model: EmbeddingModel;
  endpoint: RouteEndpoint;
}

export interface ResponseCacheDependencies {
  model: Model<ResponseCacheEntryDocument>;
  catalog: Catalog;
  routing: ProviderRouting;
  vault: KeyOpener;
  meter: UsageMeter;
  logger: Logger;
  /** Set when semantic lookups can run (the vector index the deployment supports). */
  vectors?: VectorIndex;
}

const EMBEDDING_TIMEOUT_MS = 10_000;
const NOOP_STORE = async () => undefined;

/** What a lookup reads of an entry. */
type LookedUpEntry = Pick<ResponseCacheEntryDocument, '_id' | 'key' | 'answer' | 'savedPriceMicros'>;
const LOOKUP_PROJECTION = { _id: 1, key: 1, answer: 1, savedPriceMicros: 1 } as const;

export class ResponseCacheService {
  private readonly targets: RunTargetResolver;
  private readonly hits: ResponseCacheHitCounter;
  private readonly writes: ResponseCacheWrites;

  constructor(private readonly dependencies: ResponseCacheDependencies) {
    this.targets = new RunTargetResolver({ catalog: dependencies.catalog, routing: dependencies.routing, vault: dependencies.vault });
    this.hits = new ResponseCacheHitCounter(() => dependencies.model.collection, dependencies.logger);
    this.writes = new ResponseCacheWrites(() => dependencies.model.collection, dependencies.logger);
  }

  /** For shutdown: lets the writes in flight land and writes the hit counts (before the database closes). */
  async stop(): Promise<void> {
    await this.writes.settled();
    await this.hits.flush();
  }

  get vectorIndexKind(): VectorIndex['kind'] | undefined {
    return this.dependencies.vectors?.kind;
  }

  /**
   * Where this agent's embeddings come from: a BYOK agent of a provider with an embeddings API uses its own key;
   * a managed agent uses the platform's OpenAI or Mistral (pool keys, or the simulator in the sandbox). Undefined:
   * no embeddings provider, so this agent gets the exact cache only.
   */
  embeddingRoute(agent: AgentDocument): EmbeddingRoute | undefined {
    if (!this.dependencies.vectors) return undefined;
    if (agent.llm.mode === 'byok') {
      const provider = agent.llm.provider as ProviderId;
      const model = EMBEDDING_MODELS[provider];
      if (!model || agent.llm.baseUrl || !agent.llm.sealedKey) return undefined;
      try {
        const [target] = this.targets.resolve(agent, 0, 1).targets;
        return target ? { model, endpoint: target } : undefined;
      } catch {
        return undefined;
      }
    }
    for (const provider of ['openai', 'mistral'] as const) {
      const endpoint = this.dependencies.routing.pooled(provider);
      if (endpoint) return { model: EMBEDDING_MODELS[provider]!, endpoint };
    }
    return undefined;
  }

  private planOf(agent: AgentDocument): Plan | undefined {
    return agent.llm.mode === 'managed' && agent.llm.plan ? this.dependencies.catalog.findPlan(agent.llm.plan) : undefined;
  }

  /** What an answer would be billed again if asked again (variant-setting.ts, listPriceMicros). */
  savedPriceOf(agent: AgentDocument, answer: CachedAnswer): number {
    return listPriceMicros(this.dependencies.catalog, agent, answer);
  }

  async begin(input: CacheLookupInput, systemPrompt: string): Promise<CacheTicket> {
    const setting = cacheSettingOf(input.agent);
    const skipped = skipReason(setting, input);
    if (skipped) {
      // "no-cache" asks for a fresh answer, which may still be stored; "no-store" and the rest store nothing.
      if (skipped === 'client_no_cache' && input.cacheControl === 'no-cache') {
        const keys = cacheKeys(input, systemPrompt);
        return { outcome: { status: 'skipped', reason: skipped }, store: (answer) => this.store(input, setting, keys, undefined, answer) };
      }
      return { outcome: { status: 'skipped', reason: skipped }, store: NOOP_STORE };
    }
    const keys = cacheKeys(input, systemPrompt);
    const now = new Date();
    const agentId = input.agent._id;
    // This instance is still writing that very answer (asked again at once): look it up once it landed.
    const landing = this.writes.landing(agentId, keys.key);
    if (landing && !(await withinDeadline(landing.then(() => true), false))) return { outcome: { status: 'skipped', reason: 'cache_unavailable' }, store: NOOP_STORE };
    const exact = await withinDeadline<LookedUpEntry | null | 'unavailable'>(
      this.dependencies.model.collection.findOne({ agentId, workspaceId: input.agent.workspaceId, key: keys.key, expiresAt: { $gt: now } }, { projection: LOOKUP_PROJECTION }) as Promise<LookedUpEntry | null>,
      'unavailable',
    );
    if (exact === 'unavailable') return { outcome: { status: 'skipped', reason: 'cache_unavailable' }, store: NOOP_STORE };
    if (exact) {
      this.hits.count(agentId, exact.key, now);
      return { outcome: { status: 'hit', reason: 'exact' }, hit: { entryId: exact._id.toString(), answer: exact.answer, savedPriceMicros: exact.savedPriceMicros }, store: NOOP_STORE };
    }
    let embedding: number[] | undefined;
    let reason: string | undefined;
    if (setting.mode === 'semantic') {
      const semantic = await this.semanticLookup(input, setting, keys, now);
      if (semantic.hit) return { outcome: { status: 'hit', reason: 'semantic', similarity: semantic.hit.similarity }, hit: semantic.hit, store: NOOP_STORE };
      embedding = semantic.embedding;
      reason = semantic.reason;
    }
    return { outcome: { status: 'miss', ...(reason ? { reason } : {}) }, store: (answer) => this.store(input, setting, keys, embedding, answer) };
  }

  private async semanticLookup(input: CacheLookupInput, setting: AgentCacheSetting, keys: CacheKeys, now: Date): Promise<{ hit?: CacheHit; embedding?: number[]; reason?: string }> {
    const vectors = this.dependencies.vectors;
    const route = this.embeddingRoute(input.agent);
    if (!vectors || !route || !keys.lastUserText.trim()) return { reason: 'semantic_unavailable' };
    let embedding: number[];
    try {
      embedding = await this.embedMetered(input, route, keys.lastUserText);
    } catch (error) {
      // Only the status: an SDK's error message may quote part of the key.
      const status = (error as { status?: unknown }).status;
      this.dependencies.logger.warn({ agentId: input.agent._id.toString(), status: typeof status === 'number' ? status : undefined, error: (error as Error).name }, 'embedding failed; exact cache only for this call');
      return { reason: 'embedding_failed' };
    }
    const agentId = input.agent._id.toString();
    const match = await vectors.nearest(agentId, keys.scope, embedding, setting.similarityThreshold);
    if (!match) return { embedding };
    const entry = await withinDeadline(
      this.dependencies.model.collection.findOne(
        { _id: new Types.ObjectId(match.id), agentId: input.agent._id, workspaceId: input.agent.workspaceId, scope: keys.scope, expiresAt: { $gt: now } },
        { projection: LOOKUP_PROJECTION },
      ) as Promise<LookedUpEntry | null>,
      null,
    );
    if (!entry) {
      vectors.remove(agentId, match.id);
      return { embedding };
    }
    this.hits.count(input.agent._id, entry.key, now);
    return { hit: { entryId: entry._id.toString(), answer: entry.answer, savedPriceMicros: entry.savedPriceMicros, similarity: Math.round(match.score * 10_000) / 10_000 } };
  }

  /** One embeddings call through the provider's SDK, metered as an `embedding` event at the provider's price. */
  private async embedMetered(input: CacheLookupInput, route: EmbeddingRoute, text: string): Promise<number[]> {
    const { agent } = input;
    const credential = route.endpoint.credential;
    const leased = credential.kind === 'byok' ? { apiKey: credential.open(), reference: credential.reference } : credential.pool.lease();
    if (!leased) throw new Error('no platform key available for embeddings');
    const startedAt = Date.now();
    const result = await embed(route.model.provider, [text], {
      apiKey: leased.apiKey,
      baseUrl: route.endpoint.baseUrl,
      signal: AbortSignal.any([input.signal, AbortSignal.timeout(EMBEDDING_TIMEOUT_MS)]),
      timeoutMs: EMBEDDING_TIMEOUT_MS,
      fetch: route.endpoint.fetch,
    });
    const plan = this.planOf(agent);
    if (result.inputTokens > 0) {
      this.dependencies.meter.record({
        requestId: `${input.requestId}:embedding`,
        agentId: agent._id.toString(),
        workspaceId: agent.workspaceId.toString(),
        timestamp: new Date(),
        provider: route.model.provider,
        model: route.model.model,
        tier: plan?.tier ?? null,
        mode: agent.llm.mode,
        plan: plan?.id ?? null,
        requestType: 'embedding',
        status: 'ok',
        usageSource: 'provider',
        tokensInput: result.inputTokens,
        tokensOutput: 0,
        latencyMs: Date.now() - startedAt,
        credential: leased.reference,
        sandbox: route.endpoint.sandbox,
        attempt: 1,
        priceSnapshot: { inputUsdPerMillion: route.model.inputUsdPerMillion, outputUsdPerMillion: 0, overageUsdPerMillion: plan?.overageUsdPerMillion ?? 0, includedTokens: plan?.includedTokens ?? 0 },
        countsAsRequest: false,
        ...(input.experiment ? { experiment: input.experiment } : {}),
      });
    }
    const vector = result.vectors[0];
    if (!vector || vector.length === 0) throw new Error('the embeddings answer had no vector');
    return vector;
  }

  /**
   * Starts storing a successful answer and returns at once: the write lands after the call is answered (given up
   * after 1 s). While it is on its way a lookup of the same question on this instance waits for it, and a second
   * answer to the same question is not written again.
   */
  private async store(input: CacheLookupInput, setting: AgentCacheSetting, keys: CacheKeys, embedding: number[] | undefined, answer: CachedAnswer): Promise<void> {
    if (answer.finishReason !== 'stop' && answer.finishReason !== 'length') return;
    const now = new Date();
    const expiresAt = new Date(now.getTime() + setting.ttlSeconds * 1000);
    const { agent } = input;
    // Only the answer's own fields (the caller may hand over a whole provider result).
    const stored: CachedAnswer = {
      content: answer.content,
      finishReason: answer.finishReason,
      provider: answer.provider,
      model: answer.model,
      usage: { inputTokens: answer.usage.inputTokens, outputTokens: answer.usage.outputTokens },
      sandbox: answer.sandbox,
    };
    const savedPriceMicros = this.savedPriceOf(agent, stored);
    const entry = { agentId: agent._id, key: keys.key };
    const update = {
      $set: { workspaceId: agent.workspaceId, scope: keys.scope, answer: stored, savedPriceMicros, createdAt: now, expiresAt, ...(embedding ? { embedding } : {}) },
      $setOnInsert: { hits: 0, lastHitAt: null },
    };
    if (!embedding) this.writes.queue(entry, update);
    else this.writes.start(entry, () => this.writeSemantic(input, keys, embedding, update, expiresAt));
  }

  /** A semantic entry: upserted on its own, then put into the vector index under its id. */
  private async writeSemantic(input: CacheLookupInput, keys: CacheKeys, embedding: number[], update: Record<string, unknown>, expiresAt: Date): Promise<void> {
    const { agent } = input;
    try {
      const stored = await this.dependencies.model.collection.findOneAndUpdate({ agentId: agent._id, key: keys.key }, update, { upsert: true, returnDocument: 'after', projection: { _id: 1 } });
      if (stored) this.dependencies.vectors?.add(agent._id.toString(), { id: stored._id.toString(), scope: keys.scope, vector: embedding, expiresAt });
    } catch (error) {
      // A lost cache write costs a future hit, never this answer.
      this.dependencies.logger.warn({ err: error, agentId: agent._id.toString() }, 'could not store a cached answer');
    }
  }

  /** Entries of an agent still cached (and the ones hit), for the cache tab. */
  async stats(agent: Pick<AgentDocument, '_id' | 'workspaceId'>): Promise<{ entries: number; hits: number }> {
    // This instance's writes and hit counts first (another instance's show within its flush interval).
    await this.writes.settled(agent._id);
    await this.hits.flush();
    const [row] = await this.dependencies.model
      .aggregate<{ entries: number; hits: number }>([
        { $match: { agentId: agent._id, workspaceId: agent.workspaceId, expiresAt: { $gt: new Date() } } },
        { $group: { _id: null, entries: { $sum: 1 }, hits: { $sum: '$hits' } } },
      ]);
    return { entries: row?.entries ?? 0, hits: row?.hits ?? 0 };
  }

  /** Empties an agent's cache. */
  async clear(agent: Pick<AgentDocument, '_id' | 'workspaceId'>): Promise<number> {
    // An answer this instance is still writing would land after the delete: let it land first.
    await this.writes.settled(agent._id);
    this.hits.forgetAgent(agent._id);
    const result = await this.dependencies.model.deleteMany({ agentId: agent._id, workspaceId: agent.workspaceId });
    this.dependencies.vectors?.removeAgent(agent._id.toString());
    return result.deletedCount;
  }

  /** For the in-process index's first search of an agent: its unexpired entries with embeddings, newest first. */
  static loader(model: Model<ResponseCacheEntryDocument>) {
    return async (agentId: string, limit: number) => {
      const entries = await model
        .find({ agentId: new Types.ObjectId(agentId), expiresAt: { $gt: new Date() }, embedding: { $exists: true } }, { _id: 1, scope: 1, embedding: 1, expiresAt: 1 })
        .sort({ createdAt: -1 })
        .limit(limit)
        .lean<Array<Pick<ResponseCacheEntryDocument, '_id' | 'scope' | 'embedding' | 'expiresAt'>>>();
      return entries.filter((entry) => entry.embedding && entry.embedding.length > 0).map((entry) => ({ id: entry._id.toString(), scope: entry.scope, vector: entry.embedding!, expiresAt: entry.expiresAt }));
    };
  }
}
