// The OpenAI chat-completions wire, as OpenAI, MiniMax, OpenRouter, custom endpoints and (with its
// `x_groq` additions) Groq speak it. Shapes follow test/fixtures/providers/openai and …/groq.
import type { SimulatedChatRequest, SimulatedReply } from '../../simulator/simulated-reply';
import {
  formatSseEvent,
  isChatMessageList,
  JSON_HEADERS,
  maskApiKey,
  normalizeRole,
  randomBase62,
  randomHex,
  randomUUID,
  readBearerToken,
  readContentText,
  SSE_HEADERS,
  type ProviderWire,
  type SimulatedErrorReason,
  type SimulatedResponse,
  type WireContext,
} from '../../simulator/simulator-wire';

export type OpenAiWireFlavor = 'openai' | 'groq' | 'openrouter';

interface OpenAiErrorBody {
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

function usageBody(reply: SimulatedReply, flavor: OpenAiWireFlavor): Record<string, unknown> {
  const base = {
    prompt_tokens: reply.inputTokens,
    completion_tokens: reply.outputTokens,
    total_tokens: reply.inputTokens + reply.outputTokens,
  };
  if (flavor === 'groq') {
    // Groq adds timings (seconds) to the counts.
    const promptTime = reply.inputTokens / 50_000;
    const completionTime = reply.outputTokens / 1_200;
    return {
      queue_time: 0.01,
      prompt_tokens: base.prompt_tokens,
      prompt_time: promptTime,
      completion_tokens: base.completion_tokens,
      completion_time: completionTime,
      total_tokens: base.total_tokens,
      total_time: promptTime + completionTime,
    };
  }
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

export function createOpenAiWire(flavor: OpenAiWireFlavor): ProviderWire {
  const systemFingerprint = `fp_${randomHex(5)}`;

  function completionId(): string {
    return flavor === 'groq' ? `chatcmpl-${randomUUID()}` : `chatcmpl-${randomBase62(29)}`;
  }

  function headers(base: Readonly<Record<string, string>>, context: WireContext): Record<string, string> {
    return { ...base, 'x-request-id': context.requestId };
  }

  function chunkEnvelope(id: string, request: SimulatedChatRequest, context: WireContext): Record<string, unknown> {
    return {
      id,
      object: 'chat.completion.chunk',
      created: context.createdSeconds,
      model: request.model,
      ...(flavor === 'groq' ? {} : { service_tier: 'default' }),
      system_fingerprint: systemFingerprint,
    };
  }

  return {
    chatPath: '/chat/completions',
    modelsPath: '/models',

    createRequestId: () => (flavor === 'groq' ? `req_${randomBase62(26).toLowerCase()}` : `req_${randomHex(16)}`),

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
        messages: fields.messages.map((message) => ({
          role: normalizeRole(message.role),
          content: readContentText(message.content),
        })),
        maxTokens: typeof maxTokens === 'number' ? maxTokens : undefined,
        stream: fields.stream === true,
        includeUsage: (fields.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true,
      };
    },

    chatResponse(request, reply, context) {
      const body: Record<string, unknown> = {
        id: completionId(),
        object: 'chat.completion',
        created: context.createdSeconds,
        model: request.model,
        choices: [
          {
            index: 0,
            message:
              flavor === 'groq'
                ? { role: 'assistant', content: reply.text }
                : { role: 'assistant', content: reply.text, refusal: null, annotations: [] },
            logprobs: null,
            finish_reason: reply.finishReason,
          },
        ],
        usage: usageBody(reply, flavor),
        ...(flavor === 'groq' ? {} : { service_tier: 'default' }),
        system_fingerprint: systemFingerprint,
        ...(flavor === 'groq' ? { x_groq: { id: context.requestId } } : {}),
      };
      return { status: 200, headers: headers(JSON_HEADERS, context), body };
    },

    streamResponse(request, reply, context) {
      const id = completionId();
      const envelope = chunkEnvelope(id, request, context);
      // OpenAI puts `usage: null` on every chunk when include_usage is asked for, then a last usage chunk.
      const usageField = flavor !== 'groq' && request.includeUsage ? { usage: null } : {};
      const events: string[] = [];
      events.push(
        formatSseEvent({
          ...envelope,
          choices: [
            {
              index: 0,
              delta: flavor === 'groq' ? { role: 'assistant', content: '' } : { role: 'assistant', content: '', refusal: null },
              logprobs: null,
              finish_reason: null,
            },
          ],
          ...usageField,
          ...(flavor === 'groq' ? { x_groq: { id: context.requestId } } : {}),
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
      events.push(
        formatSseEvent({
          ...envelope,
          choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reply.finishReason }],
          ...usageField,
          // Groq reports the stream's usage in the final chunk, under x_groq.
          ...(flavor === 'groq' ? { x_groq: { id: context.requestId, usage: usageBody(reply, flavor) } } : {}),
        }),
      );
      if (request.includeUsage) {
        events.push(formatSseEvent({ ...envelope, choices: [], usage: usageBody(reply, flavor) }));
      }
      events.push(formatSseEvent('[DONE]'));
      return { status: 200, headers: headers(SSE_HEADERS, context), events, contentStartIndex: 1 };
    },

    modelsResponse(context) {
      const body = {
        object: 'list',
        data: context.models.map((id) => ({
          id,
          object: 'model',
          created: 1_721_172_741,
          owned_by: flavor === 'groq' ? 'Meta' : 'system',
          ...(flavor === 'groq' ? { active: true, context_window: 131_072, public_apps: null, max_completion_tokens: 32_768 } : {}),
        })),
      };
      return { status: 200, headers: headers(JSON_HEADERS, context), body };
    },

    errorResponse(reason, context, status) {
      const error = describeOpenAiError(reason, context);
      const finalStatus = status ?? (flavor === 'openrouter' && reason === 'quota' ? 402 : error.status);
      // OpenRouter's errors are `{error: {code, message}}` with the HTTP status as the code; Groq's have no `param`.
      const body =
        flavor === 'openrouter'
          ? {
              error: {
                code: finalStatus,
                message: reason === 'quota' ? 'Insufficient credits. Add more using https://openrouter.ai/settings/credits' : error.message,
              },
            }
          : flavor === 'groq'
            ? { error: { message: error.message, type: error.type, code: error.code } }
            : { error: { message: error.message, type: error.type, param: error.param ?? null, code: error.code } };
      return { status: finalStatus, headers: headers(JSON_HEADERS, context), body };
    },
  };
}
