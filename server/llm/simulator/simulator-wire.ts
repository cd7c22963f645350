// What a provider's wire format (server/llm/providers/<id>/<id>.simulator-wire.ts) must provide to the simulator:
// where its routes are, how it reads a key and a chat request, and how it writes replies, streams and errors.
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProviderId } from '../llm.types';
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

export function isChatMessageList(value: unknown): value is Array<{ role: string; content: unknown }> {
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
