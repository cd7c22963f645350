// The playground/API chat of one agent (user JWT): JSON or SSE.
import { Router, type RequestHandler, type Response } from 'express';
import { z } from 'zod';
import type { AgentService } from '../../../agents/agent.service';
import type { AgentRunner, RunStream } from '../../../agents/agent-runner';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';
import { streamFailure } from '../error-response';
import { abortOnClientClose } from '../openai-compatible-api';
import { cacheControlOf, cacheHeaders } from '../response-cache-headers';

export const chatRequestSchema = z
  .object({
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(400_000) }).strict())
      .min(1, 'needs at least one message')
      .max(500),
    stream: z.boolean().optional().default(false),
    maxTokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
  })
  .strict();

async function writeSse(response: Response, stream: RunStream): Promise<void> {
  response.status(200);
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache, no-transform');
  response.setHeader('Connection', 'keep-alive');
  response.setHeader('X-Accel-Buffering', 'no');
  for (const [name, value] of Object.entries(cacheHeaders(stream))) response.setHeader(name, value);
  response.flushHeaders();
  try {
    for await (const event of stream.events) {
      if (event.type === 'delta') response.write(`data: ${JSON.stringify({ type: 'delta', content: event.content })}\n\n`);
      else response.write(`data: ${JSON.stringify({ type: 'end', usage: event.usage, finishReason: event.finishReason, requestId: stream.requestId, provider: stream.provider, model: stream.model, cache: stream.cache ?? null, experiment: stream.experiment ?? null })}\n\n`);
    }
  } catch (error) {
    const appError = streamFailure(error);
    if (!response.destroyed) response.write(`data: ${JSON.stringify({ type: 'error', error: { code: appError.code, message: appError.message }, requestId: stream.requestId })}\n\n`);
  }
  response.end();
}

export function createChatRouter(agents: AgentService, runner: AgentRunner, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  router.post('/api/workspaces/:workspaceId/agents/:agentId/chat', authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(chatRequestSchema, request.body);
    const agent = await agents.getRecord(request.workspaceAccess!.workspaceId, String(request.params.agentId));
    const runInput = {
      agent,
      messages: input.messages,
      maxTokens: input.maxTokens,
      temperature: input.temperature,
      signal: abortOnClientClose(response),
      requestId: String(request.id),
      cacheControl: cacheControlOf(request.headers['cache-control']),
    };
    if (input.stream) {
      await writeSse(response, await runner.stream(runInput));
      return;
    }
    const result = await runner.generate(runInput);
    for (const [name, value] of Object.entries(cacheHeaders(result))) response.setHeader(name, value);
    response.json({
      message: { role: 'assistant', content: result.content },
      usage: result.usage,
      provider: result.provider,
      model: result.model,
      requestId: result.requestId,
      finishReason: result.finishReason,
      cache: result.cache ?? null,
      experiment: result.experiment ?? null,
    });
  });
  return router;
}
