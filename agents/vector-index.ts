// Vector search for the semantic response cache, behind one interface:
// - AtlasVectorIndex: MongoDB Atlas Vector Search (`$vectorSearch` on response_cache.embedding) when the deployment has
//   it (detected at start by listing the collection's search indexes; plain MongoDB and the built-in store refuse that).
// - InProcessVectorIndex: otherwise, an in-memory index per agent, bounded (least recently used entries go first),
//   filled from the database the first time an agent is searched in this process.
import type { Model } from 'mongoose';
import { Types } from 'mongoose';
import type { Logger } from '../server/logger';
import { cosineSimilarity } from '../server/llm/embeddings/embeddings';
import type { ResponseCacheEntryDocument } from './response-cache.model';

export interface VectorCandidate {
  id: string;
  scope: string;
  vector: number[];
  expiresAt: Date;
}

export interface VectorMatch {
  id: string;
  score: number;
}

export interface VectorIndex {
  readonly kind: 'atlas' | 'in-process';
  add(agentId: string, candidate: VectorCandidate): void;
  /** The closest entry of the agent in this scope with cosine similarity ≥ minScore. */
  nearest(agentId: string, scope: string, vector: number[], minScore: number): Promise<VectorMatch | undefined>;
  /** Forgets an entry (expired or removed). */
  remove(agentId: string, id: string): void;
  removeAgent(agentId: string): void;
}

interface IndexedVector {
  id: string;
  scope: string;
  vector: Float32Array;
  expiresAt: number;
}

export const DEFAULT_MAX_VECTORS_PER_AGENT = 10_000;

function normalized(vector: ArrayLike<number>): Float32Array {
  const out = Float32Array.from(vector as ArrayLike<number>);
  let norm = 0;
  for (let index = 0; index < out.length; index += 1) norm += out[index]! * out[index]!;
  norm = Math.sqrt(norm) || 1;
  for (let index = 0; index < out.length; index += 1) out[index]! /= norm;
  return out;
}

export class InProcessVectorIndex implements VectorIndex {
  readonly kind = 'in-process' as const;
  /** agentId → (entry id → vector); a Map keeps insertion order, which is the LRU order (a hit moves to the end). */
  private readonly agents = new Map<string, Map<string, IndexedVector>>();
  private readonly loading = new Map<string, Promise<void>>();

  constructor(
    private readonly options: { maxPerAgent?: number; load?: (agentId: string, limit: number) => Promise<VectorCandidate[]> } = {},
  ) {}

  private get maxPerAgent(): number {
    return this.options.maxPerAgent ?? DEFAULT_MAX_VECTORS_PER_AGENT;
  }

  private entriesOf(agentId: string): Map<string, IndexedVector> {
    let entries = this.agents.get(agentId);
    if (!entries) {
      entries = new Map();
      this.agents.set(agentId, entries);
    }
    return entries;
  }

  size(agentId: string): number {
    return this.agents.get(agentId)?.size ?? 0;
  }

  add(agentId: string, candidate: VectorCandidate): void {
    const entries = this.entriesOf(agentId);
    entries.delete(candidate.id);
    entries.set(candidate.id, { id: candidate.id, scope: candidate.scope, vector: normalized(candidate.vector), expiresAt: candidate.expiresAt.getTime() });
    while (entries.size > this.maxPerAgent) entries.delete(entries.keys().next().value!);
  }

  /** The first search of an agent in this process loads its unexpired entries from the database (newest first). */
  private async ensureLoaded(agentId: string): Promise<void> {
    if (this.agents.has(agentId) || !this.options.load) return;
    let loading = this.loading.get(agentId);
    if (!loading) {
      loading = this.options.load(agentId, this.maxPerAgent).then((candidates) => {
        const entries = this.entriesOf(agentId);
        // Oldest first, so the newest end up most recently used; entries added meanwhile stay newer.
        for (const candidate of [...candidates].reverse()) {
          if (!entries.has(candidate.id)) entries.set(candidate.id, { id: candidate.id, scope: candidate.scope, vector: normalized(candidate.vector), expiresAt: candidate.expiresAt.getTime() });
        }
        while (entries.size > this.maxPerAgent) entries.delete(entries.keys().next().value!);
      });
      this.loading.set(agentId, loading);
      loading.finally(() => this.loading.delete(agentId)).catch(() => undefined);
    }
    await loading;
  }

  async nearest(agentId: string, scope: string, vector: number[], minScore: number): Promise<VectorMatch | undefined> {
    await this.ensureLoaded(agentId);
    const entries = this.agents.get(agentId);
    if (!entries || entries.size === 0) return undefined;
    const query = normalized(vector);
    const now = Date.now();
    let best: VectorMatch | undefined;
    const expired: string[] = [];
    const dimensions = query.length;
    for (const entry of entries.values()) {
      if (entry.scope !== scope) continue;
      if (entry.expiresAt <= now) {
        expired.push(entry.id);
        continue;
      }
      const vector = entry.vector;
      if (vector.length !== dimensions) continue;
      let dot = 0;
      for (let index = 0; index < dimensions; index += 1) dot += query[index]! * vector[index]!;
      if (dot >= minScore && (!best || dot > best.score)) best = { id: entry.id, score: dot };
    }
    for (const id of expired) entries.delete(id);
    if (best) {
      const hit = entries.get(best.id)!;
      entries.delete(best.id);
      entries.set(best.id, hit);
    }
    return best;
  }

  remove(agentId: string, id: string): void {
    this.agents.get(agentId)?.delete(id);
  }

  removeAgent(agentId: string): void {
    this.agents.delete(agentId);
  }
}

export const ATLAS_VECTOR_INDEX_NAME = 'response_cache_embedding';

/**
 * Atlas Vector Search on the entries' `embedding` field, filtered by agent and scope. Atlas scores cosine similarity
 * as (1 + cos) / 2; the threshold is converted. Not exercised by the test suite (no Atlas here).
 */
export class AtlasVectorIndex implements VectorIndex {
  readonly kind = 'atlas' as const;

  constructor(private readonly model: Model<ResponseCacheEntryDocument>) {}

  add(): void {
    // The entry's document carries its embedding; Atlas indexes it.
  }

  async nearest(agentId: string, scope: string, vector: number[], minScore: number): Promise<VectorMatch | undefined> {
    const [best] = await this.model.collection
      .aggregate<{ _id: Types.ObjectId; score: number }>([
        {
          $vectorSearch: {
            index: ATLAS_VECTOR_INDEX_NAME,
            path: 'embedding',
            queryVector: vector,
            numCandidates: 100,
            limit: 1,
            filter: { agentId: new Types.ObjectId(agentId), scope },
          },
        },
        { $project: { _id: 1, score: { $meta: 'vectorSearchScore' } } },
      ])
      .toArray();
    if (!best) return undefined;
    const cosine = 2 * best.score - 1;
    return cosine >= minScore ? { id: best._id.toString(), score: cosine } : undefined;
  }

  remove(): void {}

  removeAgent(): void {}
}

/**
 * Atlas when the deployment answers `listSearchIndexes` (creating the vector index when missing), the in-process
 * index otherwise. `dimensions` is the embedding model's vector length.
 */
export async function chooseVectorIndex(model: Model<ResponseCacheEntryDocument>, logger: Logger, options: { dimensions: number; maxPerAgent?: number; load: (agentId: string, limit: number) => Promise<VectorCandidate[]> }): Promise<VectorIndex> {
  try {
    const indexes = await model.collection.listSearchIndexes().toArray();
    if (!indexes.some((index) => index.name === ATLAS_VECTOR_INDEX_NAME)) {
      await model.collection.createSearchIndex({
        name: ATLAS_VECTOR_INDEX_NAME,
        type: 'vectorSearch',
        definition: {
          fields: [
            { type: 'vector', path: 'embedding', numDimensions: options.dimensions, similarity: 'cosine' },
            { type: 'filter', path: 'agentId' },
            { type: 'filter', path: 'scope' },
          ],
        },
      } as never);
    }
    logger.info('semantic response cache: MongoDB Atlas Vector Search');
    return new AtlasVectorIndex(model);
  } catch {
    return new InProcessVectorIndex({ maxPerAgent: options.maxPerAgent, load: options.load });
  }
}

export { cosineSimilarity };
