// /v1: the OpenAI Chat Completions API in front of one agent, authenticated by the agent's `ak_` key.
// This is the platform's hot path, so it is served on node:http directly, before Express (see platform.ts): no
// router walk, no per-request middleware chain. It keeps what the Express stack gives every other route — our own
// request id, the security headers helmet would set (captured once at start), a JSON body limit, one error shape
// (OpenAI's), a completed-request log line — at a fraction of the cost (docs/BENCHMARKS.md, gateway overhead).
import crypto from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import bytes from 'bytes';
import helmet from 'helmet';
import { z } from 'zod';
import { AgentKeyCache, type AgentKeyLookup, type AuthenticatedAgent } from '../../agents/agent-key-cache';
import type { AgentRunner } from '../../agents/agent-runner';
import type { Logger } from '../logger';
import type { AnswerCost } from '../metering/meter.types';
import { chatMessagesSchema, chatSurfaceFields, normalizeChatInput } from './chat-completion-request';
import { parseInput } from './middleware/validate-request';
import { DomainError } from '../errors/domain-error';
import { errorResponse, streamFailure } from './error-response';
import { SseWriter } from './sse-writer';
import { assertUtf8Body } from './request-encoding';
import { HELMET_OPTIONS } from './app';
// Cost-aware routing (#14)
import { CONVERSATION_HEADER, FALLBACK_RESPONSE_HEADER, ROUTE_HEADER, ROUTING_RESPONSE_HEADER, conversationIdFrom, parseForcedRoute, routingHeaderValue } from '../../agents/run-routing';
import type { RunRoutingOutcome } from '../../agents/agent-runner';
import { cacheControlOf, cacheHeaders } from './response-cache-headers';

/** The response headers that report how routing answered (#14). */
export function routingHeaders(outcome: RunRoutingOutcome): Record<string, string> | undefined {
  if (!outcome.routing && !outcome.fallbackPlan) return undefined;
  return {
    ...(outcome.routing ? { [ROUTING_RESPONSE_HEADER]: routingHeaderValue(outcome.routing) } : {}),
    ...(outcome.fallbackPlan ? { [FALLBACK_RESPONSE_HEADER]: outcome.fallbackPlan } : {}),
  };
}

export const completionRequestSchema = z
  .object({
    model: z.string().max(200).optional(),
    messages: chatMessagesSchema,
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    ...chatSurfaceFields,
  })
  .passthrough();

/** An AbortController that aborts when the client goes away, so the upstream call is cancelled too. */
export function abortControllerOnClientClose(response: ServerResponse): AbortController {
  const controller = new AbortController();
  response.on('close', () => {
    if (!response.writableFinished) controller.abort(new Error('client closed the connection'));
  });
  return controller;
}

/** Its signal (the chat, publishing and comparison routers). */
export function abortOnClientClose(response: ServerResponse): AbortSignal {
  return abortControllerOnClientClose(response).signal;
}

const OPENAI_FINISH_REASONS: Record<string, string> = { stop: 'stop', length: 'length', content_filter: 'content_filter', tool_calls: 'tool_calls' };

/** OpenAI's usage object, with the call's price as OpenRouter reports it (`cost` in USD) and how it was reached. */
function openAiUsage(usage: { inputTokens: number; outputTokens: number }, cost: AnswerCost | undefined) {
  if (!cost) return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
  // Written out, not `{ ...counts, cost }`: an object literal that starts with a spread gets a hidden class of its own
  // per call in optimized code (V8 11), one more old-generation object per answer (docs/BENCHMARKS.md, round 3).
  return {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.inputTokens + usage.outputTokens,
    cost: cost.priceMicros / 1_000_000,
    cost_details: {
      cost_micros: cost.priceMicros,
      basis: cost.basis,
      included_tokens: cost.includedTokens,
      overage_tokens: cost.overageTokens,
      from_allowance: cost.fromAllowance,
    },
  };
}

const openAiToolCalls = (toolCalls: ReadonlyArray<{ id: string; name: string; arguments: string }>) =>
  toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));

/** The headers helmet sets on a response, captured once by running it against a recording response (flat list). */
function helmetHeaders(): string[] {
  const headers = new Map<string, string>();
  const recorder = {
    setHeader: (name: string, value: unknown) => headers.set(name, String(value)),
    removeHeader: (name: string) => headers.delete(name),
    getHeader: (name: string) => headers.get(name),
  };
  helmet(HELMET_OPTIONS)({ headers: {} } as never, recorder as never, () => undefined);
  return [...headers].flat();
}

/** Stands for a content delta's text in a chunk built once per stream (see contentChunkWriter). */
const CONTENT_SLOT = '\u0000content\u0000';
const CONTENT_SLOT_JSON = JSON.stringify(CONTENT_SLOT);

/**
 * Splits a chunk built with CONTENT_SLOT as the delta's content around it: each delta is then prefix + its JSON string +
 * suffix, byte for byte what JSON.stringify of the whole chunk gives. The slot is found from the end: the content comes
 * after every caller-chosen field (the model name) in the chunk.
 */
export function contentChunkWriter(template: string): (content: string) => string {
  const at = template.lastIndexOf(CONTENT_SLOT_JSON);
  const prefix = template.slice(0, at);
  const suffix = template.slice(at + CONTENT_SLOT_JSON.length);
  return (content) => prefix + JSON.stringify(content) + suffix;
}

const JSON_CONTENT_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

export interface OpenAiCompatibleApiOptions {
  logger: Logger;
  /** Same limit and syntax as the JSON body limit of the other routes, e.g. "4mb". */
  jsonBodyLimit: string;
}

export interface OpenAiCompatibleApi {
  /** Whether this API serves the request's path (everything under /v1/). */
  handles(url: string | undefined): boolean;
  handle(request: IncomingMessage, response: ServerResponse): void;
  /** The HTTP server's request listener: /v1 here, everything else to `fallback` (the Express app). */
  requestListener(fallback: (request: IncomingMessage, response: ServerResponse) => void): (request: IncomingMessage, response: ServerResponse) => void;
}

export function createOpenAiCompatibleApi(agents: AgentKeyLookup, runner: AgentRunner, options: OpenAiCompatibleApiOptions): OpenAiCompatibleApi {
  const cache = new AgentKeyCache(agents);
  const { logger } = options;
  const bodyLimit = bytes.parse(options.jsonBodyLimit) ?? 4 * 1024 * 1024;
  const securityHeaders = helmetHeaders();

  // Headers go out in one writeHead with a flat list (no per-header setHeader bookkeeping on the hot path).
  const headersFor = (requestId: string, contentType: string, extra?: Record<string, string>): string[] => {
    const list = [...securityHeaders, 'X-Request-Id', requestId, 'Content-Type', contentType];
    if (extra) for (const [name, value] of Object.entries(extra)) list.push(name, value);
    return list;
  };

  const sendJson = (response: ServerResponse, requestId: string, status: number, body: unknown, extraHeaders?: Record<string, string>) => {
    const text = JSON.stringify(body);
    const headers = headersFor(requestId, 'application/json; charset=utf-8', extraHeaders);
    headers.push('Content-Length', String(Buffer.byteLength(text)));
    response.writeHead(status, headers);
    response.end(text);
  };

  const sendError = (request: IncomingMessage, response: ServerResponse, requestId: string, error: unknown) => {
    const rendered = errorResponse(error, 'openai', requestId);
    if (rendered.unexpected) logger.error({ err: error, req: { id: requestId, method: request.method, url: request.url } }, 'unhandled error');
    if (response.headersSent) {
      response.end();
      return;
    }
    sendJson(response, requestId, rendered.status, rendered.body, rendered.headers);
  };

  /** Reads the JSON body within the limit; anything but a JSON object or array is refused with a clear 4xx. */
  const readJsonBody = (request: IncomingMessage): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const contentType = request.headers['content-type'];
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > bodyLimit) return reject(new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large.'));
      const encoding = request.headers['content-encoding'];
      if (encoding && encoding.toLowerCase() !== 'identity') return reject(new DomainError('UNSUPPORTED_ENCODING', 'Unsupported request encoding.'));
      const chunks: Buffer[] = [];
      let received = 0;
      let failed = false;
      request.on('data', (chunk: Buffer) => {
        if (failed) return;
        received += chunk.length;
        if (received > bodyLimit) {
          failed = true;
          chunks.length = 0;
          reject(new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large.'));
          return;
        }
        chunks.push(chunk);
      });
      request.on('error', () => {
        if (!failed) reject(new DomainError('BAD_REQUEST', 'The request could not be read.'));
        failed = true;
      });
      request.on('end', () => {
        if (failed) return;
        if (received === 0) return resolve(undefined);
        if (!contentType || !JSON_CONTENT_TYPE.test(contentType)) {
          return reject(new DomainError('UNSUPPORTED_MEDIA_TYPE', 'Send the request body as JSON (Content-Type: application/json).'));
        }
        const charset = /charset=([^;\s]+)/i.exec(contentType)?.[1]?.replace(/"/g, '').toLowerCase();
        if (charset && charset !== 'utf-8' && charset !== 'utf8') return reject(new DomainError('UNSUPPORTED_ENCODING', 'Unsupported request encoding.'));
        try {
          const body = Buffer.concat(chunks, received);
          assertUtf8Body(body);
          const parsed: unknown = JSON.parse(body.toString('utf8'));
          if (typeof parsed !== 'object' || parsed === null) throw new SyntaxError('not an object or array');
          resolve(parsed);
        } catch (error) {
          reject(error instanceof DomainError ? error : new DomainError('INVALID_JSON', 'The request body is not valid JSON.'));
        }
      });
    });

  const authenticate = async (request: IncomingMessage): Promise<AuthenticatedAgent> => {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const resolved = key ? await cache.authenticate(key) : undefined;
    if (!resolved) throw new DomainError('invalid_api_key', 'Invalid or revoked agent API key. Create one on the agent page (keys start with ak_).');
    return resolved;
  };

  const listModels = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    const { agent } = await authenticate(request);
    sendJson(response, requestId, 200, {
      object: 'list',
      data: [{ id: agent._id.toString(), object: 'model', created: Math.floor(agent.createdAt.getTime() / 1000), owned_by: 'agent-host', name: agent.name }],
    });
  };

  const chatCompletions = async (request: IncomingMessage, response: ServerResponse, requestId: string) => {
    // The body is read first, then the key checked (as the Express stack did: body parser, then route middleware).
    const body = await readJsonBody(request);
    const { agent, apiKeyId } = await authenticate(request);
    const input = parseInput(completionRequestSchema, body);
    const normalized = normalizeChatInput(input, { allowSystem: true });
    const completionId = `chatcmpl-${requestId.replace(/^req_/, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = input.model || agent._id.toString();
    const abortController = abortControllerOnClientClose(response);
    const runInput = {
      agent,
      messages: normalized.messages,
      maxTokens: input.max_completion_tokens ?? input.max_tokens ?? undefined,
      temperature: input.temperature ?? undefined,
      signal: abortController.signal,
      abortController,
      requestId,
      options: normalized.options,
      endUser: normalized.endUser,
      metadata: normalized.metadata,
      route: parseForcedRoute(request.headers[ROUTE_HEADER]),
      conversationId: conversationIdFrom(request.headers[CONVERSATION_HEADER], normalized.metadata),
      apiKeyId,
      // Response cache (cache)
      cacheControl: cacheControlOf(request.headers['cache-control']),
    };

    if (!input.stream) {
      const result = await runner.generate(runInput);
      sendJson(response, requestId, 200, {
        id: completionId,
        object: 'chat.completion',
        created,
        model,
        choices: [
          {
            index: 0,
            message: result.toolCalls
              ? { role: 'assistant', content: result.content || null, refusal: null, tool_calls: openAiToolCalls(result.toolCalls) }
              : { role: 'assistant', content: result.content, refusal: null },
            logprobs: null,
            finish_reason: OPENAI_FINISH_REASONS[result.finishReason] ?? 'stop',
          },
        ],
        usage: openAiUsage(result.usage, result.cost),
        system_fingerprint: null,
      }, Object.assign({}, routingHeaders(result), cacheHeaders(result)));
      return;
    }

    const stream = await runner.stream(runInput);
    const includeUsage = input.stream_options?.include_usage === true;
    response.writeHead(200, headersFor(requestId, 'text/event-stream; charset=utf-8', { 'Cache-Control': 'no-cache, no-transform', 'X-Accel-Buffering': 'no', ...(routingHeaders(stream) ?? {}), ...cacheHeaders(stream) }));
    response.flushHeaders();
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id: completionId, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices, ...extra })}\n\n`;
    // Events that come close together go out in one write (sse-writer.ts); the opening chunk goes with the first delta.
    const writer = new SseWriter(response);
    writer.hold(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], includeUsage ? { usage: null } : {}));
    // A content delta is the same envelope every time: built once, the delta's text spliced in (#20: per-chunk work).
    const deltaChunk = contentChunkWriter(chunk([{ index: 0, delta: { content: CONTENT_SLOT }, logprobs: null, finish_reason: null }], includeUsage ? { usage: null } : {}));
    try {
      for await (const event of stream.events) {
        if (event.type === 'delta') {
          writer.write(deltaChunk(event.content));
        } else if (event.type === 'tool_call') {
          const call = event.id === undefined ? { index: event.index, function: { arguments: event.arguments } } : { index: event.index, id: event.id, type: 'function', function: { name: event.name, arguments: event.arguments } };
          writer.write(chunk([{ index: 0, delta: { tool_calls: [call] }, logprobs: null, finish_reason: null }], includeUsage ? { usage: null } : {}));
        } else {
          // The last chunks go out with [DONE] and the end of the response.
          writer.hold(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: OPENAI_FINISH_REASONS[event.finishReason] ?? 'stop' }], includeUsage ? { usage: null } : {}));
          if (includeUsage) {
            writer.hold(chunk([], { usage: openAiUsage(event.usage, event.cost) }));
          }
        }
      }
      writer.hold('data: [DONE]\n\n');
    } catch (error) {
      const appError = streamFailure(error);
      writer.hold(`data: ${JSON.stringify({ error: { message: appError.message, type: 'api_error', code: appError.code } })}\n\n`);
    }
    writer.end();
  };

  const route = (request: IncomingMessage, response: ServerResponse, requestId: string): Promise<void> => {
    const path = (request.url ?? '/').split('?', 1)[0]!;
    if (path === '/v1/chat/completions' && request.method === 'POST') return chatCompletions(request, response, requestId);
    if (path === '/v1/models' && (request.method === 'GET' || request.method === 'HEAD')) return listModels(request, response, requestId);
    return Promise.reject(new DomainError('NOT_FOUND', `No route for ${request.method} ${path}.`));
  };

  const handles = (url: string | undefined) => url !== undefined && url.startsWith('/v1/');
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const startedAt = performance.now();
    // Request ids are ours, never the client's (they key billing events); a client's id is logged beside it.
    const requestId = `req_${crypto.randomUUID().replace(/-/g, '')}`;
    response.once('finish', () => {
      const status = response.statusCode;
      const level = status >= 500 ? 'error' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      const clientRequestId = request.headers['x-request-id'];
      logger[level](
        {
          req: { id: requestId, method: request.method, url: request.url },
          res: { statusCode: status },
          responseTime: Math.round(performance.now() - startedAt),
          ...(typeof clientRequestId === 'string' ? { clientRequestId: clientRequestId.slice(0, 100) } : {}),
        },
        'request completed',
      );
    });
    route(request, response, requestId).catch((error: unknown) => {
      sendError(request, response, requestId, error);
      // A refused body may still be arriving: read it to the end (or drop the connection when it is too large).
      if (!request.complete) {
        if (error instanceof DomainError && error.code === 'PAYLOAD_TOO_LARGE') response.once('finish', () => request.destroy());
        else request.resume();
      }
    });
  };

  return {
    handles,
    handle,
    requestListener: (fallback) => (request, response) => (handles(request.url) ? handle(request, response) : fallback(request, response)),
  };
}