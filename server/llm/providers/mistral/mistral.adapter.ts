// Mistral chat completions through `@mistralai/mistralai` (an ESM-only package: Node ≥ 20.19 and
// TypeScript's `nodenext` both accept `require()` of ESM, so it is imported like any other).
import { HTTPClient, Mistral, type Fetcher } from '@mistralai/mistralai';
import type { ChatCompletionRequest, ChatCompletionResponse, CompletionEvent } from '@mistralai/mistralai/models/components';
import type { ChatRequest, GenerateResult, ProviderAdapter, ProviderCallOptions, StreamEvent } from '../../llm.types';
import { clampToRange, hasChatOptions, missingApiKeyError, readProviderRequestId, readChatChunkStream } from '../provider-support';
import { mistralOptionFields, readMistralToolCallDeltas, readMistralToolCalls, toMistralMessages } from './mistral.request-converters';
import { convertMistralError, convertMistralUsage, mapMistralFinishReason, type MistralErrorContext } from './mistral.converters';

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
  const body = {
    model: request.model,
    messages: toMistralMessages(request.messages),
    maxTokens: request.maxTokens,
    temperature: clampToRange(request.temperature, TEMPERATURE_RANGE),
  } as unknown as ChatCompletionRequest;
  return hasChatOptions(request) ? ({ ...body, ...mistralOptionFields(request) } as ChatCompletionRequest) : body;
}

function readText(content: MistralContent): string {
  if (!content) return '';
  if (typeof content === 'string') return content;
  return content.map((chunk) => (chunk.type === 'text' && chunk.text ? chunk.text : '')).join('');
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
  const toolCalls = readMistralToolCalls(choice?.message?.toolCalls);
  return {
    content,
    ...(toolCalls ? { toolCalls } : {}),
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
        toolCalls: readMistralToolCallDeltas(choice?.delta.toolCalls),
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
