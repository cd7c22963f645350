// The one normalized shape of an LLM call that everything above the provider layer speaks.

// The provider ids are data at the bottom layer (config reads them too); this is their name in the LLM vocabulary.
export { PROVIDER_IDS, type ProviderId } from '../config/provider-ids';
import type { ProviderId } from '../config/provider-ids';

/** A text part of a message. */
export interface TextPart {
  type: 'text';
  text: string;
}

/** An image part: an https URL the provider fetches, or a data URL (already checked: media type, base64, size). */
export interface ImagePart {
  type: 'image_url';
  url: string;
  detail?: 'auto' | 'low' | 'high';
  /** Set for data URLs: `image/png`, `image/jpeg`, `image/gif` or `image/webp`. */
  mediaType?: string;
  /** Set for data URLs: the base64 payload (without the `data:…;base64,` prefix). */
  base64?: string;
}

export type ContentPart = TextPart | ImagePart;

/** A tool call the model made: `arguments` is the JSON text the model wrote (OpenAI's shape). */
export interface ToolCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * One message. `content` is always the message's text (its text parts joined), so code that only reads text keeps
 * working; `parts` is set only when the message carries something besides text (images), in order.
 */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** User messages with images: every part, in order (text parts included). */
  parts?: ContentPart[];
  /** Assistant messages: the tool calls it made. */
  toolCalls?: ToolCall[];
  /** Tool messages: the id of the call this is the result of. */
  toolCallId?: string;
}

/** A function tool the model may call; `parameters` is a JSON Schema (an object schema). */
export interface ToolDefinition {
  name: string;
  description?: string;
  parameters: Record<string, unknown>;
  strict?: boolean;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; description?: string; schema: Record<string, unknown>; strict?: boolean };

/** Everything a request may ask for beyond messages, output budget and temperature (all optional: a plain call has none). */
export interface ChatOptions {
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  stop?: string[];
  topP?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
}

export interface ChatRequest extends ChatOptions {
  model: string;
  messages: ChatMessage[];
  maxTokens?: number;
  temperature?: number;
}

/** What a model can do beyond text, as catalog data (server/catalog/default-catalog.json). */
export const MODEL_CAPABILITIES = ['tools', 'vision', 'jsonSchema'] as const;
export type ModelCapability = (typeof MODEL_CAPABILITIES)[number];

/** Request parameters some providers do not have (declared per provider: ProviderDefinition.unsupportedParameters). */
export const OPTIONAL_PARAMETERS = ['topP', 'seed', 'presencePenalty', 'frequencyPenalty'] as const;
export type OptionalParameter = (typeof OPTIONAL_PARAMETERS)[number];

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
  /** Set when the model called tools. */
  toolCalls?: ToolCall[];
  usage: Usage;
  finishReason: FinishReason;
  model: string;
  providerRequestId?: string;
}

/**
 * A stream: text deltas and tool-call deltas, then exactly one `end`. Tool-call deltas follow OpenAI's stream: the
 * first delta of a call carries its `index` (0, 1, … in the order the calls start), `id` and `name`; the following
 * ones carry the same `index` and the next piece of `arguments`.
 */
export type StreamEvent =
  | { type: 'delta'; content: string }
  | { type: 'tool_call'; index: number; id?: string; name?: string; arguments: string }
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
