// The owner's side of publishing: share link / embed settings, publish / unpublish / rotate, usage per end user,
// published and playground conversations (search, filter by visitor, export, delete), the playground's server-side
// conversation turn, and workspace templates. Thin: validate, call the service, respond.
import { Router, type RequestHandler, type Response } from 'express';
import { openEventStream } from '../sse-writer';
import { z } from 'zod';
import type { AgentService } from '../../../agents/agent.service';
import type { ConversationChat, ConversationEvent } from '../../../agents/conversation-chat';
import type { ConversationService } from '../../../agents/conversation.service';
import type { PublishingService } from '../../../agents/publishing.service';
import { publishingSettingsSchema } from '../../../agents/publishing.schemas';
import { createWorkspaceTemplateSchema, patchWorkspaceTemplateSchema, type WorkspaceTemplateService } from '../../../agents/workspace-template.service';
import type { EndUserUsageService } from '../../metering/end-user-usage.service';
import { parseMonth } from '../../metering/usage.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';
import { streamFailure } from '../error-response';
import { abortOnClientClose } from '../openai-compatible-api';

const AGENT = '/api/workspaces/:workspaceId/agents/:agentId';
const TEMPLATES = '/api/workspaces/:workspaceId/templates';

export const conversationQuerySchema = z
  .object({
    q: z.string().trim().max(200).optional(),
    visitorId: z.string().max(100).optional(),
    source: z.enum(['published', 'playground']).optional(),
    limit: z.coerce.number().int().min(1).max(200).optional(),
  })
  .strict();

export const endUserQuerySchema = z.object({ month: z.string().optional(), limit: z.coerce.number().int().min(1).max(200).optional(), prefix: z.string().max(100).optional() }).strict();

export const recordSchema = z.object({ conversationId: z.string().max(100).optional(), user: z.string().min(1).max(400_000), assistant: z.string().max(1_000_000) }).strict();

export const playgroundTurnSchema = z.object({ message: z.string().max(1_000_000), conversationId: z.string().max(100).optional() }).strict();

export interface PublishingRouterDependencies {
  agents: AgentService;
  publishing: PublishingService;
  conversations: ConversationService;
  chat: ConversationChat;
  endUserUsage: EndUserUsageService;
  workspaceTemplates: WorkspaceTemplateService;
}

export async function writeConversationSse(response: Response, events: AsyncGenerator<ConversationEvent>): Promise<void> {
  openEventStream(response);
  try {
    for await (const event of events) response.write(`data: ${JSON.stringify(event)}\n\n`);
  } catch (error) {
    const failure = streamFailure(error);
    if (!response.destroyed) response.write(`data: ${JSON.stringify({ type: 'error', error: { code: failure.code, message: failure.message } })}\n\n`);
  }
  response.end();
}

export function createPublishingRouter(dependencies: PublishingRouterDependencies, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const { agents, publishing, conversations, chat, endUserUsage, workspaceTemplates } = dependencies;
  const router = Router();
  const actor = (request: Express.Request) => ({ userId: request.user!.userId });
  const ids = (request: import('express').Request) => [request.workspaceAccess!.workspaceId, String(request.params.agentId)] as const;

  router.get(`${AGENT}/publishing`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await publishing.settings(...ids(request)));
  });
  router.patch(`${AGENT}/publishing`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(publishingSettingsSchema, request.body);
    response.json(await publishing.update(...ids(request), actor(request), input));
  });
  router.post(`${AGENT}/publishing/publish`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await publishing.publish(...ids(request), actor(request)));
  });
  router.post(`${AGENT}/publishing/rotate`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await publishing.publish(...ids(request), actor(request), { rotate: true }));
  });
  router.post(`${AGENT}/publishing/unpublish`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await publishing.unpublish(...ids(request), actor(request)));
  });

  router.get(`${AGENT}/usage/end-users`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const query = parseInput(endUserQuerySchema, request.query, 'query');
    response.json(await endUserUsage.topEndUsers(...ids(request), parseMonth(query.month), query.limit ?? 20, query.prefix));
  });

  router.get(`${AGENT}/conversations`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const query = parseInput(conversationQuerySchema, request.query, 'query');
    response.json(await conversations.list(await agents.getRecord(...ids(request)), query));
  });
  router.get(`${AGENT}/conversations/export`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const query = parseInput(conversationQuerySchema, request.query, 'query');
    const agent = await agents.getRecord(...ids(request));
    response.setHeader('Content-Type', 'application/json; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="conversations-${agent._id.toHexString()}.json"`);
    response.write('[');
    let first = true;
    for await (const conversation of conversations.export(agent, query)) {
      response.write(`${first ? '' : ','}\n${JSON.stringify(conversation)}`);
      first = false;
    }
    response.end('\n]\n');
  });
  router.get(`${AGENT}/conversations/:conversationId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await conversations.get(await agents.getRecord(...ids(request)), String(request.params.conversationId)));
  });
  router.delete(`${AGENT}/conversations/:conversationId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    await conversations.remove(await agents.getRecord(...ids(request)), String(request.params.conversationId));
    response.status(204).end();
  });
  router.delete(`${AGENT}/conversations`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const query = parseInput(conversationQuerySchema.pick({ visitorId: true, source: true }), request.query, 'query');
    response.json({ deleted: await conversations.removeAll(await agents.getRecord(...ids(request)), query) });
  });

  // The playground's server-side conversation: the same turn as a visitor's, attributed to the builder.
  router.post(`${AGENT}/conversations/turn`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(playgroundTurnSchema, request.body);
    const agent = await agents.getRecord(...ids(request));
    const events = await chat.turn({
      agent,
      source: 'playground',
      userId: request.user!.userId,
      message: input.message,
      conversationId: input.conversationId,
      signal: abortOnClientClose(response),
      requestId: String(request.id),
      maxMessageLength: 400_000,
    });
    await writeConversationSse(response, events);
  });

  // The playground (which calls the agent chat API itself) records each exchange; kept only while retention is on.
  router.post(`${AGENT}/conversations/record`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(recordSchema, request.body);
    const agent = await agents.getRecord(...ids(request));
    const conversationId = await conversations.append(agent, { conversationId: input.conversationId, source: 'playground', userId: request.user!.userId, user: input.user, assistant: input.assistant });
    response.json({ conversationId: conversationId ?? null });
  });

  router.get(TEMPLATES, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await workspaceTemplates.list(request.workspaceAccess!.workspaceId));
  });
  router.post(TEMPLATES, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(createWorkspaceTemplateSchema, request.body);
    response.status(201).json(await workspaceTemplates.create(request.workspaceAccess!.workspaceId, actor(request), input));
  });
  router.get(`${TEMPLATES}/:templateId`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await workspaceTemplates.get(request.workspaceAccess!.workspaceId, String(request.params.templateId)));
  });
  router.patch(`${TEMPLATES}/:templateId`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(patchWorkspaceTemplateSchema, request.body);
    response.json(await workspaceTemplates.update(request.workspaceAccess!.workspaceId, String(request.params.templateId), actor(request), input));
  });
  router.delete(`${TEMPLATES}/:templateId`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    await workspaceTemplates.remove(request.workspaceAccess!.workspaceId, String(request.params.templateId), actor(request));
    response.status(204).end();
  });
  return router;
}
