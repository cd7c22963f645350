// Providers that speak OpenAI chat completions, through the `openai` SDK: OpenAI itself, MiniMax,
// OpenRouter and custom endpoints (Ollama, vLLM). One adapter per provider id, built by one factory from the
// settings in that provider's folder.
import type { Readable } from 'node:stream';
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
  type ChunkReading,
  clampToRange,
  createProviderErrorContext,
  hasChatOptions,
  type NumberRange,
} from '../provider-support';
import { convertOpenAiError, convertOpenAiUsage, mapOpenAiFinishReason } from './openai.converters';
import { openAiOptionFields, readOpenAiToolCallDeltas, readOpenAiToolCalls, toOpenAiMessages } from './openai.request-converters';
import { openedOnFirstNext, ReadableEvents } from '../../readable-events';
import { ChatSseChunkHandler, type ChatSseDialect, nodeBodyOf } from '../chat-sse-stream';

function readOpenAiChunk(chunk: ChatCompletionChunk): ChunkReading {
  const choice = chunk.choices?.[0];
  return {
    model: chunk.model,
    // With include_usage, the usage arrives in a last chunk whose `choices` is empty.
    usage: chunk.usage ? convertOpenAiUsage(chunk.usage) : undefined,
    text: choice?.delta?.content,
    toolCalls: readOpenAiToolCallDeltas(choice?.delta?.tool_calls),
    finishReason: choice?.finish_reason ? mapOpenAiFinishReason(choice.finish_reason) : undefined,
  };
}

/** The stream as the `openai` SDK's own Stream reads it (its errors are the SDK's APIError, converted as any call's). */
const OPENAI_SSE: ChatSseDialect<ChatCompletionChunk> = {
  read: readOpenAiChunk,
  streamError: (error, message, headers) => new APIError(undefined, error, message, headers),
  convertError: convertOpenAiError,
};

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
  return hasChatOptions(request) ? Object.assign(body, openAiOptionFields(request)) : body;
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

  function stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
    return openedOnFirstNext(async () => {
      const context = createProviderErrorContext(id, options);
      let response: Response;
      let body: Readable;
      try {
        response = await openAiClientFor(options)
          .chat.completions.create({ ...buildRequestBody(request, settings), stream: true, stream_options: { include_usage: true } }, requestOptionsFor(options))
          .asResponse();
        body = nodeBodyOf(response, () => new APIError(response.status, { message: 'the streamed answer has no body' }, undefined, response.headers));
      } catch (error) {
        throw convertOpenAiError(error, context);
      }
      const providerRequestId = response.headers.get('x-request-id') ?? undefined;
      return new ReadableEvents(body, new ChatSseChunkHandler(OPENAI_SSE, request, context, response.headers, providerRequestId));
    });
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
