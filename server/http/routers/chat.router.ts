// The playground/API chat of one agent (user JWT): JSON or SSE.
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AgentService } from '../../../agents/agent.service';
import type { AgentRunner, RunStream } from '../../../agents/agent-runner';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';
import { streamFailure } from '../error-response';
import { openEventStream, SseWriter } from '../sse-writer';
import { abortOnClientClose, routingHeaders } from '../openai-compatible-api';
import { chatMessagesSchema, chatSurfaceFields, normalizeChatInput } from '../chat-completion-request';
import { CONVERSATION_HEADER, ROUTE_HEADER, conversationIdFrom, parseForcedRoute } from '../../../agents/run-routing';
import { cacheControlOf, cacheHeaders } from '../response-cache-headers';

// Messages and the Chat Completions fields (tools, tool_choice, response_format, stop, sampling, user, metadata) are
// the same schema as /v1 (chat-completion-request.ts); the output budget and temperature keep this API's names.
export const chatRequestSchema = z
  .object({
    messages: chatMessagesSchema,
    stream: z.boolean().optional().default(false),
    maxTokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    ...chatSurfaceFields,
  })
  .strict();

/** A tool call as OpenAI writes it, so the assistant message can be sent back as it is. */
const wireToolCalls = (toolCalls: ReadonlyArray<{ id: string; name: string; arguments: string }>) =>
  toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));

async function writeSse(response: Response, stream: RunStream): Promise<void> {
  openEventStream(response, { ...routingHeaders(stream), ...cacheHeaders(stream), Connection: 'keep-alive' });
  // Events that come close together go out in one write (sse-writer.ts).
  const writer = new SseWriter(response);
  try {
    for await (const event of stream.events) {
      // Same bytes as JSON.stringify({ type: 'delta', content }), without building the object per delta (#20).
      if (event.type === 'delta') writer.write(`data: {"type":"delta","content":${JSON.stringify(event.content)}}\n\n`);
      else if (event.type === 'tool_call') writer.write(`data: ${JSON.stringify(event)}\n\n`);
      else writer.hold(`data: ${JSON.stringify({ type: 'end', usage: event.usage, finishReason: event.finishReason, cost: event.cost, requestId: stream.requestId, provider: stream.provider, model: stream.model, ...(stream.routing ? { routing: stream.routing } : {}), ...(stream.fallbackPlan ? { fallbackPlan: stream.fallbackPlan } : {}), cache: stream.cache ?? null, experiment: stream.experiment ?? null })}\n\n`);
    }
  } catch (error) {
    const appError = streamFailure(error);
    writer.hold(`data: ${JSON.stringify({ type: 'error', error: { code: appError.code, message: appError.message }, requestId: stream.requestId })}\n\n`);
  }
  writer.end();
}

export function createChatRouter(agents: AgentService, runner: AgentRunner, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  router.post('/api/workspaces/:workspaceId/agents/:agentId/chat', authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(chatRequestSchema, request.body);
    const normalized = normalizeChatInput(input, { allowSystem: false });
    const agent = await agents.getRecord(request.workspaceAccess!.workspaceId, String(request.params.agentId));
    const runInput = {
      agent,
      messages: normalized.messages,
      maxTokens: input.maxTokens,
      temperature: input.temperature,
      signal: abortOnClientClose(response),
      requestId: String(request.id),
      options: normalized.options,
      endUser: normalized.endUser,
      metadata: normalized.metadata,
      route: parseForcedRoute(request.headers[ROUTE_HEADER]),
      conversationId: conversationIdFrom(request.headers[CONVERSATION_HEADER], normalized.metadata),
      cacheControl: cacheControlOf(request.headers['cache-control']),
    };
    if (input.stream) {
      await writeSse(response, await runner.stream(runInput));
      return;
    }
    const result = await runner.generate(runInput);
    for (const [name, value] of Object.entries(routingHeaders(result) ?? {})) response.setHeader(name, value);
    for (const [name, value] of Object.entries(cacheHeaders(result))) response.setHeader(name, value);
    response.json({
      message: result.toolCalls ? { role: 'assistant', content: result.content, tool_calls: wireToolCalls(result.toolCalls) } : { role: 'assistant', content: result.content },
      usage: result.usage,
      cost: result.cost,
      provider: result.provider,
      model: result.model,
      requestId: result.requestId,
      finishReason: result.finishReason,
      ...(result.routing ? { routing: result.routing } : {}),
      ...(result.fallbackPlan ? { fallbackPlan: result.fallbackPlan } : {}),
      cache: result.cache ?? null,
      experiment: result.experiment ?? null,
    });
  });
  return router;
}
