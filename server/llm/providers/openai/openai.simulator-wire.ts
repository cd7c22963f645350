// The OpenAI chat-completions wire, as OpenAI, MiniMax and custom endpoints speak it. Providers that speak it with
// differences (Groq, OpenRouter) pass an OpenAiWireDialect from their own folder. Shapes follow test/fixtures/providers/.
import type { SimulatedChatRequest, SimulatedReply } from '../../simulator/simulated-reply';
import {
  formatSseEvent,
  isChatMessageList,
  JSON_HEADERS,
  maskApiKey,
  randomBase62,
  randomHex,
  readBearerToken,
  readOpenAiStyleExtras,
  readOpenAiStyleMessages,
  SSE_HEADERS,
  type ProviderWire,
  type SimulatedErrorReason,
  type SimulatedResponse,
  type WireContext,
} from '../../simulator/simulator-wire';

export interface OpenAiErrorBody {
  status: number;
  message: string;
  type: string;
  code: string | null;
  param?: string | null;
}

function describeOpenAiError(reason: SimulatedErrorReason, context: WireContext): OpenAiErrorBody {
  switch (reason) {
    case 'missing_key':
      return {
        status: 401,
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        type: 'invalid_request_error',
        code: null,
      };
    case 'invalid_key':
      return {
        status: 401,
        message: `Incorrect API key provided: ${maskApiKey(context.apiKey)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        type: 'invalid_request_error',
        code: 'invalid_api_key',
      };
    case 'forbidden':
      return {
        status: 403,
        message: 'Your project does not have access to this model.',
        type: 'invalid_request_error',
        code: 'model_not_found',
      };
    case 'quota':
      return {
        status: 429,
        message:
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        type: 'insufficient_quota',
        code: 'insufficient_quota',
      };
    case 'rate_limit':
      return {
        status: 429,
        message: 'Rate limit reached for requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 1s.',
        type: 'requests',
        code: 'rate_limit_exceeded',
      };
    case 'context_length':
      return {
        status: 400,
        message:
          "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
        type: 'invalid_request_error',
        code: 'context_length_exceeded',
        param: 'messages',
      };
    case 'bad_request':
      return { status: 400, message: "'messages' is a required property", type: 'invalid_request_error', code: null };
    case 'not_found':
      return {
        status: 404,
        message: `Invalid URL (${context.method} ${context.path})`,
        type: 'invalid_request_error',
        code: null,
      };
    case 'server':
      return {
        status: 500,
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        code: null,
      };
    case 'unavailable':
    case 'overloaded':
      return {
        status: reason === 'overloaded' ? 529 : 503,
        message: 'The engine is currently overloaded, please try again later.',
        type: 'server_error',
        code: null,
      };
  }
}

/** What a provider that speaks this wire does differently; every member has OpenAI's behaviour as its default. */
export interface OpenAiWireDialect {
  completionId(): string;
  requestId(): string;
  usage(reply: SimulatedReply): Record<string, unknown>;
  /** `service_tier` on completions and chunks (OpenAI: "default"); undefined leaves the field out. */
  serviceTier: string | undefined;
  assistantMessage(text: string): Record<string, unknown>;
  firstStreamDelta: Record<string, unknown>;
  /** OpenAI puts `usage: null` on every chunk when include_usage is asked for. */
  usageNullOnChunks: boolean;
  /** Provider-specific fields on the completion and on the first and last stream chunks. */
  extraFields(where: 'completion' | 'first-chunk' | 'last-chunk', context: WireContext, reply: SimulatedReply): Record<string, unknown>;
  modelEntry(id: string): Record<string, unknown>;
  errorStatus(reason: SimulatedErrorReason, described: OpenAiErrorBody): number;
  errorBody(reason: SimulatedErrorReason, described: OpenAiErrorBody, status: number): Record<string, unknown>;
}

export const OPENAI_WIRE_DIALECT: OpenAiWireDialect = {
  completionId: () => `chatcmpl-${randomBase62(29)}`,
  requestId: () => `req_${randomHex(16)}`,
  usage: (reply) => ({
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  }),
  serviceTier: 'default',
  assistantMessage: (text) => ({ role: 'assistant', content: text, refusal: null, annotations: [] }),
  firstStreamDelta: { role: 'assistant', content: '', refusal: null },
  usageNullOnChunks: true,
  extraFields: () => ({}),
  modelEntry: (id) => ({ id, object: 'model', created: 1_721_172_741, owned_by: 'system' }),
  errorStatus: (_reason, described) => described.status,
  errorBody: (_reason, described) => ({ error: { message: described.message, type: described.type, param: described.param ?? null, code: described.code } }),
};

export function createOpenAiWire(dialect: OpenAiWireDialect = OPENAI_WIRE_DIALECT): ProviderWire {
  const systemFingerprint = `fp_${randomHex(5)}`;
  const serviceTier = dialect.serviceTier === undefined ? {} : { service_tier: dialect.serviceTier };

  function headers(base: Readonly<Record<string, string>>, context: WireContext): Record<string, string> {
    return { ...base, 'x-request-id': context.requestId };
  }

  function chunkEnvelope(id: string, request: SimulatedChatRequest, context: WireContext): Record<string, unknown> {
    return {
      id,
      object: 'chat.completion.chunk',
      created: context.createdSeconds,
      model: request.model,
      ...serviceTier,
      system_fingerprint: systemFingerprint,
    };
  }

  return {
    chatPath: '/chat/completions',
    modelsPath: '/models',

    createRequestId: () => dialect.requestId(),

    readApiKey: readBearerToken,

    parseChatRequest(body) {
      if (typeof body !== 'object' || body === null) return undefined;
      const fields = body as Record<string, unknown>;
      if (typeof fields.model !== 'string' || !isChatMessageList(fields.messages) || fields.messages.length === 0) {
        return undefined;
      }
      const maxTokens = fields.max_completion_tokens ?? fields.max_tokens;
      return {
        model: fields.model,
        messages: readOpenAiStyleMessages(fields.messages),
        maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
        stream: fields.stream === true,
        includeUsage: (fields.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
        ...readOpenAiStyleExtras(fields),
      };
    },

    chatResponse(request, reply, context) {
      const body: Record<string, unknown> = {
        id: dialect.completionId(),
        object: 'chat.completion',
        created: context.createdSeconds,
        model: request.model,
        choices: [
          {
            index: 0,
            message: reply.toolCalls ? { ...dialect.assistantMessage(''), content: null, tool_calls: reply.toolCalls.map((call) => ({ id: `call_${call.id}`, type: 'function', function: { name: call.name, arguments: call.arguments } })) } : dialect.assistantMessage(reply.text),
            logprobs: null,
            finish_reason: reply.finishReason,
          },
        ],
        usage: dialect.usage(reply),
        ...serviceTier,
        system_fingerprint: systemFingerprint,
        ...dialect.extraFields('completion', context, reply),
      };
      return { status: 200, headers: headers(JSON_HEADERS, context), body };
    },

    streamResponse(request, reply, context) {
      const id = dialect.completionId();
      const envelope = chunkEnvelope(id, request, context);
      const usageField = dialect.usageNullOnChunks && request.includeUsage ? { usage: null } : {};
      const events: string[] = [];
      events.push(
        formatSseEvent({
          ...envelope,
          choices: [{ index: 0, delta: dialect.firstStreamDelta, logprobs: null, finish_reason: null }],
          ...usageField,
          ...dialect.extraFields('first-chunk', context, reply),
        }),
      );
      for (const chunk of reply.chunks) {
        events.push(
          formatSseEvent({
            ...envelope,
            choices: [{ index: 0, delta: { content: chunk }, logprobs: null, finish_reason: null }],
            ...usageField,
          }),
        );
      }
      // Tool calls as OpenAI streams them: id, name and empty arguments first, then the arguments in pieces.
      for (const [index, call] of (reply.toolCalls ?? []).entries()) {
        const delta = (toolCall: Record<string, unknown>) =>
          formatSseEvent({ ...envelope, choices: [{ index: 0, delta: { tool_calls: [{ index, ...toolCall }] }, logprobs: null, finish_reason: null }], ...usageField });
        events.push(delta({ id: `call_${call.id}`, type: 'function', function: { name: call.name, arguments: '' } }));
        for (const piece of call.argumentChunks) events.push(delta({ function: { arguments: piece } }));
      }
      events.push(
        formatSseEvent({
          ...envelope,
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reply.finishReason }],
          ...usageField,
          ...dialect.extraFields('last-chunk', context, reply),
        }),
      );
      if (request.includeUsage) {
        events.push(formatSseEvent({ ...envelope, choices: [], usage: dialect.usage(reply) }));
      }
      events.push(formatSseEvent('[DONE]'));
      return { status: 200, headers: headers(SSE_HEADERS, context), events, contentStartIndex: 1 };
    },

    modelsResponse(context) {
      const body = { object: 'list', data: context.models.map((id) => dialect.modelEntry(id)) };
      return { status: 200, headers: headers(JSON_HEADERS, context), body };
    },

    errorResponse(reason, context, status) {
      const described = describeOpenAiError(reason, context);
      const finalStatus = status ?? dialect.errorStatus(reason, described);
      return { status: finalStatus, headers: headers(JSON_HEADERS, context), body: dialect.errorBody(reason, described, finalStatus) };
    },
  };
}
