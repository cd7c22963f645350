// The public side of published agents (no login): the share page /p/:slug, the embeddable /widget.js, and the chat
// API under /api/public/agents/:slug. Every API request finds a published agent (else 404) and checks its Origin
// against the agent's allowlist (else 403 ORIGIN_NOT_ALLOWED) before CORS headers are given; visitors are rate limited
// per visitor and per address, and their calls are metered with the visitor id as the end user.
import fs from 'node:fs';
import path from 'node:path';
import cors from 'cors';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import { openEventStream } from '../sse-writer';
import type { AgentDocument } from '../../../agents/agent.model';
import type { ConversationChat } from '../../../agents/conversation-chat';
import type { ConversationService } from '../../../agents/conversation.service';
import { retentionDaysOf } from '../../../agents/conversation.service';
import type { PublishingService } from '../../../agents/publishing.service';
import { VISITOR_ID_PATTERN, visitorChatSchema } from '../../../agents/publishing.schemas';
import type { VisitorLimits } from '../../../agents/visitor-limits';
import { DomainError } from '../../errors/domain-error';
import { errorResponse, streamFailure } from '../error-response';
import { abortOnClientClose } from '../openai-compatible-api';
import { parseInput } from '../middleware/validate-request';
import { renderSharePage, renderUnavailablePage } from './share-page';

declare module 'express-serve-static-core' {
  interface Request {
    publishedAgent?: AgentDocument;
  }
}

export interface PublicChatDependencies {
  publishing: PublishingService;
  chat: ConversationChat;
  conversations: ConversationService;
  visitorLimits: VisitorLimits;
  /** client/dist/widget: the built widget script. */
  widgetDirectory: string;
}

const ownOrigin = (request: Request) => `${request.protocol}://${request.get('host') ?? ''}`;

function visitorIdOf(value: unknown): string {
  if (typeof value !== 'string' || !VISITOR_ID_PATTERN.test(value)) {
    throw new DomainError('VISITOR_ID_INVALID', 'The visitor id is malformed: it must look like "v_" followed by 16 to 64 letters, digits, "-" or "_".');
  }
  return value;
}

export function createPublicChatRouter(dependencies: PublicChatDependencies): Router {
  const { publishing, chat, conversations, visitorLimits } = dependencies;
  const router = Router();
  const limits = visitorLimits.limits;

  // The widget is loaded by <script> from other sites: it must be fetchable cross-origin (helmet says same-origin).
  router.get('/widget.js', (_request, response) => {
    const file = path.join(dependencies.widgetDirectory, 'widget.js');
    if (!fs.existsSync(file)) throw new DomainError('NOT_FOUND', 'The widget is not built. Run npm run build:client.');
    response.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    response.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    response.setHeader('Cache-Control', 'public, max-age=300');
    response.sendFile(file);
  });

  router.get('/p/:slug', async (request, response) => {
    try {
      const agent = await publishing.findPublished(String(request.params.slug));
      response.setHeader('Cache-Control', 'no-store');
      response.setHeader('Referrer-Policy', 'no-referrer');
      response.type('html').send(renderSharePage(publishing.publicView(agent), String(request.params.slug)));
    } catch (error) {
      if (!(error instanceof DomainError) || error.code !== 'NOT_FOUND') throw error;
      response.status(404).type('html').send(renderUnavailablePage());
    }
  });

  // Every public API request: the published agent, then its origin, then CORS for that origin only.
  const published: RequestHandler = async (request, response, next) => {
    const agent = await publishing.findPublished(String(request.params.slug));
    const origin = typeof request.headers.origin === 'string' ? request.headers.origin : undefined;
    publishing.assertOriginAllowed(agent, origin, ownOrigin(request));
    request.publishedAgent = agent;
    response.setHeader('Cache-Control', 'no-store');
    cors({ origin: origin ?? false, methods: ['GET', 'POST', 'OPTIONS'], allowedHeaders: ['content-type'], maxAge: 600 })(request, response, next);
  };

  const tooMany = (message: string) => (_request: Request, response: Response) => {
    const rendered = errorResponse(new DomainError('VISITOR_RATE_LIMITED', message, { retryAfterSeconds: 60 }), 'platform', '');
    response.status(rendered.status).set(rendered.headers).json(rendered.body);
  };
  const perVisitor = rateLimit({
    windowMs: 60_000,
    limit: limits.visitorRequestsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (request) => `${String(request.params.slug)}:${typeof request.body?.visitorId === 'string' ? request.body.visitorId.slice(0, 100) : ''}`,
    handler: tooMany('You are sending messages very quickly. Please wait a minute and try again.'),
  });
  const perAddress = rateLimit({
    windowMs: 60_000,
    limit: limits.addressRequestsPerMinute,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: (request) => `${String(request.params.slug)}:${ipKeyGenerator(request.ip ?? '')}`,
    handler: tooMany('Many messages are coming from your network. Please wait a minute and try again.'),
  });

  const API = '/api/public/agents/:slug';
  // Preflights: the same checks; cors() answers an allowed one with 204 (a middleware, not a documented route).
  router.use(API, (request, response, next) => (request.method === 'OPTIONS' ? published(request, response, next) : next()));

  router.get(API, published, (request, response) => {
    response.json(publishing.publicView(request.publishedAgent!));
  });

  router.post(`${API}/chat`, published, perAddress, perVisitor, async (request, response) => {
    const agent = request.publishedAgent!;
    const input = parseInput(visitorChatSchema, request.body);
    const visitorId = visitorIdOf(input.visitorId);
    const address = request.ip ?? 'unknown';
    await visitorLimits.check(agent._id, visitorId, address);
    const events = await chat.turn({
      agent,
      source: 'published',
      visitorId,
      message: input.message,
      conversationId: input.conversationId,
      history: input.history,
      endUser: visitorId,
      metadata: { channel: 'published' },
      signal: abortOnClientClose(response),
      requestId: String(request.id),
    });
    openEventStream(response);
    try {
      for await (const event of events) {
        if (event.type === 'delta') response.write(`data: ${JSON.stringify({ type: 'delta', content: event.content })}\n\n`);
        else {
          await visitorLimits.record(agent._id, address, event.usage.inputTokens + event.usage.outputTokens).catch(() => undefined);
          response.write(`data: ${JSON.stringify({ type: 'end', conversationId: event.conversationId, usage: event.usage, finishReason: event.finishReason })}\n\n`);
        }
      }
    } catch (error) {
      const failure = streamFailure(error);
      // A visitor sees the plain message only; internal details (provider names, keys) never reach the public page.
      if (!response.destroyed) response.write(`data: ${JSON.stringify({ type: 'error', error: { code: failure.code, message: publicMessage(failure) } })}\n\n`);
    }
    response.end();
  });

  // A visitor reads back their own conversation (when the agent keeps them), e.g. after reloading the page.
  router.get(`${API}/conversations/:conversationId`, published, async (request, response) => {
    const agent = request.publishedAgent!;
    const visitorId = visitorIdOf(request.query.visitorId);
    const messages = retentionDaysOf(agent) > 0 ? await conversations.history(agent, String(request.params.conversationId), { visitorId }) : undefined;
    if (!messages) throw new DomainError('NOT_FOUND', 'Conversation not found.');
    response.json({ id: String(request.params.conversationId), messages: messages.map((message) => ({ role: message.role, content: message.content })) });
  });

  return router;
}

/** What a visitor is told when a reply fails: friendly, and never the provider's own words. */
function publicMessage(error: DomainError): string {
  switch (error.code) {
    case 'PLAN_LIMIT_REACHED':
    case 'END_USER_LIMIT_REACHED':
      return 'This assistant has reached its usage limit for now. Please try again later.';
    case 'PROMPT_TOO_LARGE':
      return 'This conversation has become too long. Please start a new one.';
    default:
      return 'The assistant could not answer just now. Please try again in a moment.';
  }
}
