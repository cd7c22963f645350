// Anthropic Messages shapes → ours: usage, stop reason, and the `@anthropic-ai/sdk` errors.
import { AnthropicError, APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { FinishReason, Usage } from '../../llm.types';
import { createStainlessErrorConverter } from '../stainless-error-ladder';

/** The usage fields we read; both `message_start` (Usage) and `message_delta` (MessageDeltaUsage) fit. */
export interface AnthropicUsageFields {
  input_tokens: number | null;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
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

export const convertAnthropicError = createStainlessErrorConverter(
  { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError, APIError, SdkError: AnthropicError },
  // A mid-stream `event: error` arrives with no status; its `type` (e.g. overloaded_error) says what happened.
  (error) => ({
    errorType: error.type,
    errorCode: error.errorCode,
    providerMessage: error.apiMessage ?? error.message,
    providerRequestId: error.requestID,
  }),
);
