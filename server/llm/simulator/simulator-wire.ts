// What a provider's wire format (server/llm/providers/<id>/<id>.simulator-wire.ts) must provide to the simulator:
// where its routes are, how it reads a key and a chat request, and how it writes replies, streams and errors.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ChatMessage, ProviderId } from '../llm.types';
import type { SimulatedChatRequest, SimulatedReply } from './simulated-reply';

export interface SimulatedResponse {
  status: number;
  headers: Record<string, string>;
  /** A JSON body … */
  body?: unknown;
  /** … or server-sent events, each a complete block ending with a blank line. */
  events?: string[];
  /** Index of the first event carrying reply text: a `cut` fault counts content chunks from here. */
  contentStartIndex?: number;
}

export type SimulatedErrorReason =
  | 'missing_key'
  | 'invalid_key'
  | 'forbidden'
  | 'quota'
  | 'rate_limit'
  | 'context_length'
  | 'bad_request'
  | 'not_found'
  | 'server'
  | 'unavailable'
  | 'overloaded';

export interface WireContext {
  provider: ProviderId;
  requestId: string;
  /** Unix seconds, as in `created` fields. */
  createdSeconds: number;
  /** Models this provider lists. */
  models: readonly string[];
  /** What the request carried as a key, for the masked echo some providers put in their 401 message. */
  apiKey: string | undefined;
  method: string;
  path: string;
}

export interface ProviderWire {
  /** Paths below the provider's prefix. */
  readonly chatPath: string;
  readonly modelsPath: string;
  createRequestId(): string;
  readApiKey(headers: IncomingHttpHeaders): string | undefined;
  /** undefined when the body is not a valid chat request for this provider. */
  parseChatRequest(body: unknown): SimulatedChatRequest | undefined;
  chatResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse;
  streamResponse(request: SimulatedChatRequest, reply: SimulatedReply, context: WireContext): SimulatedResponse;
  modelsResponse(context: WireContext): SimulatedResponse;
  /** `status` overrides the provider's usual status for that reason (a scripted fault names its status). */
  errorResponse(reason: SimulatedErrorReason, context: WireContext, status?: number): SimulatedResponse;
}

export function formatSseEvent(data: unknown, eventName?: string): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return `${eventName ? `event: ${eventName}\n` : ''}data: ${payload}\n\n`;
}

export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
};

export const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
};

export function readBearerToken(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (!authorization) return undefined;
  const match = /^Bearer\s+(.*)$/i.exec(authorization);
  const token = match?.[1]?.trim();
  return token ? token : undefined;
}

/** How providers echo a key in a 401 message: never whole. */
export function maskApiKey(apiKey: string | undefined): string {
  if (!apiKey) return '';
  if (apiKey.length <= 8) return '*'.repeat(apiKey.length);
  return `${apiKey.slice(0, 3)}${'*'.repeat(Math.min(apiKey.length - 7, 20))}${apiKey.slice(-4)}`;
}

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function randomBase62(length: number): string {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const random = randomBytes(length);
  let result = '';
  for (let index = 0; index < length; index += 1) result += alphabet[(random[index] ?? 0) % alphabet.length];
  return result;
}

export { randomUUID };

export function isChatMessageList(value: unknown): value is Array<{ role: string; content: unknown; [key: string]: unknown }> {
  return (
    Array.isArray(value) &&
    value.every((item) => typeof item === 'object' && item !== null && typeof (item as { role?: unknown }).role === 'string')
  );
}

/** Message content as text: a string, or the text parts of a content-part list. */
export function readContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (typeof part === 'object' && part !== null && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

export function normalizeRole(role: string): 'system' | 'user' | 'assistant' {
  if (role === 'system' || role === 'developer') return 'system';
  if (role === 'assistant') return 'assistant';
  return 'user';
}

/** The tool-calling and response-format fields of an OpenAI-style request (OpenAI, Groq, Mistral wires). */
export function readOpenAiStyleExtras(fields: Record<string, unknown>): Pick<SimulatedChatRequest, 'tools' | 'toolChoice' | 'parallelToolCalls' | 'responseFormat'> {
  const extras: Pick<SimulatedChatRequest, 'tools' | 'toolChoice' | 'parallelToolCalls' | 'responseFormat'> = {};
  if (Array.isArray(fields.tools)) {
    extras.tools = fields.tools
      .map((tool) => (tool as { function?: { name?: unknown; description?: unknown; parameters?: unknown } }).function)
      .filter((fn): fn is { name: string; description?: unknown; parameters?: unknown } => typeof fn?.name === 'string')
      .map((fn) => ({ name: fn.name, parameters: (fn.parameters ?? { type: 'object' }) as Record<string, unknown> }));
  }
  const choice = fields.tool_choice;
  if (choice === 'auto' || choice === 'none' || choice === 'required') extras.toolChoice = choice;
  else if (choice === 'any') extras.toolChoice = 'required';
  else if (typeof choice === 'object' && choice !== null) {
    const name = (choice as { function?: { name?: unknown } }).function?.name;
    if (typeof name === 'string') extras.toolChoice = { name };
  }
  if (typeof fields.parallel_tool_calls === 'boolean') extras.parallelToolCalls = fields.parallel_tool_calls;
  const format = fields.response_format as { type?: unknown; json_schema?: { name?: unknown; schema?: unknown } } | undefined;
  if (format?.type === 'json_object') extras.responseFormat = { type: 'json_object' };
  if (format?.type === 'json_schema' && typeof format.json_schema?.schema === 'object') {
    extras.responseFormat = { type: 'json_schema', name: String(format.json_schema.name ?? 'schema'), schema: format.json_schema.schema as Record<string, unknown> };
  }
  return extras;
}

/** OpenAI-style messages (text or parts, assistant tool calls, tool results) in the normalized shape. */
export function readOpenAiStyleMessages(messages: Array<{ role: string; content: unknown; [key: string]: unknown }>): ChatMessage[] {
  return messages.map((message) => {
    const role = message.role === 'tool' ? 'tool' : normalizeRole(message.role);
    const content = readContentText(message.content);
    const result: ChatMessage = { role, content };
    if (Array.isArray(message.content)) {
      const images = message.content.filter((part) => (part as { type?: unknown })?.type === 'image_url');
      if (images.length > 0) result.parts = images.map((part) => ({ type: 'image_url', url: 'image', detail: (part as { image_url?: { detail?: 'low' } }).image_url?.detail }));
    }
    const toolCalls = (message.tool_calls ?? message.toolCalls) as Array<{ id?: unknown; function?: { name?: unknown; arguments?: unknown } }> | undefined;
    if (Array.isArray(toolCalls)) {
      result.toolCalls = toolCalls.map((call) => ({
        id: String(call.id ?? ''),
        name: String(call.function?.name ?? ''),
        arguments: typeof call.function?.arguments === 'string' ? call.function.arguments : JSON.stringify(call.function?.arguments ?? {}),
      }));
    }
    const toolCallId = message.tool_call_id ?? message.toolCallId;
    if (typeof toolCallId === 'string') result.toolCallId = toolCallId;
    return result;
  });
}
