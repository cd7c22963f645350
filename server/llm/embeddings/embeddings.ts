// Embeddings through the providers' own SDKs (OpenAI's `embeddings.create`, Mistral's `embeddings.create`): the
// semantic response cache embeds a question with the agent's provider or the platform's. Providers without an
// embeddings API (Anthropic, Groq, …) have no entry in EMBEDDING_MODELS; an operator with none of these gets the
// exact cache only.
import type { ProviderId } from '../llm.types';

export interface EmbeddingModel {
  provider: ProviderId;
  model: string;
  /** What the provider charges per 1M input tokens (the embedding event is metered at this cost). */
  inputUsdPerMillion: number;
  /** Requested dimensions (OpenAI's text-embedding-3 models can shorten their vectors); undefined: the model's own. */
  dimensions?: number;
}

/** The embeddings model used for each provider that has one. */
export const EMBEDDING_MODELS: Partial<Record<ProviderId, EmbeddingModel>> = {
  openai: { provider: 'openai', model: 'text-embedding-3-small', inputUsdPerMillion: 0.02, dimensions: 256 },
  mistral: { provider: 'mistral', model: 'mistral-embed', inputUsdPerMillion: 0.1 },
};

export interface EmbedOptions {
  apiKey: string;
  baseUrl: string;
  signal: AbortSignal;
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface EmbeddingResult {
  vectors: number[][];
  inputTokens: number;
  model: string;
}

async function embedWithOpenAi(model: EmbeddingModel, texts: string[], options: EmbedOptions): Promise<EmbeddingResult> {
  const { default: OpenAI } = require('openai') as typeof import('openai');
  const client = new OpenAI({ apiKey: options.apiKey, baseURL: options.baseUrl, maxRetries: 0, timeout: options.timeoutMs, fetch: options.fetch, organization: null, project: null });
  const response = await client.embeddings.create({ model: model.model, input: texts, ...(model.dimensions ? { dimensions: model.dimensions } : {}) }, { signal: options.signal });
  return {
    vectors: [...response.data].sort((a, b) => a.index - b.index).map((item) => Array.from(item.embedding)),
    inputTokens: response.usage?.prompt_tokens ?? 0,
    model: response.model || model.model,
  };
}

async function embedWithMistral(model: EmbeddingModel, texts: string[], options: EmbedOptions): Promise<EmbeddingResult> {
  const { Mistral } = require('@mistralai/mistralai') as typeof import('@mistralai/mistralai');
  const client = new Mistral({ apiKey: options.apiKey, serverURL: options.baseUrl, retryConfig: { strategy: 'none' }, timeoutMs: options.timeoutMs });
  const response = await client.embeddings.create({ model: model.model, inputs: texts }, { fetchOptions: { signal: options.signal } });
  return {
    vectors: [...response.data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((item) => item.embedding ?? []),
    inputTokens: response.usage.promptTokens ?? 0,
    model: response.model || model.model,
  };
}

/** Embeds texts with the provider's SDK; throws the SDK's error when the call fails. */
export function embed(provider: ProviderId, texts: string[], options: EmbedOptions): Promise<EmbeddingResult> {
  const model = EMBEDDING_MODELS[provider];
  if (!model) return Promise.reject(new Error(`${provider} has no embeddings API here`));
  return provider === 'mistral' ? embedWithMistral(model, texts, options) : embedWithOpenAi(model, texts, options);
}

/** Cosine similarity of two vectors (1 = same direction). */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index += 1) {
    const x = a[index]!;
    const y = b[index]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
