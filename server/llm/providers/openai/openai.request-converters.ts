// Our normalized request → the OpenAI chat-completions request (messages with parts and tool calls, tools, tool
// choice, response format, stop and sampling), and OpenAI's tool calls → ours. Groq, MiniMax, OpenRouter and custom
// endpoints speak the same shapes.
import type { ChatMessage, ChatRequest, ToolCall } from '../../llm.types';

type OpenAiMessage = Record<string, unknown> & { role: string };

function toOpenAiMessage(message: ChatMessage): OpenAiMessage {
  switch (message.role) {
    case 'user':
      if (!message.parts) return { role: 'user', content: message.content };
      return {
        role: 'user',
        content: message.parts.map((part) =>
          part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', image_url: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } },
        ),
      };
    case 'assistant':
      if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
      return {
        role: 'assistant',
        content: message.content || null,
        tool_calls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
      };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId ?? '', content: message.content };
    default:
      return { role: 'system', content: message.content };
  }
}

export function toOpenAiMessages(messages: readonly ChatMessage[]): OpenAiMessage[] {
  return messages.map(toOpenAiMessage);
}

/** The request's optional fields in OpenAI's names; empty for a plain call. */
export function openAiOptionFields(request: ChatRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (request.tools?.length) {
    fields.tools = request.tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    }));
  }
  if (request.toolChoice !== undefined) {
    fields.tool_choice = typeof request.toolChoice === 'string' ? request.toolChoice : { type: 'function', function: { name: request.toolChoice.name } };
  }
  if (request.parallelToolCalls !== undefined && request.tools?.length) fields.parallel_tool_calls = request.parallelToolCalls;
  const format = request.responseFormat;
  if (format) {
    fields.response_format =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            json_schema: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              schema: format.schema,
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          }
        : { type: format.type };
  }
  if (request.stop?.length) fields.stop = request.stop;
  if (request.topP !== undefined) fields.top_p = request.topP;
  if (request.seed !== undefined) fields.seed = request.seed;
  if (request.presencePenalty !== undefined) fields.presence_penalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) fields.frequency_penalty = request.frequencyPenalty;
  return fields;
}

interface OpenAiToolCallShape {
  id?: string | null;
  type?: string;
  function?: { name?: string | null; arguments?: string | null } | null;
}

/** A completion message's function tool calls (other tool types are not ours to answer). */
export function readOpenAiToolCalls(toolCalls: readonly OpenAiToolCallShape[] | null | undefined): ToolCall[] | undefined {
  if (!toolCalls?.length) return undefined;
  const calls: ToolCall[] = [];
  for (const call of toolCalls) {
    if (call.type !== undefined && call.type !== 'function') continue;
    if (!call.function?.name) continue;
    calls.push({ id: call.id ?? '', name: call.function.name, arguments: call.function.arguments ?? '' });
  }
  return calls.length ? calls : undefined;
}

interface OpenAiToolCallDeltaShape {
  index?: number;
  id?: string | null;
  function?: { name?: string | null; arguments?: string | null } | null;
}

export function readOpenAiToolCallDeltas(deltas: readonly OpenAiToolCallDeltaShape[] | null | undefined) {
  if (!deltas?.length) return undefined;
  return deltas.map((delta) => ({ index: delta.index, id: delta.id, name: delta.function?.name, arguments: delta.function?.arguments }));
}
