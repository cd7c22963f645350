// Our normalized request → Mistral's chat request (the SDK's camelCase): content chunks with images, assistant
// tool calls, tool messages (with the called function's name), tools, tool_choice (`required` is Mistral's `any`),
// response_format with a JSON Schema, stop, sampling and seed; and Mistral's tool calls → ours.
import type { ChatMessage, ChatRequest, ToolCall } from '../../llm.types';

type MistralMessage = Record<string, unknown> & { role: string };

export function toMistralMessages(messages: readonly ChatMessage[]): MistralMessage[] {
  const namesById = new Map<string, string>();
  return messages.map((message): MistralMessage => {
    switch (message.role) {
      case 'user':
        if (!message.parts) return { role: 'user', content: message.content };
        return {
          role: 'user',
          content: message.parts.map((part) =>
            part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', imageUrl: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } },
          ),
        };
      case 'assistant':
        if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
        for (const call of message.toolCalls) namesById.set(call.id, call.name);
        return {
          role: 'assistant',
          content: message.content,
          toolCalls: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
        };
      case 'tool': {
        const name = namesById.get(message.toolCallId ?? '');
        return { role: 'tool', content: message.content, toolCallId: message.toolCallId ?? '', ...(name ? { name } : {}) };
      }
      default:
        return { role: 'system', content: message.content };
    }
  });
}

/** The request's optional fields in the SDK's names; empty for a plain call. */
export function mistralOptionFields(request: ChatRequest): Record<string, unknown> {
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
    if (request.parallelToolCalls !== undefined) fields.parallelToolCalls = request.parallelToolCalls;
  }
  const choice = request.toolChoice;
  if (choice !== undefined) fields.toolChoice = choice === 'required' ? 'any' : typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  const format = request.responseFormat;
  if (format) {
    fields.responseFormat =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            jsonSchema: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              schemaDefinition: format.schema,
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          }
        : { type: format.type };
  }
  if (request.stop?.length) fields.stop = request.stop;
  if (request.topP !== undefined) fields.topP = request.topP;
  if (request.seed !== undefined) fields.randomSeed = request.seed;
  if (request.presencePenalty !== undefined) fields.presencePenalty = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) fields.frequencyPenalty = request.frequencyPenalty;
  return fields;
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
