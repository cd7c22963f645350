// Anthropic Messages API through `@anthropic-ai/sdk`.
import type { Readable } from 'node:stream';
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import type { Message, MessageCreateParamsNonStreaming, MessageParam } from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest, GenerateResult, ProviderAdapter, ProviderCallOptions, StreamEvent } from '../../llm.types';
import { openedOnFirstNext, ReadableEvents } from '../../readable-events';
import { nodeBodyOf } from '../chat-sse-stream';
import { createProviderErrorContext, hasChatOptions } from '../provider-support';
import { AnthropicStreamHandler } from './anthropic.stream-reader';
import { anthropicOptionFields, anthropicSystem, readAnthropicContent, toAnthropicMessages } from './anthropic.request-converters';
import { convertAnthropicError, convertAnthropicUsage, mapAnthropicStopReason } from './anthropic.converters';

/** Anthropic requires max_tokens; used when the request leaves it open. */
const DEFAULT_MAX_TOKENS = 4096;

/** Cheap (~17 µs): a client per call keeps the key's lifetime to the call; connections pool in `fetch`. */
function createAnthropicClient(options: ProviderCallOptions): Anthropic {
  return new Anthropic({
    apiKey: options.apiKey,
    baseURL: options.baseUrl,
    maxRetries: 0,
    timeout: options.timeoutMs,
    fetch: options.fetch,
    // ANTHROPIC_LOG=debug would print requests; the platform logs through its own redacted logger.
    logLevel: 'off',
  });
}

function buildRequestBody(request: ChatRequest): MessageCreateParamsNonStreaming {
  const system = anthropicSystem(request);
  const messages = toAnthropicMessages(request.messages) as unknown as MessageParam[];
  const body: MessageCreateParamsNonStreaming = {
    model: request.model,
    max_tokens: request.maxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
    ...(system ? { system } : {}),
    // No `temperature`: the Messages API deprecated it and SDK 1.x no longer has the parameter.
  };
  return hasChatOptions(request) ? ({ ...body, ...anthropicOptionFields(request) } as MessageCreateParamsNonStreaming) : body;
}

async function generate(request: ChatRequest, options: ProviderCallOptions): Promise<GenerateResult> {
  const context = createProviderErrorContext('anthropic', options);
  let message: Message;
  let providerRequestId: string | undefined;
  try {
    const response = await createAnthropicClient(options)
      .messages.create(buildRequestBody(request), { signal: options.signal })
      .withResponse();
    message = response.data;
    providerRequestId = response.request_id ?? undefined;
  } catch (error) {
    throw convertAnthropicError(error, context);
  }
  const { content, toolCalls } = readAnthropicContent(message.content);
  return {
    content,
    ...(toolCalls ? { toolCalls } : {}),
    usage: convertAnthropicUsage(message.usage),
    finishReason: mapAnthropicStopReason(message.stop_reason),
    model: message.model || request.model,
    providerRequestId,
  };
}

/**
 * The SDK sends the request (and turns an error status into its error); the answer's body is read by our event reader
 * (anthropic.stream-reader.ts, #20) straight from the Node body: no web stream, no generator step per delta.
 */
function stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  return openedOnFirstNext(async () => {
    const context = createProviderErrorContext('anthropic', options);
    let response: Response;
    let body: Readable;
    try {
      response = await createAnthropicClient(options)
        .messages.create({ ...buildRequestBody(request), stream: true }, { signal: options.signal })
        .asResponse();
      body = nodeBodyOf(response, () => new APIError(response.status, { message: 'the streamed answer has no body' } as never, undefined, response.headers));
    } catch (error) {
      throw convertAnthropicError(error, context);
    }
    const providerRequestId = response.headers.get('request-id') ?? undefined;
    return new ReadableEvents(body, new AnthropicStreamHandler(request, context, response.headers, providerRequestId));
  });
}

async function checkKey(options: ProviderCallOptions): Promise<void> {
  const context = createProviderErrorContext('anthropic', options);
  try {
    await createAnthropicClient(options).models.list({ limit: 1 }, { signal: options.signal });
  } catch (error) {
    throw convertAnthropicError(error, context);
  }
}

export const anthropicAdapter: ProviderAdapter = { id: 'anthropic', generate, stream, checkKey };
