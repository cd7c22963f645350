// The Mistral chat wire (OpenAI-like, with usage on the final stream chunk). Shapes follow
// test/fixtures/providers/mistral.
import type { SimulatedChatRequest, SimulatedReply } from '../../simulator/simulated-reply';
import {
  formatSseEvent,
  isChatMessageList,
  JSON_HEADERS,
  randomHex,
  randomUUID,
  readBearerToken,
  readOpenAiStyleExtras,
  readOpenAiStyleMessages,
  SSE_HEADERS,
  type ProviderWire,
  type SimulatedErrorReason,
  type SimulatedResponse,
  type WireContext,
} from '../../simulator/simulator-wire';

/** Mistral's gateway answers auth failures with a bare `{message, request_id}`; the API with `{object:'error', …}`. */
function describeMistralError(
  reason: SimulatedErrorReason,
  context: WireContext,
): { status: number; body: Record<string, unknown> } {
  const apiError = (status: number, message: string, type: string, code: string) => ({
    status,
    body: { object: 'error', message, type, param: null, code },
  });
  switch (reason) {
    case 'missing_key':
    case 'invalid_key':
      return { status: 401, body: { message: 'Unauthorized', request_id: context.requestId } };
    case 'forbidden':
      return { status: 403, body: { message: 'Forbidden', request_id: context.requestId } };
    case 'quota':
      return apiError(
        402,
        'Insufficient credits: this workspace has no remaining credits. Add a payment method in the Mistral console.',
        'payment_required',
        '3700',
      );
    case 'rate_limit':
      return apiError(429, 'Requests rate limit exceeded', 'rate_limited', '1300');
    case 'context_length':
      return apiError(
        400,
        'Prompt contains 40960 tokens and 0 draft tokens, too large for model with 32768 maximum context length',
        'invalid_request_error',
        '3051',
      );
    case 'bad_request':
      return apiError(400, 'Invalid request: messages must not be empty', 'invalid_request_error', '3000');
    case 'not_found':
      return { status: 404, body: { detail: 'Not Found' } };
    case 'server':
      return apiError(500, 'Internal server error', 'internal_server_error', '1000');
    case 'unavailable':
      return apiError(503, 'Service unavailable', 'service_unavailable', '1001');
    case 'overloaded':
      return apiError(529, 'Service tier capacity exceeded for this model.', 'service_tier_capacity_exceeded', '3505');
  }
}

function headers(base: Readonly<Record<string, string>>, context: WireContext): Record<string, string> {
  return { ...base, 'mistral-correlation-id': context.requestId, 'x-kong-request-id': randomHex(12) };
}

function parseChatRequest(body: unknown): SimulatedChatRequest | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as Record<string, unknown>;
  if (typeof fields.model !== 'string' || !isChatMessageList(fields.messages) || fields.messages.length === 0) {
    return undefined;
  }
  return {
    model: fields.model,
    messages: readOpenAiStyleMessages(fields.messages),
    maxTokens: typeof fields.max_tokens === 'number' ? fields.max_tokens : undefined,
    stream: fields.stream === true,
    ...readOpenAiStyleExtras(fields),
  };
}

/** Mistral's tool calls: 9-character ids, arguments as a JSON string. */
function mistralToolCalls(reply: SimulatedReply): Array<Record<string, unknown>> {
  return (reply.toolCalls ?? []).map((call, index) => ({ id: call.id.padEnd(9, '0').slice(0, 9), type: 'function', function: { name: call.name, arguments: call.arguments }, index }));
}

function completionId(): string {
  return randomHex(16);
}

function usageBody(reply: SimulatedReply): Record<string, number> {
  return {
    prompt_tokens: reply.inputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
    completion_tokens: reply.outputTokens,
  };
}

function chatResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse {
  const body = {
    id: completionId(),
    object: 'chat.completion',
    model: request.model,
    usage: usageBody(reply),
    created: context.createdSeconds,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', tool_calls: reply.toolCalls ? mistralToolCalls(reply) : null, content: reply.text },
        finish_reason: reply.finishReason,
      },
    ],
  };
  return { status: 200, headers: headers(JSON_HEADERS, context), body };
}

function streamResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse {
  const envelope = { id: completionId(), object: 'chat.completion.chunk', created: context.createdSeconds, model: request.model };
  const events = [
    formatSseEvent({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    ...reply.chunks.map((chunk) =>
      formatSseEvent({ ...envelope, choices: [{ index: 0, delta: { content: chunk }, finish_reason: null }] }),
    ),
    // Mistral streams each tool call whole, in one delta.
    ...(reply.toolCalls ? [formatSseEvent({ ...envelope, choices: [{ index: 0, delta: { content: '', tool_calls: mistralToolCalls(reply) }, finish_reason: null }] })] : []),
    // The finish reason and the usage come together, on the final chunk.
    formatSseEvent({
      ...envelope,
      choices: [{ index: 0, delta: { content: '' }, finish_reason: reply.finishReason }],
      usage: usageBody(reply),
    }),
    formatSseEvent('[DONE]'),
  ];
  return { status: 200, headers: headers(SSE_HEADERS, context), events, contentStartIndex: 1 };
}

function modelsResponse(context: WireContext): SimulatedResponse {
  const body = {
    object: 'list',
    data: context.models.map((id) => ({
      id,
      object: 'model',
      created: 1_741_000_000,
      owned_by: 'mistralai',
      capabilities: {
        completion_chat: true,
        completion_fim: false,
        function_calling: true,
        fine_tuning: false,
        vision: false,
        classification: false,
      },
      name: id,
      description: 'Simulated Mistral model',
      max_context_length: 131_072,
      aliases: [],
      deprecation: null,
      default_model_temperature: 0.3,
      type: 'base',
    })),
  };
  return { status: 200, headers: headers(JSON_HEADERS, context), body };
}

function errorResponse(reason: SimulatedErrorReason, context: WireContext, status?: number): SimulatedResponse {
  const error = describeMistralError(reason, context);
  return { status: status ?? error.status, headers: headers(JSON_HEADERS, context), body: error.body };
}

export function createMistralWire(): ProviderWire {
  return {
    chatPath: '/chat/completions',
    modelsPath: '/models',
    createRequestId: () => randomUUID(),
    readApiKey: readBearerToken,
    parseChatRequest,
    chatResponse,
    streamResponse,
    modelsResponse,
    errorResponse,
  };
}
