// Mistral chat completions through `@mistralai/mistralai` (an ESM-only package: Node ≥ 20.19 and
// TypeScript's `nodenext` both accept `require()` of ESM, so it is imported like any other).
import { HTTPClient, Mistral, type Fetcher } from '@mistralai/mistralai';
import type {
  ChatCompletionRequest,
  ChatCompletionResponse,
  CompletionEvent,
  UsageInfo,
} from '@mistralai/mistralai/models/components';
import {
  ConnectionError,
  HTTPClientError,
  MistralError,
  RequestAbortedError,
  RequestTimeoutError,
  ResponseValidationError,
  SDKValidationError,
} from '@mistralai/mistralai/models/errors';
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
import {
  clampToRange,
  convertUnwrappedError,
  createHttpLlmCallError,
  createTransportLlmCallError,
  missingApiKeyError,
  readProviderRequestId,
  readChatChunkStream,
  type ProviderErrorContext,
} from './provider-support';

const TEMPERATURE_RANGE = { min: 0, max: 1.5 };

/** MISTRAL_DEBUG would print every request, Authorization header included; a silent logger turns that off. */
const SILENT_LOGGER = { group: () => undefined, groupEnd: () => undefined, log: () => undefined };

/** Mistral's content is a string or a list of chunks; only text chunks carry reply text. */
type MistralContent = string | ReadonlyArray<{ type?: string; text?: string }> | null | undefined;

/** Per-call state the SDK does not hand back: the response's request id and whether our timer fired. */
interface MistralCall {
  client: Mistral;
  signal: AbortSignal;
  context: MistralErrorContext;
  /** Stops the connect/response timer once the response has started. */
  clearTimeout: () => void;
  providerRequestId: () => string | undefined;
}

interface MistralErrorContext extends ProviderErrorContext {
  timedOut: () => boolean;
}

/**
 * The SDK ignores `timeoutMs` when a signal is given, so the timeout is our own timer merged into the
 * signal. Like the other SDKs, it bounds the wait for the response, not the length of a stream.
 * Building the client is cheap (~5 µs); one per call.
 */
function startMistralCall(options: ProviderCallOptions): MistralCall {
  if (!options.apiKey) throw missingApiKeyError({ provider: 'mistral', apiKey: options.apiKey });
  const timeoutController = new AbortController();
  const timer = setTimeout(
    () => timeoutController.abort(new DOMException(`no response within ${options.timeoutMs} ms`, 'TimeoutError')),
    options.timeoutMs,
  );
  let providerRequestId: string | undefined;
  const httpClient = new HTTPClient(options.fetch ? { fetcher: createRequestUnwrappingFetcher(options.fetch) } : {});
  httpClient.addHook('response', (response) => {
    providerRequestId = readProviderRequestId(response.headers);
  });
  const client = new Mistral({
    apiKey: options.apiKey,
    serverURL: options.baseUrl,
    httpClient,
    retryConfig: { strategy: 'none' },
    timeoutMs: options.timeoutMs,
    debugLogger: SILENT_LOGGER,
  });
  return {
    client,
    signal: AbortSignal.any([options.signal, timeoutController.signal]),
    context: {
      provider: 'mistral',
      apiKey: options.apiKey,
      signal: options.signal,
      timedOut: () => timeoutController.signal.aborted,
    },
    clearTimeout: () => clearTimeout(timer),
    providerRequestId: () => providerRequestId,
  };
}

/**
 * The SDK calls fetch with a `Request` object. A fetch from the `undici` package (keep-alive pools, the
 * base-URL guard) has its own Request class and cannot read Node's ("Failed to parse URL from [object
 * Request]"), so the request is handed over as URL + init instead.
 */
function createRequestUnwrappingFetcher(fetchImplementation: typeof fetch): Fetcher {
  return async (input, init) => {
    if (!(input instanceof Request)) return fetchImplementation(input, init);
    const body = input.body ? await input.arrayBuffer() : undefined;
    const headers: Array<[string, string]> = [];
    input.headers.forEach((value, name) => headers.push([name, value]));
    return fetchImplementation(input.url, {
      method: input.method,
      headers,
      body,
      signal: input.signal,
      ...init,
    });
  };
}

function buildRequestBody(request: ChatRequest): ChatCompletionRequest {
  return {
    model: request.model,
    messages: request.messages.map((message) => ({ role: message.role, content: message.content })),
    maxTokens: request.maxTokens,
    temperature: clampToRange(request.temperature, TEMPERATURE_RANGE),
  };
}

function readText(content: MistralContent): string {
  if (!content) return '';
  if (typeof content === 'string') return content;
  return content.map((chunk) => (chunk.type === 'text' && chunk.text ? chunk.text : '')).join('');
}

export function convertMistralUsage(usage: UsageInfo): Usage {
  // Cache details are not in the SDK's schema; they pass through under the wire name when present.
  const details = usage['prompt_tokens_details'] as { cached_tokens?: number } | undefined;
  const cachedInputTokens = details?.cached_tokens;
  return {
    inputTokens: usage.promptTokens ?? 0,
    outputTokens: usage.completionTokens ?? 0,
    ...(cachedInputTokens ? { cachedInputTokens } : {}),
    source: 'provider',
    raw: usage,
  };
}

export function mapMistralFinishReason(reason: string | null | undefined): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
    case 'model_length':
      return 'length';
    case 'tool_calls':
      return 'tool_calls';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

/** Mistral error bodies: `{object:'error', message, type, code}`, or `{message, request_id}` from the gateway. */
function parseMistralErrorBody(body: string): { message?: string; type?: string; code?: string } {
  try {
    const parsed = JSON.parse(body) as { message?: unknown; type?: unknown; code?: unknown; detail?: unknown };
    const message = parsed.message ?? parsed.detail;
    return {
      message: typeof message === 'string' ? message : message === undefined ? undefined : JSON.stringify(message),
      type: typeof parsed.type === 'string' ? parsed.type : undefined,
      code: typeof parsed.code === 'string' ? parsed.code : undefined,
    };
  } catch {
    return { message: body.slice(0, 200) || undefined };
  }
}

/** The one place an `@mistralai/mistralai` error becomes an LlmCallError. */
export function convertMistralError(error: unknown, context: MistralErrorContext): LlmCallError {
  if (context.signal.aborted) return createTransportLlmCallError('aborted', 'the call was aborted', context);
  if (context.timedOut() || error instanceof RequestTimeoutError) {
    return createTransportLlmCallError('timeout', 'the request timed out', context);
  }
  if (error instanceof RequestAbortedError) return createTransportLlmCallError('aborted', 'the call was aborted', context);
  if (error instanceof ConnectionError) return createTransportLlmCallError('network', describeCause(error), context);
  if (error instanceof ResponseValidationError) {
    return createTransportLlmCallError('server', 'the response did not match the Mistral schema', context);
  }
  if (error instanceof MistralError) {
    const body = parseMistralErrorBody(error.body);
    return createHttpLlmCallError(
      {
        status: error.statusCode,
        headers: error.headers,
        errorType: body.type,
        errorCode: body.code,
        providerMessage: body.message,
      },
      context,
    );
  }
  if (error instanceof SDKValidationError) return createTransportLlmCallError('bad_request', error.message, context);
  if (error instanceof HTTPClientError) return createTransportLlmCallError('network', describeCause(error), context);
  // Stream chunks are validated while iterating: a malformed chunk surfaces as a bare ZodError.
  if (error instanceof Error && /ZodError/.test(error.name)) {
    return createTransportLlmCallError('server', 'a stream chunk did not match the Mistral schema', context);
  }
  return convertUnwrappedError(error, context);
}

function describeCause(error: HTTPClientError): string {
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

async function generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult> {
  const call = startMistralCall(options);
  let completion: ChatCompletionResponse;
  try {
    completion = await call.client.chat.complete(buildRequestBody(request), { signal: call.signal });
  } catch (error) {
    throw convertMistralError(error, call.context);
  } finally {
    call.clearTimeout();
  }
  const choice = completion.choices[0];
  const content = readText(choice?.message?.content);
  return {
    content,
    usage: convertMistralUsage(completion.usage),
    finishReason: mapMistralFinishReason(choice?.finishReason),
    model: completion.model || request.model,
    providerRequestId: call.providerRequestId(),
  };
}

async function* stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  const call = startMistralCall(options);
  let events: AsyncIterable<CompletionEvent>;
  try {
    events = await call.client.chat.stream(buildRequestBody(request), { signal: call.signal });
  } catch (error) {
    throw convertMistralError(error, call.context);
  } finally {
    call.clearTimeout();
  }
  const providerRequestId = call.providerRequestId();

  yield* readChatChunkStream(
    events,
    (event) => {
      const chunk = event.data;
      const choice = chunk.choices[0];
      return {
        model: chunk.model,
        // Mistral sends usage on the final chunk, next to the finish reason.
        usage: chunk.usage ? convertMistralUsage(chunk.usage) : undefined,
        text: readText(choice?.delta.content),
        finishReason: choice?.finishReason ? mapMistralFinishReason(choice.finishReason) : undefined,
      };
    },
    (error) => convertMistralError(error, call.context),
    request,
    call.context,
    providerRequestId,
  );
}

async function checkKey(options: ProviderCallOptions): Promise<void> {
  const call = startMistralCall(options);
  try {
    await call.client.models.list(undefined, { signal: call.signal });
  } catch (error) {
    throw convertMistralError(error, call.context);
  } finally {
    call.clearTimeout();
  }
}

export const mistralAdapter: ProviderAdapter = { id: 'mistral', generate, stream, checkKey };
