// Our normalized request → Mistral's chat request (the SDK's camelCase): content chunks with images, assistant
// tool calls, tool messages (with the called function's name), tools, tool_choice (`required` is Mistral's `any`),
// response_format with a JSON Schema, stop, sampling and seed; and Mistral's tool calls → ours.
import type { ChatMessage, ChatRequest, ToolCall } from '../../llm.types';
import { openAiShapeOptionFields, toOpenAiShapeMessages, type OpenAiShapeDialect, type OpenAiShapeMessage } from '../openai-shape.request-converters';

/** The Mistral SDK's spelling: camelCase, `schemaDefinition`, `randomSeed`, `any` for required, named tool messages. */
const MISTRAL_DIALECT: OpenAiShapeDialect = {
  names: {
    imageUrl: 'imageUrl',
    toolCalls: 'toolCalls',
    toolCallId: 'toolCallId',
    toolChoice: 'toolChoice',
    parallelToolCalls: 'parallelToolCalls',
    responseFormat: 'responseFormat',
    jsonSchema: 'jsonSchema',
    schema: 'schemaDefinition',
    topP: 'topP',
    seed: 'randomSeed',
    presencePenalty: 'presencePenalty',
    frequencyPenalty: 'frequencyPenalty',
  },
  assistantContentWithToolCalls: (content) => content,
  namesToolMessages: true,
  requiredToolChoice: 'any',
};

export function toMistralMessages(messages: readonly ChatMessage[]): OpenAiShapeMessage[] {
  return toOpenAiShapeMessages(messages, MISTRAL_DIALECT);
}

/** The request's optional fields in the SDK's names; empty for a plain call. */
export function mistralOptionFields(request: ChatRequest): Record<string, unknown> {
  return openAiShapeOptionFields(request, MISTRAL_DIALECT);
}

interface MistralToolCallShape {
  id?: string | null;
  index?: number | null;
  function: { name: string; arguments: string | Record<string, unknown> };
}

const argumentText = (value: string | Record<string, unknown>) => (typeof value === 'string' ? value : JSON.stringify(value));

export function readMistralToolCalls(toolCalls: readonly MistralToolCallShape[] | null | undefined): ToolCall[] | undefined {
  if (!toolCalls?.length) return undefined;
  // The SDK fills a missing id with the string "null".
  return toolCalls.map((call, index) => ({ id: call.id && call.id !== 'null' ? call.id : `call_${index}`, name: call.function.name, arguments: argumentText(call.function.arguments) }));
}

export function readMistralToolCallDeltas(toolCalls: readonly MistralToolCallShape[] | null | undefined) {
  if (!toolCalls?.length) return undefined;
  // Mistral sends each call whole with its id; the id (not the index, which the SDK defaults to 0) tells calls apart.
  return toolCalls.map((call) => ({
    index: call.id && call.id !== 'null' ? undefined : call.index,
    id: call.id && call.id !== 'null' ? call.id : undefined,
    name: call.function.name || undefined,
    arguments: argumentText(call.function.arguments),
  }));
}
