// Anthropic Messages API through `@anthropic-ai/sdk`.
import Anthropic, { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type {
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import type { LlmCallError } from '../llm-call.error';
import type {
  ChatRequest,
  FinishReason,
  GenerateResult,
  ProviderAdapter,
  ProviderCallOptions,
  StreamEvent,
  Usage,
} from '../llm.types';
import { estimateUsage } from '../token-estimator';
import {
  convertUnwrappedError,
  createHttpLlmCallError,
  createStreamEndedEarlyError,
  createTransportLlmCallError,
  missingApiKeyError,
  withPartialOutput,
  type ProviderErrorContext,
} from './provider-support';

/** Anthropic requires max_tokens; used when the request leaves it open. */
const DEFAULT_MAX_TOKENS = 4096;

/** The usage fields we read; both `message_start` (Usage) and `message_delta` (MessageDeltaUsage) fit. */
export interface AnthropicUsageFields {
  input_tokens: number | null;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

/** Cheap (~17 µs): a client per call keeps the key's lifetime to the call; connections pool in `fetch`. */
function createAnthropicClient(options: ProviderCallOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: options.fetch,
    // ANTHROPIC_LOG=debug would print requests; the platform logs through its own redacted logger.
    logLevel: 'off',
  });
}

function buildRequestBody(request: ChatRequest): MessageCreateParamsNonStreaming {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  const messages: MessageParam[] = request.messages
    .filter((message) => message.role !== 'system')
    .map((message) => ({ role: message.role === 'assistant' ? 'assistant' : 'user', content: message.content }));
  return {
    model: request.model,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system ? { system } : {}),
    // No `temperature`: the Messages API deprecated it and SDK 1.x no longer has the parameter.
  };
}

/**
 * Anthropic's `input_tokens` excludes cache reads and writes; our `inputTokens` is everything the
 * prompt cost, with the cache reads also reported as `cachedInputTokens`.
 */
export function convertAnthropicUsage(usage: AnthropicUsageFields): Usage {
  const cacheCreationTokens = usage.cache_creation_input_tokens ?? 0;
  const cacheReadTokens = usage.cache_read_input_tokens ?? 0;
  return {
    inputTokens: (usage.input_tokens ?? 0) + cacheCreationTokens + cacheReadTokens,
    outputTokens: usage.output_tokens,
    ...(cacheReadTokens ? { cachedInputTokens: cacheReadTokens } : {}),
    source: 'provider',
    raw: usage,
  };
}

export function mapAnthropicStopReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    default:
      return 'other';
  }
}

/** The one place an `@anthropic-ai/sdk` error becomes an LlmCallError. */
export function convertAnthropicError(error: unknown, context: ProviderErrorContext): LlmCallError {
  if (context.signal.aborted || error instanceof APIUserAbortError) {
    return createTransportLlmCallError('aborted', 'the call was aborted', context);
  }
  if (error instanceof APIConnectionTimeoutError) return createTransportLlmCallError('timeout', 'the request timed out', context);
  if (error instanceof APIConnectionError) return createTransportLlmCallError('network', error.message, context);
  if (error instanceof APIError) {
    // A mid-stream `event: error` arrives with no status; its `type` (e.g. overloaded_error) says what happened.
    return createHttpLlmCallError(
      {
        status: error.status,
        headers: error.headers,
        errorType: error.type,
        errorCode: error.errorCode,
        providerMessage: error.apiMessage ?? error.message,
        providerRequestId: error.requestID,
      },
      context,
    );
  }
  if (error instanceof AnthropicError) return createTransportLlmCallError('bad_request', error.message, context);
  return convertUnwrappedError(error, context);
}

function createContext(options: ProviderCallOptions): ProviderErrorContext {
  if (!options.apiKey) throw missingApiKeyError({ provider: 'anthropic', apiKey: options.apiKey });
  return { provider: 'anthropic', apiKey: options.apiKey, signal: options.signal };
}

async function generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult> {
  const context = createContext(options);
  let message: Message;
  let providerRequestId: string | undefined;
  try {
    const response = await createAnthropicClient(options)
      .messages.create(buildRequestBody(request), { signal: options.signal })
      .withResponse();
    message = response.data;
    providerRequestId = response.request_id ?? undefined;
  } catch (error) {
    throw convertAnthropicError(error, context);
  }
  const content = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
  return {
    content,
    usage: convertAnthropicUsage(message.usage),
    finishReason: mapAnthropicStopReason(message.stop_reason),
    model: message.model || request.model,
    providerRequestId,
  };
}

async function* stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  const context = createContext(options);
  let events: AsyncIterable<RawMessageStreamEvent>;
  let providerRequestId: string | undefined;
  try {
    const response = await createAnthropicClient(options)
      .messages.create({ ...buildRequestBody(request), stream: true }, { signal: options.signal })
      .withResponse();
    events = response.data;
    providerRequestId = response.request_id ?? undefined;
  } catch (error) {
    throw convertAnthropicError(error, context);
  }

  let content = '';
  let model = request.model;
  let usage: AnthropicUsageFields | undefined;
  let stopReason: string | null | undefined;
  try {
    for await (const event of events) {
      switch (event.type) {
        case 'message_start':
          model = event.message.model || model;
          usage = { ...event.message.usage };
          break;
        case 'content_block_delta':
          if (event.delta.type === 'text_delta' && event.delta.text) {
            content += event.delta.text;
            yield { type: 'delta', content: event.delta.text };
          }
          break;
        case 'message_delta':
          stopReason = event.delta.stop_reason ?? stopReason;
          // message_delta usage is cumulative: each value replaces the last, never adds to it.
          usage = mergeCumulativeUsage(usage, event.usage);
          break;
        default:
          break;
      }
    }
  } catch (error) {
    throw withPartialOutput(convertAnthropicError(error, context), request, content, providerRequestId);
  }
  // The SDK ends the iteration quietly when the signal aborts; no stop_reason means a cut stream.
  if (stopReason === undefined || options.signal.aborted) {
    throw createStreamEndedEarlyError(request, content, context, providerRequestId);
  }
  yield {
    type: 'end',
    usage: usage ? convertAnthropicUsage(usage) : estimateUsage(request, content),
    finishReason: mapAnthropicStopReason(stopReason),
    model,
    providerRequestId,
  };
}

function mergeCumulativeUsage(
  previous: AnthropicUsageFields | undefined,
  latest: Partial<AnthropicUsageFields>,
): AnthropicUsageFields {
  return {
    input_tokens: latest.input_tokens ?? previous?.input_tokens ?? null,
    output_tokens: latest.output_tokens ?? previous?.output_tokens ?? 0,
    cache_creation_input_tokens: latest.cache_creation_input_tokens ?? previous?.cache_creation_input_tokens ?? null,
    cache_read_input_tokens: latest.cache_read_input_tokens ?? previous?.cache_read_input_tokens ?? null,
  };
}

async function checkKey(options: ProviderCallOptions): Promise<void> {
  const context = createContext(options);
  try {
    await createAnthropicClient(options).models.list({ limit: 1 }, { signal: options.signal });
  } catch (error) {
    throw convertAnthropicError(error, context);
  }
}

export const anthropicAdapter: ProviderAdapter = { id: 'anthropic', generate, stream, checkKey };
