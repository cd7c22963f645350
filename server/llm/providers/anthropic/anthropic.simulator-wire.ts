// The Anthropic Messages wire. Shapes follow test/fixtures/providers/anthropic.
import type { ChatMessage } from '../../llm.types';
import type { SimulatedChatRequest, SimulatedReply } from '../../simulator/simulated-reply';
import {
  formatSseEvent,
  isChatMessageList,
  JSON_HEADERS,
  normalizeRole,
  randomBase62,
  readBearerToken,
  readContentText,
  SSE_HEADERS,
  type ProviderWire,
  type SimulatedErrorReason,
  type SimulatedResponse,
  type WireContext,
} from '../../simulator/simulator-wire';

const STOP_REASONS: Record<SimulatedReply['finishReason'], string> = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

/** The instruction the adapter adds for `response_format: json_object` (Anthropic has no JSON mode): the simulated model follows it. */
const JSON_OBJECT_INSTRUCTION = /answer with one json object/i;

function describeAnthropicError(reason: SimulatedErrorReason, context: WireContext): { status: number; type: string; message: string } {
  switch (reason) {
    case 'missing_key':
      return { status: 401, type: 'authentication_error', message: 'x-api-key header is required' };
    case 'invalid_key':
      return { status: 401, type: 'authentication_error', message: 'invalid x-api-key' };
    case 'forbidden':
      return {
        status: 403,
        type: 'permission_error',
        message: 'Your API key does not have permission to use the specified resource.',
      };
    case 'quota':
      return {
        status: 402,
        type: 'billing_error',
        message:
          'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.',
      };
    case 'rate_limit':
      return {
        status: 429,
        type: 'rate_limit_error',
        message:
          'Number of request tokens has exceeded your per-minute rate limit; see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.',
      };
    case 'context_length':
      return { status: 400, type: 'invalid_request_error', message: 'prompt is too long: 215000 tokens > 200000 maximum' };
    case 'bad_request':
      return { status: 400, type: 'invalid_request_error', message: 'messages: Field required' };
    case 'not_found':
      return { status: 404, type: 'not_found_error', message: `Not Found: ${context.method} ${context.path}` };
    case 'server':
    case 'unavailable':
      return { status: reason === 'server' ? 500 : 503, type: 'api_error', message: 'Internal server error' };
    case 'overloaded':
      return { status: 529, type: 'overloaded_error', message: 'Overloaded' };
  }
}

function readApiKey(headers: Parameters<ProviderWire['readApiKey']>[0]): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  return readBearerToken(headers);
}

function parseChatRequest(body: unknown): SimulatedChatRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || typeof fields.max_tokens !== 'number') return undefined;
  if (!isChatMessageList(fields.messages) || fields.messages.length === 0) return undefined;
  const system = readContentText(fields.system);
  const request: SimulatedChatRequest = {
    model: fields.model,
    messages: [...(system ? [{ role: 'system' as const, content: system }] : []), ...fields.messages.flatMap(readAnthropicMessage)],
    maxTokens: fields.max_tokens,
    stream: fields.stream === true,
  };
  if (Array.isArray(fields.tools)) {
    request.tools = (fields.tools as Array<{ name?: unknown; input_schema?: unknown }>)
      .filter((tool) => typeof tool.name === 'string')
      .map((tool) => ({ name: tool.name as string, parameters: (tool.input_schema ?? { type: 'object' }) as Record<string, unknown> }));
  }
  const choice = fields.tool_choice as { type?: unknown; name?: unknown; disable_parallel_tool_use?: unknown } | undefined;
  if (choice?.type === 'auto' || choice?.type === 'none') request.toolChoice = choice.type;
  if (choice?.type === 'any') request.toolChoice = 'required';
  if (choice?.type === 'tool' && typeof choice.name === 'string') request.toolChoice = { name: choice.name };
  if (choice?.disable_parallel_tool_use === true) request.parallelToolCalls = false;
  const format = (fields.output_config as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  if (format?.type === 'json_schema' && typeof format.schema === 'object' && format.schema !== null) {
    request.responseFormat = { type: 'json_schema', name: 'output', schema: format.schema as Record<string, unknown> };
  } else if (JSON_OBJECT_INSTRUCTION.test(system)) {
    request.responseFormat = { type: 'json_object' };
  }
  return request;
}

/** One Messages-API message in the normalized shape: tool_use blocks are tool calls, tool_result blocks tool messages. */
function readAnthropicMessage(message: { role: string; content: unknown }): ChatMessage[] {
  const role = normalizeRole(message.role);
  if (!Array.isArray(message.content)) return [{ role, content: readContentText(message.content) }];
  const blocks = message.content as Array<Record<string, unknown>>;
  const results: ChatMessage[] = blocks
    .filter((block) => block.type === 'tool_result')
    .map((block) => ({ role: 'tool', content: readContentText(block.content), toolCallId: String(block.tool_use_id ?? '') }));
  const toolCalls = blocks
    .filter((block) => block.type === 'tool_use')
    .map((block) => ({ id: String(block.id ?? ''), name: String(block.name ?? ''), arguments: JSON.stringify(block.input ?? {}) }));
  const images = blocks.filter((block) => block.type === 'image').map(() => ({ type: 'image_url' as const, url: 'image' }));
  const text = readContentText(blocks.filter((block) => block.type === 'text'));
  const own: ChatMessage = { role, content: text, ...(toolCalls.length ? { toolCalls } : {}), ...(images.length ? { parts: images } : {}) };
  return text || toolCalls.length || images.length || results.length === 0 ? [own, ...results] : results;
}

function toolUseId(call: { id: string }): string {
  return `toolu_01${call.id.padEnd(22, 'x')}`;
}

function messageId(): string {
  return `msg_01${randomBase62(22)}`;
}

function chatResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse {
  const body = {
    id: messageId(),
    type: 'message',
    role: 'assistant',
    model: request.model,
    content: reply.toolCalls
      ? reply.toolCalls.map((call) => ({ type: 'tool_use', id: toolUseId(call), name: call.name, input: call.input }))
      : [{ type: 'text', text: reply.text }],
    stop_reason: STOP_REASONS[reply.finishReason],
    stop_sequence: null,
    usage: {
      input_tokens: reply.inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: reply.outputTokens,
      service_tier: 'standard',
    },
  };
  return { status: 200, headers: { ...JSON_HEADERS, 'request-id': context.requestId }, body };
}

function streamResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse {
  const events: string[] = [];
  const send = (type: string, data: Record<string, unknown>) => events.push(formatSseEvent({ type, ...data }, type));
  // Like the real API, message_start already counts one output token; message_delta then carries the
  // cumulative totals, which replace (never add to) what came before.
  send('message_start', {
    message: {
      id: messageId(),
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: reply.inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 1,
        service_tier: 'standard',
      },
    },
  });
  if (reply.toolCalls) {
    // Each tool call is a tool_use block whose input arrives as input_json_delta pieces.
    send('ping', {});
    for (const [index, call] of reply.toolCalls.entries()) {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: toolUseId(call), name: call.name, input: {} } });
      for (const piece of call.argumentChunks) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece } });
      send('content_block_stop', { index });
    }
  } else {
    send('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    send('ping', {});
    for (const chunk of reply.chunks) {
      send('content_block_delta', { index: 0, delta: { type: 'text_delta', text: chunk } });
    }
    send('content_block_stop', { index: 0 });
  }
  send('message_delta', {
    delta: { stop_reason: STOP_REASONS[reply.finishReason], stop_sequence: null },
    usage: {
      input_tokens: reply.inputTokens,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: reply.outputTokens,
    },
  });
  send('message_stop', {});
  return { status: 200, headers: { ...SSE_HEADERS, 'request-id': context.requestId }, events, contentStartIndex: reply.toolCalls ? 2 : 3 };
}

function modelsResponse(context: WireContext): SimulatedResponse {
  const data = context.models.map((id) => ({
    type: 'model',
    id,
    display_name: id,
    created_at: '2025-05-22T00:00:00Z',
  }));
  const body = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
  return { status: 200, headers: { ...JSON_HEADERS, 'request-id': context.requestId }, body };
}

function errorResponse(reason: SimulatedErrorReason, context: WireContext, status?: number): SimulatedResponse {
  const error = describeAnthropicError(reason, context);
  return {
    status: status ?? error.status,
    headers: { ...JSON_HEADERS, 'request-id': context.requestId },
    body: { type: 'error', error: { type: error.type, message: error.message }, request_id: context.requestId },
  };
}

export function createAnthropicWire(): ProviderWire {
  return {
    chatPath: '/messages',
    modelsPath: '/models',
    createRequestId: () => `req_011C${randomBase62(20)}`,
    readApiKey,
    parseChatRequest,
    chatResponse,
    streamResponse,
    modelsResponse,
    errorResponse,
  };
}
