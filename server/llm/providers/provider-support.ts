// What every adapter shares when it rewrites a provider failure into one LlmCallError: HTTP facts →
// kind, retry-after parsing, request ids, key redaction, and the partial result of a broken stream.
import { LlmCallError, type LlmErrorKind } from '../llm-call.error';
import { domainErrorInCauses } from '../../errors/domain-error';
import type { ChatRequest, FinishReason, ProviderCallOptions, ProviderId, StreamEvent, Usage } from '../llm.types';
import { randomUUID } from 'node:crypto';
import { estimateUsage } from '../token-estimator';

/** What a provider's error response says, read by the provider's own converter. */
export interface ProviderErrorFacts {
  /** HTTP status; undefined for an error event inside a 200 stream. */
  status: number | undefined;
  headers: Headers | undefined;
  /** `error.type` of the body (OpenAI `insufficient_quota`, Anthropic `overloaded_error`, …). */
  errorType?: string | null | undefined;
  /** `error.code` of the body (OpenAI `context_length_exceeded`, Anthropic `error_code`, …). */
  errorCode?: string | null | undefined;
  providerMessage?: string | null | undefined;
  providerRequestId?: string | null | undefined;
}

/** Who is calling: enough to name the provider and keep the key out of every message. */
export interface ProviderErrorContext {
  provider: ProviderId;
  apiKey: string;
  signal: AbortSignal;
}

const MAX_MESSAGE_LENGTH = 500;
const REQUEST_ID_HEADERS = ['x-request-id', 'request-id', 'mistral-correlation-id', 'x-kong-request-id'];

const QUOTA_MARKERS = /insufficient[_ ]quota|exceeded your current quota|insufficient[_ ]credits?|credit balance|billing|spend[_ ]limit|payment[_ ]required/i;
const CONTEXT_LENGTH_MARKERS =
  /context[_ ]length[_ ]exceeded|context length|context window|prompt is too long|maximum context|too many (input )?tokens|reduce the length/i;

/** The provider-independent part of the mapping; order matters (a 429 that says "no credit" is quota). */
export function classifyProviderError(facts: ProviderErrorFacts): LlmErrorKind {
  const { status } = facts;
  const markers = [facts.errorType, facts.errorCode, facts.providerMessage].filter(Boolean).join(' ');
  // Redirects are never followed (fetch runs with redirect: 'manual'); a 3xx is a misconfigured base URL.
  if (status !== undefined && status >= 300 && status < 400) return 'bad_request';
  if (status === 401) return 'auth';
  if (status === 402 || ((status === undefined || status < 500) && QUOTA_MARKERS.test(markers))) return 'quota';
  if (status === 403) return 'auth';
  if (status === 429) return 'rate_limit';
  if (status === 529 || facts.errorType === 'overloaded_error') return 'overloaded';
  if (status === 408 || facts.errorType === 'timeout_error') return 'timeout';
  if (status !== undefined && status >= 500) return 'server';
  if (CONTEXT_LENGTH_MARKERS.test(markers)) return 'context_length';
  if (status !== undefined && status >= 400) return 'bad_request';
  return classifyStreamErrorType(facts.errorType);
}

/** An error event inside a stream has no status; only its type says what happened. */
function classifyStreamErrorType(errorType: string | null | undefined): LlmErrorKind {
  switch (errorType) {
    case 'authentication_error':
    case 'permission_error':
      return 'auth';
    case 'rate_limit_error':
    case 'rate_limit_exceeded':
      return 'rate_limit';
    case 'invalid_request_error':
      return 'bad_request';
    default:
      return 'server';
  }
}

/** `retry-after-ms` (OpenAI-style, milliseconds) wins over `retry-after` (seconds or an HTTP date). */
export function readRetryAfterMs(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const milliseconds = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return Math.round(milliseconds);
  const retryAfter = headers.get('retry-after');
  if (!retryAfter) return undefined;
  const seconds = Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(retryAfter);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}

export function readProviderRequestId(headers: Headers | undefined | null): string | undefined {
  if (!headers) return undefined;
  for (const name of REQUEST_ID_HEADERS) {
    const value = headers.get(name);
    if (value) return value;
  }
  return undefined;
}

/** A provider (or a hostile custom endpoint) may echo the key back; it never leaves in our messages. */
export function redactApiKey(text: string, apiKey: string): string {
  const redacted = apiKey.length > 0 ? text.split(apiKey).join('[redacted]') : text;
  return redacted.length > MAX_MESSAGE_LENGTH ? `${redacted.slice(0, MAX_MESSAGE_LENGTH)}…` : redacted;
}

export function createHttpLlmCallError(facts: ProviderErrorFacts, context: ProviderErrorContext): LlmCallError {
  const kind = classifyProviderError(facts);
  const statusText = facts.status === undefined ? 'stream error' : `HTTP ${facts.status}`;
  const detail = facts.providerMessage ? `: ${facts.providerMessage}` : '';
  return new LlmCallError({
    kind,
    provider: context.provider,
    status: facts.status,
    message: redactApiKey(`${context.provider} ${statusText} (${kind})${detail}`, context.apiKey),
    retryAfterMs: readRetryAfterMs(facts.headers),
    providerRequestId: facts.providerRequestId ?? readProviderRequestId(facts.headers),
  });
}

/** Failures with no HTTP response: the connection, the timeout, the caller's abort. */
export function createTransportLlmCallError(
  kind: Extract<LlmErrorKind, 'timeout' | 'network' | 'aborted' | 'server' | 'bad_request'>,
  detail: string,
  context: ProviderErrorContext,
  failure?: unknown,
): LlmCallError {
  // Only our own refusal (the SSRF guard's, raised inside fetch) is kept as the cause, never SDK internals; it is the
  // request's fault, so it is not retried.
  const ours = domainErrorInCauses(failure);
  return new LlmCallError({
    kind: ours ? 'bad_request' : kind,
    provider: context.provider,
    message: redactApiKey(`${context.provider} ${kind}: ${detail}`, context.apiKey),
    cause: ours,
  });
}

/** Errors no SDK wrapped: fetch failures while reading a stream body, malformed SSE, timeouts. */
export function convertUnwrappedError(error: unknown, context: ProviderErrorContext): LlmCallError {
  if (context.signal.aborted) return createTransportLlmCallError('aborted', 'the call was aborted', context);
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'TimeoutError') return createTransportLlmCallError('timeout', message, context);
  if (name === 'AbortError') return createTransportLlmCallError('aborted', message, context);
  if (error instanceof SyntaxError) return createTransportLlmCallError('server', `malformed response: ${message}`, context);
  return createTransportLlmCallError('network', describeNetworkError(error), context, error);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

export function missingApiKeyError(context: Omit<ProviderErrorContext, 'signal'>): LlmCallError {
  return new LlmCallError({ kind: 'auth', provider: context.provider, message: `${context.provider}: no API key was given` });
}

/** The error context of one call; a call without a key fails here, before it reaches the SDK. */
export function createProviderErrorContext(provider: ProviderId, options: ProviderCallOptions): ProviderErrorContext {
  if (!options.apiKey) throw missingApiKeyError({ provider, apiKey: options.apiKey });
  return { provider, apiKey: options.apiKey, signal: options.signal };
}

/**
 * The same failure, carrying what a broken stream had produced so far (with its estimated usage) and the
 * stream's request id when the failure itself had none.
 */
export function withPartialOutput(
  error: LlmCallError,
  request: ChatRequest,
  content: string,
  providerRequestId?: string,
  /** The tool-call text streamed so far (names and arguments): output too. */
  toolCallText?: string,
): LlmCallError {
  if (toolCallText) return withPartialToolCalls(error, request, content, toolCallText, providerRequestId);
  if (content.length === 0 && (error.providerRequestId || !providerRequestId)) return error;
  return new LlmCallError({
    kind: error.kind,
    provider: error.provider,
    message: error.message,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    providerRequestId: error.providerRequestId ?? providerRequestId,
    partial: content.length > 0 ? { content, usage: estimateUsage(request, content) } : undefined,
  });
}

function withPartialToolCalls(error: LlmCallError, request: ChatRequest, content: string, toolCallText: string, providerRequestId?: string): LlmCallError {
  return new LlmCallError({
    kind: error.kind,
    provider: error.provider,
    message: error.message,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    providerRequestId: error.providerRequestId ?? providerRequestId,
    partial: { content, usage: estimateUsage(request, content + toolCallText), toolCalls: true },
  });
}

/** A stream that ended (cleanly or not) before the provider said it was done. */
export function createStreamEndedEarlyError(
  request: ChatRequest,
  content: string,
  context: ProviderErrorContext,
  providerRequestId: string | undefined,
  toolCallText?: string,
): LlmCallError {
  const kind = context.signal.aborted ? 'aborted' : 'network';
  const detail = context.signal.aborted ? 'the call was aborted during the stream' : 'the stream ended before the provider finished';
  const error = new LlmCallError({ kind, provider: context.provider, message: `${context.provider} ${kind}: ${detail}` });
  return withPartialOutput(error, request, content, providerRequestId, toolCallText);
}

/** One tool-call piece of a chat-completions chunk (OpenAI's `delta.tool_calls[]`, read by each provider's converter). */
export interface ToolCallChunk {
  index?: number | null;
  id?: string | null;
  name?: string | null;
  arguments?: string | null;
}

/**
 * Turns the provider's tool-call pieces into our tool-call deltas: indexes renumbered 0, 1, … in the order the calls
 * start (whatever the provider numbered them), `id` and `name` on a call's first delta only, and an id made up when
 * the provider sent none. Also keeps the text streamed so far, for the estimate of a cut stream.
 */
export class ToolCallDeltas {
  private readonly indexes = new Map<number | string, number>();
  text = '';

  *read(pieces: readonly ToolCallChunk[]): Generator<Extract<StreamEvent, { type: 'tool_call' }>> {
    for (const piece of pieces) {
      const providerIndex = piece.index ?? (piece.id ? piece.id : this.indexes.size);
      let index = this.indexes.get(providerIndex);
      const args = piece.arguments ?? '';
      if (index === undefined) {
        index = this.indexes.size;
        this.indexes.set(providerIndex, index);
        const name = piece.name ?? '';
        this.text += name + args;
        yield { type: 'tool_call', index, id: piece.id || `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`, name, arguments: args };
      } else if (args) {
        this.text += args;
        yield { type: 'tool_call', index, arguments: args };
      }
    }
  }

  get started(): boolean {
    return this.indexes.size > 0;
  }
}

/** What one chat-completions-style stream chunk says, read by each provider's own converters. */
export interface ChunkReading {
  model?: string | null;
  text?: string | null;
  toolCalls?: readonly ToolCallChunk[] | null;
  usage?: Usage;
  finishReason?: FinishReason;
}

/**
 * What a chat-completions-style stream has said so far (OpenAI-compatible, Groq, Mistral), read chunk by chunk without
 * a generator step: `read` adds a chunk's events to `out` (its deltas), keeping the last usage and finish reason;
 * `end` is the one `end` event (usage from the provider, or estimated when it sent none) or the failure of a stream
 * that was cut; `failure` turns a break into a failure with the partial output.
 */
export class ChatChunkState {
  private content = '';
  private model: string;
  private usage: Usage | undefined;
  private finishReason: FinishReason | undefined;
  private toolCalls: ToolCallDeltas | undefined;

  constructor(
    private readonly request: ChatRequest,
    private readonly context: ProviderErrorContext,
    private readonly providerRequestId: string | undefined,
  ) {
    this.model = request.model;
  }

  read(reading: ChunkReading, out: StreamEvent[]): void {
    if (reading.model) this.model = reading.model;
    if (reading.usage) this.usage = reading.usage;
    if (reading.text) {
      this.content += reading.text;
      out.push({ type: 'delta', content: reading.text });
    }
    if (reading.toolCalls?.length) for (const event of (this.toolCalls ??= new ToolCallDeltas()).read(reading.toolCalls)) out.push(event);
    if (reading.finishReason) this.finishReason = reading.finishReason;
  }

  /** The stream's last event; throws when it was cut. The SDKs end the iteration quietly when the signal aborts. */
  end(): StreamEvent {
    if (this.finishReason === undefined || this.context.signal.aborted) {
      throw createStreamEndedEarlyError(this.request, this.content, this.context, this.providerRequestId, this.toolCalls?.text);
    }
    const usage = this.usage ?? estimateUsage(this.request, this.content + (this.toolCalls?.text ?? ''));
    return { type: 'end', usage, finishReason: this.finishReason, model: this.model, providerRequestId: this.providerRequestId };
  }

  failure(error: LlmCallError): LlmCallError {
    return withPartialOutput(error, this.request, this.content, this.providerRequestId, this.toolCalls?.text);
  }
}

/** The stream loop of ChatChunkState over an SDK's async iterable of chunks (Groq, Mistral). */
export async function* readChatChunkStream<Chunk>(
  chunks: AsyncIterable<Chunk>,
  read: (chunk: Chunk) => ChunkReading,
  convertError: (error: unknown) => LlmCallError,
  request: ChatRequest,
  context: ProviderErrorContext,
  providerRequestId: string | undefined,
): AsyncGenerator<StreamEvent> {
  const state = new ChatChunkState(request, context, providerRequestId);
  const out: StreamEvent[] = [];
  try {
    for await (const chunk of chunks) {
      state.read(read(chunk), out);
      if (out.length === 1) yield out[0]!;
      else if (out.length > 1) yield* out;
      out.length = 0;
    }
  } catch (error) {
    throw state.failure(convertError(error));
  }
  yield state.end();
}

/** Declarative parameter ranges: the value we were given, clamped to what the provider accepts. */
export interface NumberRange {
  min: number;
  max: number;
}

export function clampToRange(value: number | undefined, range: NumberRange): number | undefined {
  if (value === undefined) return undefined;
  return Math.min(range.max, Math.max(range.min, value));
}

/** Whether the request asks for anything beyond messages, output budget and temperature. */
export function hasChatOptions(request: ChatRequest): boolean {
  return (
    request.tools !== undefined ||
    request.toolChoice !== undefined ||
    request.responseFormat !== undefined ||
    request.stop !== undefined ||
    request.topP !== undefined ||
    request.seed !== undefined ||
    request.presencePenalty !== undefined ||
    request.frequencyPenalty !== undefined ||
    request.parallelToolCalls !== undefined
  );
}
