// OpenAI chat-completions shapes → ours: usage, finish reason, and the `openai` SDK's errors.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, OpenAIError } from 'openai';
import type { FinishReason, Usage } from '../../llm.types';
import { createStainlessErrorConverter } from '../stainless-error-ladder';

/** The chat-completions usage fields we read (Groq's `usage` and `x_groq.usage` have them too). */
export interface ChatCompletionsUsageFields {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
}

export function convertOpenAiUsage(usage: ChatCompletionsUsageFields): Usage {
  const cachedInputTokens = usage.prompt_tokens_details?.cached_tokens;
  return {
    inputTokens: usage.prompt_tokens ?? 0,
    outputTokens: usage.completion_tokens ?? 0,
    ...(cachedInputTokens ? { cachedInputTokens } : {}),
    source: 'provider',
    raw: usage,
  };
}

export function mapOpenAiFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content_filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

export const convertOpenAiError = createStainlessErrorConverter(
  { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError, APIError, SdkError: OpenAIError },
  (error) => {
    // `error.error` is the body's `error` object for OpenAI; compatible servers may send other shapes.
    const body = (error.error ?? {}) as { message?: unknown };
    return {
      errorType: error.type,
      errorCode: typeof error.code === 'string' ? error.code : undefined,
      providerMessage: typeof body.message === 'string' ? body.message : error.message,
      providerRequestId: error.requestID,
    };
  },
);
