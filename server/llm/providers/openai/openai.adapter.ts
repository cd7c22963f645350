// Providers that speak OpenAI chat completions, through the `openai` SDK: OpenAI itself, MiniMax,
// OpenRouter and custom endpoints (Ollama, vLLM). One adapter per provider id, built by one factory from the
// settings in that provider's folder.
import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
} from 'openai/resources/chat/completions';
import type {
  ChatRequest,
  GenerateResult,
  ProviderAdapter,
  ProviderCallOptions,
  ProviderId,
  StreamEvent,
} from '../../llm.types';
import { estimateUsage } from '../../token-estimator';
import {
  clampToRange,
  createProviderErrorContext,
  hasChatOptions,
  type NumberRange,
  readChatChunkStream,
} from '../provider-support';
import { convertOpenAiError, convertOpenAiUsage, mapOpenAiFinishReason } from './openai.converters';
import { openAiOptionFields, readOpenAiToolCallDeltas, readOpenAiToolCalls, toOpenAiMessages } from './openai.request-converters';
import { StreamedResponse } from '../../keep-alive-fetch';
import { ServerSentEventParser } from '../../sse-events';

/**
 * The chunks of a streamed answer, read from the response the SDK returned (it sent the request and turned an error
 * status into its APIError). As the SDK's own Stream reads them: `[DONE]` ends the data, a payload with `error` (or an
 * `error` event) is the SDK's APIError, and the iteration ends quietly when the call is aborted (the caller sees a
 * cut stream). From the keep-alive fetch the Node stream is read directly (#20).
 */
async function* chatChunksOf(response: Response, signal: AbortSignal | undefined): AsyncGenerator<ChatCompletionChunk> {
  const node = response instanceof StreamedResponse ? response.takeNodeBody() : undefined;
  if (!node && !response.body) throw new APIError(response.status, { message: 'the streamed answer has no body' }, undefined, response.headers);
  const bytes = node ?? (response.body as unknown as AsyncIterable<Uint8Array>);
  const parser = new ServerSentEventParser();
  let finished = false;
  try {
    let done = false;
    for await (const piece of bytes) {
      if (done) continue;
      for (const event of parser.feed(piece)) {
        if (done) break;
        if (event.data.startsWith('[DONE]')) {
          done = true;
          break;
        }
        if (event.event !== null && event.event.startsWith('thread.')) continue;
        const data = JSON.parse(event.data) as ChatCompletionChunk & { error?: unknown; message?: string };
        if (event.event === 'error') throw new APIError(undefined, data.error as object | undefined, data.message, undefined);
        if (data && data.error) throw new APIError(undefined, data.error as object, undefined, response.headers);
        yield data;
      }
    }
    finished = true;
  } catch (error) {
    if (signal?.aborted) return;
    throw error;
  } finally {
    // Left early (the caller stopped reading, or an error): the connection is not reusable mid-answer.
    if (!finished) node?.destroy();
  }
}

/** How each OpenAI-compatible provider differs, as data rather than branches (each provider's folder holds its own). */
export interface OpenAiCompatibleSettings {
  /** OpenAI deprecated `max_tokens` (reasoning models reject it); the compatible servers still expect it. */
  maxTokensParameter: 'max_completion_tokens' | 'max_tokens';
  temperatureRange: NumberRange;
}

/**
 * One SDK client per endpoint and transport, shared by every call to it. The client holds a placeholder, never a
 * real key: each request carries its caller's key in its own Authorization header, so a key lives only as long as
 * its call (a client per call cost ~20 µs and ~5 KB of garbage per request, measured in docs/BENCHMARKS.md).
 */
const PLACEHOLDER_KEY = 'agent-host-key-per-request';
const DEFAULT_TRANSPORT = {};
const MAX_CLIENTS_PER_TRANSPORT = 1000;
const sharedClients = new WeakMap<object, Map<string, OpenAI>>();

function openAiClientFor(options: ProviderCallOptions): OpenAI {
  const transport: object = options.fetch ?? DEFAULT_TRANSPORT;
  let byBaseUrl = sharedClients.get(transport);
  if (!byBaseUrl) {
    byBaseUrl = new Map();
    sharedClients.set(transport, byBaseUrl);
  }
  let client = byBaseUrl.get(options.baseUrl);
  if (!client) {
    // Custom base URLs come from users: keep the map bounded.
    if (byBaseUrl.size >= MAX_CLIENTS_PER_TRANSPORT) byBaseUrl.clear();
    client = new OpenAI({
      apiKey: PLACEHOLDER_KEY,
      baseURL: options.baseUrl,
      maxRetries: 0,
      fetch: options.fetch,
      // Never pick up OPENAI_ORG_ID / OPENAI_PROJECT_ID for another provider's endpoint.
      organization: null,
      project: null,
      // OPENAI_LOG=debug would print requests; the platform logs through its own redacted logger.
      logLevel: 'off',
    });
    byBaseUrl.set(options.baseUrl, client);
  }
  return client;
}

/** The per-request half: this call's key, signal and deadline. */
function requestOptionsFor(options: ProviderCallOptions) {
  return { signal: options.signal, timeout: options.timeoutMs, headers: { Authorization: `Bearer ${options.apiKey}` } };
}

function buildRequestBody(request: ChatRequest, settings: OpenAiCompatibleSettings): ChatCompletionCreateParamsNonStreaming {
  const body = {
    model: request.model,
    messages: toOpenAiMessages(request.messages),
    [settings.maxTokensParameter]: request.maxTokens,
    temperature: clampToRange(request.temperature, settings.temperatureRange),
  } as unknown as ChatCompletionCreateParamsNonStreaming;
  return hasChatOptions(request) ? { ...body, ...openAiOptionFields(request) } : body;
}

export function createOpenAiCompatibleAdapter(id: ProviderId, settings: OpenAiCompatibleSettings): ProviderAdapter {

  async function generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult> {
    const context = createProviderErrorContext(id, options);
    let completion: ChatCompletion;
    let providerRequestId: string | undefined;
    try {
      const response = await openAiClientFor(options).chat.completions.create(buildRequestBody(request, settings), requestOptionsFor(options)).withResponse();
      completion = response.data;
      providerRequestId = response.request_id ?? undefined;
    } catch (error) {
      throw convertOpenAiError(error, context);
    }
    const choice = completion.choices?.[0];
    const content = choice?.message?.content ?? '';
    const toolCalls = readOpenAiToolCalls(choice?.message?.tool_calls);
    return {
      content,
      ...(toolCalls ? { toolCalls } : {}),
      usage: completion.usage ? convertOpenAiUsage(completion.usage) : estimateUsage(request, content + (toolCalls ? JSON.stringify(toolCalls) : '')),
      finishReason: mapOpenAiFinishReason(choice?.finish_reason),
      model: completion.model || request.model,
      providerRequestId,
    };
  }

  async function* stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
    const context = createProviderErrorContext(id, options);
    let chunks: AsyncIterable<ChatCompletionChunk>;
    let providerRequestId: string | undefined;
    try {
      const response = await openAiClientFor(options)
        .chat.completions.create({ ...buildRequestBody(request, settings), stream: true, stream_options: { include_usage: true } }, requestOptionsFor(options))
        .asResponse();
      chunks = chatChunksOf(response, options.signal);
      providerRequestId = response.headers.get('x-request-id') ?? undefined;
    } catch (error) {
      throw convertOpenAiError(error, context);
    }

    yield* readChatChunkStream(
      chunks,
      (chunk) => ({
        model: chunk.model,
        // With include_usage, the usage arrives in a last chunk whose `choices` is empty.
        usage: chunk.usage ? convertOpenAiUsage(chunk.usage) : undefined,
        text: chunk.choices?.[0]?.delta?.content,
        toolCalls: readOpenAiToolCallDeltas(chunk.choices?.[0]?.delta?.tool_calls),
        finishReason: chunk.choices?.[0]?.finish_reason ? mapOpenAiFinishReason(chunk.choices[0].finish_reason) : undefined,
      }),
      (error) => convertOpenAiError(error, context),
      request,
      context,
      providerRequestId,
    );
  }

  async function checkKey(options: ProviderCallOptions): Promise<void> {
    const context = createProviderErrorContext(id, options);
    try {
      await openAiClientFor(options).models.list(requestOptionsFor(options));
    } catch (error) {
      throw convertOpenAiError(error, context);
    }
  }

  return { id, generate, stream, checkKey };
}
