// Our normalized request → an OpenAI-shape chat request (messages with parts and tool calls, tools, tool choice,
// response format, stop and sampling), shared by the providers whose wire is OpenAI's: OpenAI itself (and Groq,
// MiniMax, OpenRouter, custom endpoints) in snake_case, and Mistral's SDK in camelCase with its few differences.
// Each provider names its dialect (field names and those differences) in its own request-converters file.
import type { ChatMessage, ChatRequest } from '../llm.types';
import { deepFreeze, perToolSet } from '../tool-sets';

export type OpenAiShapeMessage = Record<string, unknown> & { role: string };

export interface OpenAiShapeDialect {
  /** The request's field names in this wire's spelling. */
  names: {
    imageUrl: string;
    toolCalls: string;
    toolCallId: string;
    toolChoice: string;
    parallelToolCalls: string;
    responseFormat: string;
    jsonSchema: string;
    schema: string;
    topP: string;
    seed: string;
    presencePenalty: string;
    frequencyPenalty: string;
  };
  /** An assistant message's text when it carries tool calls (OpenAI wants null for none). */
  assistantContentWithToolCalls(content: string): string | null;
  /** Whether a tool message also carries the called function's name (Mistral). */
  namesToolMessages: boolean;
  /** The wire's word for "a tool must be called" (OpenAI's `required`, Mistral's `any`). */
  requiredToolChoice: string;
}

export function toOpenAiShapeMessages(messages: readonly ChatMessage[], dialect: OpenAiShapeDialect): OpenAiShapeMessage[] {
  const names = dialect.names;
  const namesById = dialect.namesToolMessages ? new Map<string, string>() : undefined;
  return messages.map((message): OpenAiShapeMessage => {
    switch (message.role) {
      case 'user':
        if (!message.parts) return { role: 'user', content: message.content };
        return {
          role: 'user',
          content: message.parts.map((part) =>
            part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', [names.imageUrl]: { url: part.url, ...(part.detail ? { detail: part.detail } : {}) } },
          ),
        };
      case 'assistant':
        if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
        if (namesById) for (const call of message.toolCalls) namesById.set(call.id, call.name);
        return {
          role: 'assistant',
          content: dialect.assistantContentWithToolCalls(message.content),
          [names.toolCalls]: message.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })),
        };
      case 'tool': {
        const name = namesById?.get(message.toolCallId ?? '');
        return { role: 'tool', [names.toolCallId]: message.toolCallId ?? '', content: message.content, ...(name ? { name } : {}) };
      }
      default:
        return { role: 'system', content: message.content };
    }
  });
}

/** The tools in the wire's shape (the same in every OpenAI-shape dialect): built once per shared tool set (#20). */
const openAiShapeTools = perToolSet((tools) =>
  deepFreeze(
    tools.map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description !== undefined ? { description: tool.description } : {}),
        parameters: tool.parameters,
        ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
      },
    })),
  ),
);

/** The request's optional fields in the dialect's names; empty for a plain call. */
export function openAiShapeOptionFields(request: ChatRequest, dialect: OpenAiShapeDialect): Record<string, unknown> {
  const names = dialect.names;
  const fields: Record<string, unknown> = {};
  if (request.tools?.length) fields.tools = openAiShapeTools(request.tools);
  const choice = request.toolChoice;
  if (choice !== undefined) {
    fields[names.toolChoice] = choice === 'required' ? dialect.requiredToolChoice : typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
  }
  if (request.parallelToolCalls !== undefined && request.tools?.length) fields[names.parallelToolCalls] = request.parallelToolCalls;
  const format = request.responseFormat;
  if (format) {
    fields[names.responseFormat] =
      format.type === 'json_schema'
        ? {
            type: 'json_schema',
            [names.jsonSchema]: {
              name: format.name,
              ...(format.description !== undefined ? { description: format.description } : {}),
              [names.schema]: format.schema,
              ...(format.strict !== undefined ? { strict: format.strict } : {}),
            },
          }
        : { type: format.type };
  }
  if (request.stop?.length) fields.stop = request.stop;
  if (request.topP !== undefined) fields[names.topP] = request.topP;
  if (request.seed !== undefined) fields[names.seed] = request.seed;
  if (request.presencePenalty !== undefined) fields[names.presencePenalty] = request.presencePenalty;
  if (request.frequencyPenalty !== undefined) fields[names.frequencyPenalty] = request.frequencyPenalty;
  return fields;
}
