// Mistral chat completions through `@mistralai/mistralai` (an ESM-only package: Node ≥ 20.19 and
// TypeScript's `nodenext` both accept `require()` of ESM, so it is imported like any other).
import { HTTPClient, Mistral, type Fetcher } from '@mistralai/mistralai';
import type { ChatCompletionRequest, ChatCompletionResponse, CompletionEvent, UsageInfo } from '@mistralai/mistralai/models/components';
import type { Readable } from 'node:stream';
import { StreamedResponse } from '../../keep-alive-fetch';
import { openedOnFirstNext, ReadableEvents } from '../../readable-events';
import { ChatSseChunkHandler, type ChatSseDialect } from '../chat-sse-stream';
import type { ChatRequest, GenerateResult, ProviderAdapter, ProviderCallOptions, StreamEvent } from '../../llm.types';
import { clampToRange, hasChatOptions, missingApiKeyError, readProviderRequestId, readChatChunkStream, type ChunkReading } from '../provider-support';
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
function startMistralCall(options: ProviderCallOptions, onEventStream?: (response: Response, body: Readable) => void): MistralCall {
  if (!options.apiKey) throw missingApiKeyError({ provider: 'mistral', apiKey: options.apiKey });
  const timeoutController = new AbortController();
  const timer = setTimeout(
    () => timeoutController.abort(new DOMException(`no response within ${options.timeoutMs} ms`, 'TimeoutError')),
    options.timeoutMs,
  );
  let providerRequestId: string | undefined;
  const httpClient = new HTTPClient(options.fetch ? { fetcher: createRequestUnwrappingFetcher(options.fetch, onEventStream) } : {});
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
function createRequestUnwrappingFetcher(fetchImplementation: typeof fetch, onEventStream?: (response: Response, body: Readable) => void): Fetcher {
  const send = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
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
  if (!onEventStream) return send;
  return async (input, init) => {
    const response = await send(input, init);
    // A streamed answer (2xx, event stream) on the keep-alive fetch: its Node body is read by our reader (#20); the SDK
    // still checks the status and content type, and gets an empty body it never reads.
    if (response instanceof StreamedResponse && response.ok && EVENT_STREAM.test(response.headers.get('content-type') ?? '')) {
      const body = response.takeNodeBody();
      if (body) onEventStream(response, body);
    }
    return response;
  };
}

const EVENT_STREAM = /^\s*text\/event-stream\s*(?:;|$)/i;

/** A chunk of the stream as it is on the wire (snake_case; the SDK's schemas camel-case it). */
interface MistralWireChunk {
  model?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number; [field: string]: unknown } | null;
  choices?: Array<{
    delta?: { content?: MistralContent; tool_calls?: Array<{ id?: string | null; index?: number | null; function: { name: string; arguments: string | Record<string, unknown> } }> | null };
    finish_reason?: string | null;
  }>;
}

/** The wire chunk read as the SDK's CompletionEvent was: usage's wire fields renamed (unknown ones kept), a tool call's missing index 0. */
function readMistralWireChunk(chunk: MistralWireChunk): ChunkReading {
  const choice = chunk.choices?.[0];
  const usage = chunk.usage;
  const { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: totalTokens, ...otherUsage } = usage ?? {};
  return {
    model: chunk.model,
    usage: usage ? convertMistralUsage({ ...otherUsage, promptTokens, completionTokens, totalTokens } as UsageInfo) : undefined,
    text: readText(choice?.delta?.content),
    toolCalls: readMistralToolCallDeltas(choice?.delta?.tool_calls?.map((call) => ({ ...call, index: call.index ?? 0 }))),
    finishReason: choice?.finish_reason ? mapMistralFinishReason(choice.finish_reason) : undefined,
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

/**
 * The SDK sends the request (and turns an error status into its error). On the keep-alive fetch the answer's body is read
 * by our event reader (readable-events.ts, chat-sse-stream.ts, #20), as OpenAI's and Groq's are; on any other fetch the
 * SDK's own stream is read.
 */
function stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  return openedOnFirstNext(async () => {
    let taken: { response: Response; body: Readable } | undefined;
    const call = startMistralCall(options, (response, body) => (taken = { response, body }));
    let events: AsyncIterable<CompletionEvent>;
    try {
      events = await call.client.chat.stream(buildRequestBody(request), { signal: call.signal });
    } catch (error) {
      taken?.body.destroy();
      throw convertMistralError(error, call.context);
    } finally {
      call.clearTimeout();
    }
    const providerRequestId = call.providerRequestId();
    if (taken) {
      const dialect: ChatSseDialect<MistralWireChunk> = {
        read: readMistralWireChunk,
        streamError: (error, message) => Object.assign(new Error(message ?? (error as { message?: string } | undefined)?.message ?? 'The stream reported an error.'), { error }),
        convertError: (error) => convertMistralError(error, call.context),
      };
      return new ReadableEvents(taken.body, new ChatSseChunkHandler(dialect, request, call.context, taken.response.headers, providerRequestId));
    }
    return readChatChunkStream(
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
    )[Symbol.asyncIterator]();
  });
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
