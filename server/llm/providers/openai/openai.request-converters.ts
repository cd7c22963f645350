// Our normalized request → the OpenAI chat-completions request (messages with parts and tool calls, tools, tool
// choice, response format, stop and sampling), and OpenAI's tool calls → ours. Groq, MiniMax, OpenRouter and custom
// endpoints speak the same shapes.
import type { ChatMessage, ChatRequest, ToolCall } from '../../llm.types';
import { openAiShapeOptionFields, toOpenAiShapeMessages, type OpenAiShapeDialect, type OpenAiShapeMessage } from '../openai-shape.request-converters';

/** OpenAI's own spelling: snake_case, null text beside tool calls. */
const OPENAI_DIALECT: OpenAiShapeDialect = {
  names: {
    imageUrl: 'image_url',
    toolCalls: 'tool_calls',
    toolCallId: 'tool_call_id',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'response_format',
    jsonSchema: 'json_schema',
    schema: 'schema',
    topP: 'top_p',
    seed: 'seed',
    presencePenalty: 'presence_penalty',
    frequencyPenalty: 'frequency_penalty',
  },
  assistantContentWithToolCalls: (content) => content || null,
  namesToolMessages: false,
  requiredToolChoice: 'required',
};

export function toOpenAiMessages(messages: readonly ChatMessage[]): OpenAiShapeMessage[] {
  return toOpenAiShapeMessages(messages, OPENAI_DIALECT);
}

/** The request's optional fields in OpenAI's names; empty for a plain call. */
export function openAiOptionFields(request: ChatRequest): Record<string, unknown> {
  return openAiShapeOptionFields(request, OPENAI_DIALECT);
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
