// Anthropic Messages API through `@anthropic-ai/sdk`.
import Anthropic from '@anthropic-ai/sdk';
import type {
  Message,
  MessageCreateParamsNonStreaming,
  MessageParam,
  RawMessageStreamEvent,
} from '@anthropic-ai/sdk/resources/messages';
import type { ChatRequest, GenerateResult, ProviderAdapter, ProviderCallOptions, StreamEvent } from '../../llm.types';
import { estimateUsage } from '../../token-estimator';
import {
  createStreamEndedEarlyError,
  createProviderErrorContext,
  hasChatOptions,
  ToolCallDeltas,
  withPartialOutput,
} from '../provider-support';
import { anthropicOptionFields, anthropicSystem, readAnthropicContent, toAnthropicMessages } from './anthropic.request-converters';
import {
  convertAnthropicError,
  convertAnthropicUsage,
  mapAnthropicStopReason,
  type AnthropicUsageFields,
} from './anthropic.converters';

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

async function* stream(request: ChatRequest, options: ProviderCallOptions): AsyncIterable<StreamEvent> {
  const context = createProviderErrorContext('anthropic', options);
  let events: AsyncIterable<RawMessageStreamEvent>;
  let providerRequestId: string | undefined;
  try {
    const response = await createAnthropicClient(options)
      .messages.create({ ...buildRequestBody(request), stream: true }, { signal: options.signal })
      .withResponse();
    events = response.data;
    providerRequestId = response.request_id ?? undefined;
  } catch (error) {
    throw convertAnthropicError(error, context);
  }

  let content = '';
  let model = request.model;
  let usage: AnthropicUsageFields | undefined;
  let stopReason: string | null | undefined;
  // tool_use blocks become OpenAI-style tool-call deltas: the block's start gives id and name, input_json_delta the arguments.
  const toolCalls = new ToolCallDeltas();
  try {
    for await (const event of events) {
      switch (event.type) {
        case 'message_start':
          model = event.message.model || model;
          usage = { ...event.message.usage };
          break;
        case 'content_block_start':
          if (event.content_block.type === 'tool_use') {
            yield* toolCalls.read([{ index: event.index, id: event.content_block.id, name: event.content_block.name, arguments: '' }]);
          }
          break;
        case 'content_block_delta':
          if (event.delta.type === 'text_delta' && event.delta.text) {
            content += event.delta.text;
            yield { type: 'delta', content: event.delta.text };
          } else if (event.delta.type === 'input_json_delta' && event.delta.partial_json) {
            yield* toolCalls.read([{ index: event.index, arguments: event.delta.partial_json }]);
          }
          break;
        case 'message_delta':
          stopReason = event.delta.stop_reason ?? stopReason;
          // message_delta usage is cumulative: each value replaces the last, never adds to it.
          usage = mergeCumulativeUsage(usage, event.usage);
          break;
        default:
          break;
      }
    }
  } catch (error) {
    throw withPartialOutput(convertAnthropicError(error, context), request, content, providerRequestId, toolCalls.text);
  }
  // The SDK ends the iteration quietly when the signal aborts; no stop_reason means a cut stream.
  if (stopReason === undefined || options.signal.aborted) {
    throw createStreamEndedEarlyError(request, content, context, providerRequestId, toolCalls.text);
  }
  yield {
    type: 'end',
    usage: usage ? convertAnthropicUsage(usage) : estimateUsage(request, content + toolCalls.text),
    finishReason: mapAnthropicStopReason(stopReason),
    model,
    providerRequestId,
  };
}

function mergeCumulativeUsage(
  previous: AnthropicUsageFields | undefined,
  latest: Partial<AnthropicUsageFields>,
): AnthropicUsageFields {
  return {
    input_tokens: latest.input_tokens ?? previous?.input_tokens ?? null,
    output_tokens: latest.output_tokens ?? previous?.output_tokens ?? 0,
    cache_creation_input_tokens: latest.cache_creation_input_tokens ?? previous?.cache_creation_input_tokens ?? null,
    cache_read_input_tokens: latest.cache_read_input_tokens ?? previous?.cache_read_input_tokens ?? null,
  };
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
