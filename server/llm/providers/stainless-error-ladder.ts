// One error ladder for the SDKs Stainless generates (openai, groq-sdk, @anthropic-ai/sdk): they share the same
// error classes (APIUserAbortError and APIConnectionError below APIError, all below the SDK's own base error), so
// the order of the checks is the same for all three and only the reading of the error body differs.
import type { LlmCallError } from '../llm-call.error';
import {
  convertUnwrappedError,
  createHttpLlmCallError,
  createTransportLlmCallError,
  type ProviderErrorContext,
  type ProviderErrorFacts,
} from './provider-support';

/** What every Stainless `APIError` carries. */
interface StainlessApiError extends Error {
  readonly status: number | undefined;
  readonly headers: Headers | undefined;
}

type ErrorClass<Instance extends Error> = abstract new (...args: never[]) => Instance;

/** The SDK's error classes, under the names every Stainless SDK exports them by. */
export interface StainlessErrorClasses<ApiError extends StainlessApiError> {
  APIUserAbortError: ErrorClass<Error>;
  APIConnectionTimeoutError: ErrorClass<Error>;
  APIConnectionError: ErrorClass<Error>;
  APIError: ErrorClass<ApiError>;
  /** The SDK's base class (OpenAIError, GroqError, AnthropicError): a failure before any request, such as a bad option. */
  SdkError: ErrorClass<Error>;
}

/** What the provider's error body says (type, code, message, request id), read where this SDK keeps it. */
export type ReadErrorBody<ApiError> = (error: ApiError) => Omit<ProviderErrorFacts, 'status' | 'headers'>;

export type ProviderErrorConverter = (error: unknown, context: ProviderErrorContext) => LlmCallError;

/** The one place a Stainless SDK's error becomes an LlmCallError. */
export function createStainlessErrorConverter<ApiError extends StainlessApiError>(
  sdk: StainlessErrorClasses<ApiError>,
  readErrorBody: ReadErrorBody<ApiError>,
): ProviderErrorConverter {
  return (error, context) => {
    if (context.signal.aborted || error instanceof sdk.APIUserAbortError) {
      return createTransportLlmCallError('aborted', 'the call was aborted', context);
    }
    if (error instanceof sdk.APIConnectionTimeoutError) return createTransportLlmCallError('timeout', 'the request timed out', context);
    if (error instanceof sdk.APIConnectionError) return createTransportLlmCallError('network', error.message, context, error);
    if (error instanceof sdk.APIError) {
      return createHttpLlmCallError({ status: error.status, headers: error.headers, ...readErrorBody(error) }, context);
    }
    if (error instanceof sdk.SdkError) return createTransportLlmCallError('bad_request', error.message, context);
    return convertUnwrappedError(error, context);
  };
}
