// Groq chat completions through `groq-sdk` (OpenAI-shaped, with Groq's usage under `x_groq` when streaming).
import type { Readable } from 'node:stream';
import Groq, { APIError } from 'groq-sdk';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsNonStreaming,
} from 'groq-sdk/resources/chat/completions';
import type { CompletionUsage } from 'groq-sdk/resources/completions';
import type { ChatRequest, GenerateResult, ProviderAdapter, ProviderCallOptions, StreamEvent } from '../../llm.types';
import { estimateUsage } from '../../token-estimator';
import { convertOpenAiUsage } from '../openai/openai.converters';
import { openAiOptionFields, readOpenAiToolCallDeltas, readOpenAiToolCalls, toOpenAiMessages } from '../openai/openai.request-converters';
import {
  clampToRange,
  createProviderErrorContext,
  hasChatOptions,
  type ChunkReading,
  readProviderRequestId,
} from '../provider-support';
import { ChatSseChunkHandler, type ChatSseDialect, nodeBodyOf } from '../chat-sse-stream';
import { openedOnFirstNext, ReadableEvents } from '../../readable-events';
import { convertGroqError, mapGroqFinishReason } from './groq.converters';

const TEMPERATURE_RANGE = { min: 0, max: 2 };

/** Cheap (~2 µs): a client per call keeps the key's lifetime to the call; connections pool in `fetch`. */
function createGroqClient(options: ProviderCallOptions): Groq {
  return new Groq({
    apiKey: options.apiKey,
    // The SDK's paths start with /openai/v1, so the base URL is the host (plus any prefix) without it.
    baseURL: options.baseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: options.fetch,
    // GROQ_LOG=debug would print requests; the platform logs through its own redacted logger.
    logLevel: 'off',
  });
}

function buildRequestBody(request: ChatRequest): ChatCompletionCreateParamsNonStreaming {
  const body = {
    model: request.model,
    messages: toOpenAiMessages(request.messages),
    max_completion_tokens: request.maxTokens,
    temperature: clampToRange(request.temperature, TEMPERATURE_RANGE),
  } as unknown as ChatCompletionCreateParamsNonStreaming;
  // Groq's request shapes are OpenAI's.
  return hasChatOptions(request) ? { ...body, ...openAiOptionFields(request) } : body;
}

async function generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult> {
  const context = createProviderErrorContext('groq', options);
  let completion: ChatCompletion;
  let providerRequestId: string | undefined;
  try {
    const response = await createGroqClient(options)
      .chat.completions.create(buildRequestBody(request), { signal: options.signal })
      .withResponse();
    completion = response.data;
    providerRequestId = readProviderRequestId(response.response.headers);
  } catch (error) {
    throw convertGroqError(error, context);
  }
  const choice = completion.choices?.[0];
  const content = choice?.message?.content ?? '';
  const toolCalls = readOpenAiToolCalls(choice?.message?.tool_calls);
  return {
    content,
    ...(toolCalls ? { toolCalls } : {}),
    usage: completion.usage ? convertOpenAiUsage(completion.usage) : estimateUsage(request, content + (toolCalls ? JSON.stringify(toolCalls) : '')),
    finishReason: mapGroqFinishReason(choice?.finish_reason),
    model: completion.model || request.model,
    providerRequestId,
  };
}

function readGroqChunk(chunk: ChatCompletionChunk): ChunkReading {
  // Groq reports stream usage in the final chunk's `x_groq.usage`; a top-level `usage` is read too.
  const chunkUsage = (chunk as { usage?: CompletionUsage | null }).usage ?? chunk.x_groq?.usage;
  const choice = chunk.choices?.[0];
  return {
    model: chunk.model,
    usage: chunkUsage ? convertOpenAiUsage(chunkUsage) : undefined,
    text: choice?.delta?.content,
    toolCalls: readOpenAiToolCallDeltas(choice?.delta?.tool_calls),
    finishReason: choice?.finish_reason ? mapGroqFinishReason(choice.finish_reason) : undefined,
  };
}

/** Groq's stream is OpenAI's wire: read by our reader (chat-sse-stream.ts); its errors are the SDK's APIError. */
const GROQ_SSE: ChatSseDialect<ChatCompletionChunk> = {
  read: readGroqChunk,
  streamError: (error, message, headers) => new APIError(undefined, error, message, headers),
  convertError: convertGroqError,
};

function stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  return openedOnFirstNext(async () => {
    const context = createProviderErrorContext('groq', options);
    let response: Response;
    let body: Readable;
    try {
      // The SDK builds and sends the request (an error status becomes its APIError); the body is read by us.
      response = await createGroqClient(options)
        .chat.completions.create({ ...buildRequestBody(request), stream: true }, { signal: options.signal })
        .asResponse();
      body = nodeBodyOf(response, () => new APIError(response.status, { message: 'the streamed answer has no body' }, undefined, response.headers));
    } catch (error) {
      throw convertGroqError(error, context);
    }
    return new ReadableEvents(body, new ChatSseChunkHandler(GROQ_SSE, request, context, response.headers, readProviderRequestId(response.headers)));
  });
}

async function checkKey(options: ProviderCallOptions): Promise<void> {
  const context = createProviderErrorContext('groq', options);
  try {
    await createGroqClient(options).models.list({ signal: options.signal });
  } catch (error) {
    throw convertGroqError(error, context);
  }
}

export const groqAdapter: ProviderAdapter = { id: 'groq', generate, stream, checkKey };
