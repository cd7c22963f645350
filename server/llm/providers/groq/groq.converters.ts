// Groq's chat-completions shapes → ours, where they differ from OpenAI's (the usage fields are OpenAI's: see
// convertOpenAiUsage): the finish reasons Groq sends, and where `groq-sdk` keeps the error body.
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError, GroqError } from 'groq-sdk';
import type { FinishReason } from '../../llm.types';
import { createStainlessErrorConverter } from '../stainless-error-ladder';

export function mapGroqFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    default:
      return 'other';
  }
}

export const convertGroqError = createStainlessErrorConverter(
  { APIUserAbortError, APIConnectionTimeoutError, APIConnectionError, APIError, SdkError: GroqError },
  (error) => {
    // groq-sdk keeps the whole body in `error` (`{error: {message, type, code}}`), unlike openai's inner object.
    const body = (error.error ?? {}) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
    const detail = body.error ?? {};
    return {
      errorType: typeof detail.type === 'string' ? detail.type : undefined,
      errorCode: typeof detail.code === 'string' ? detail.code : undefined,
      providerMessage: typeof detail.message === 'string' ? detail.message : error.message,
    };
  },
);
