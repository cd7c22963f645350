// The one normalized shape of an LLM call that everything above the provider layer speaks.

// The provider ids are data at the bottom layer (config reads them too); this is their name in the LLM vocabulary.
export { PROVIDER_IDS, type ProviderId } from '../config/provider-ids';
import type { ProviderId } from '../config/provider-ids';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
}

export type UsageSource = 'provider' | 'estimated';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens?: number;
  source: UsageSource;
  /** The provider's own usage object, for debugging; never shown to clients. */
  raw?: unknown;
}

export type FinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | 'error' | 'other';

export interface GenerateResult {
  content: string;
  usage: Usage;
  finishReason: FinishReason;
  model: string;
  providerRequestId?: string;
}

export type StreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'end'; usage: Usage; finishReason: FinishReason; model: string; providerRequestId?: string };

/** Everything an adapter needs for one call. The apiKey lives only as long as this object. */
export interface ProviderCallOptions {
  apiKey: string;
  /** The base URL to pass to the SDK, already resolved by the router (env override, sandbox, or custom). */
  baseUrl: string;
  signal: AbortSignal;
  timeoutMs: number;
  /** fetch implementation given to the SDK (keep-alive undici by default). */
  fetch?: typeof fetch;
}

export interface ProviderAdapter {
  id: ProviderId;
  generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult>;
  /** Yields deltas then exactly one `end`. A stream cut after some output throws LlmCallError with `partial`. */
  stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent>;
  /** The cheapest authenticated call (e.g. list models). Resolves when the key works; throws LlmCallError otherwise. */
  checkKey(options: ProviderCallOptions): Promise<void>;
}
