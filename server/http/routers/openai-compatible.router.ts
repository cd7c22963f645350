// /v1: the OpenAI Chat Completions API in front of one agent, authenticated by the agent's `ak_` key.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AgentService } from '../../../agents/agent.service';
import { hashAgentApiKey } from '../../../agents/agent.service';
import type { AgentDocument } from '../../../agents/agent.model';
import type { AgentRunner } from '../../../agents/agent-runner';
import type { ChatMessage } from '../../llm/llm.types';
import { parseInput } from '../middleware/validate-request';
import { AppError } from '../app-error';
import { abortOnClientClose } from './chat.router';

const contentPartSchema = z.object({ type: z.literal('text'), text: z.string() }).passthrough();
const openAiMessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.union([z.string(), z.array(contentPartSchema), z.null()]),
  })
  .passthrough();

const completionRequestSchema = z
  .object({
    model: z.string().max(200).optional(),
    messages: z.array(openAiMessageSchema).min(1).max(500),
    stream: z.boolean().nullish(),
    stream_options: z.object({ include_usage: z.boolean().optional() }).passthrough().nullish(),
    max_tokens: z.number().int().positive().nullish(),
    max_completion_tokens: z.number().int().positive().nullish(),
    temperature: z.number().min(0).max(2).nullish(),
    n: z.number().int().min(1).max(1, 'only n=1 is supported').nullish(),
    tools: z.undefined({ message: 'tools are not supported by Agent Host agents' }).optional(),
  })
  .passthrough();

interface CachedAgent {
  agent: AgentDocument;
  apiKeyId: string;
  expiresAt: number;
}

const AGENT_CACHE_TTL_MS = 5_000;
const LAST_USED_WRITE_INTERVAL_MS = 60_000;

/** Caches `ak_` key → agent for a few seconds; local changes to an agent drop its entries at once. */
class AgentKeyCache {
  private readonly entries = new Map<string, CachedAgent>();
  private readonly lastUsedWrites = new Map<string, number>();

  constructor(private readonly agents: AgentService) {
    agents.onAgentChanged((agentId) => {
      for (const [hash, entry] of this.entries) if (entry.agent._id.toString() === agentId) this.entries.delete(hash);
    });
  }

  async resolve(key: string): Promise<CachedAgent | undefined> {
    const hash = hashAgentApiKey(key);
    const cached = this.entries.get(hash);
    if (cached && cached.expiresAt > Date.now()) return cached;
    const found = await this.agents.findByApiKey(key);
    if (!found) {
      this.entries.delete(hash);
      return undefined;
    }
    const entry = { agent: found.agent, apiKeyId: found.apiKeyId, expiresAt: Date.now() + AGENT_CACHE_TTL_MS };
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(hash, entry);
    return entry;
  }

  touch(apiKeyId: string): void {
    const last = this.lastUsedWrites.get(apiKeyId) ?? 0;
    if (Date.now() - last < LAST_USED_WRITE_INTERVAL_MS) return;
    this.lastUsedWrites.set(apiKeyId, Date.now());
    void this.agents.touchApiKey(apiKeyId).catch(() => undefined);
  }
}

function flattenContent(content: z.infer<typeof openAiMessageSchema>['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((part) => part.text).join('');
}

const OPENAI_FINISH_REASONS: Record<string, string> = { stop: 'stop', length: 'length', content_filter: 'content_filter', tool_calls: 'tool_calls' };

export function createOpenAiCompatibleRouter(agents: AgentService, runner: AgentRunner): Router {
  const router = Router();
  const cache = new AgentKeyCache(agents);

  const authenticateAgentKey: RequestHandler = async (request, response, next) => {
    const header = request.headers.authorization ?? '';
    const key = header.startsWith('Bearer ') ? header.slice(7).trim() : '';
    const resolved = key ? await cache.resolve(key) : undefined;
    if (!resolved) return next(new AppError(401, 'invalid_api_key', 'Invalid or revoked agent API key. Create one on the agent page (keys start with ak_).'));
    response.locals.agent = resolved.agent;
    cache.touch(resolved.apiKeyId);
    next();
  };

  router.get('/v1/models', authenticateAgentKey, (_request, response) => {
    const agent = response.locals.agent as AgentDocument;
    response.json({
      object: 'list',
      data: [{ id: agent._id.toString(), object: 'model', created: Math.floor(agent.createdAt.getTime() / 1000), owned_by: 'agent-host', name: agent.name }],
    });
  });

  router.post('/v1/chat/completions', authenticateAgentKey, async (request, response) => {
    const agent = response.locals.agent as AgentDocument;
    const input = parseInput(completionRequestSchema, request.body);
    const messages: ChatMessage[] = input.messages.map((message) => ({
      role: message.role === 'developer' ? 'system' : message.role,
      content: flattenContent(message.content),
    }));
    const requestId = String(request.id);
    const completionId = `chatcmpl-${requestId.replace(/^req_/, '')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = input.model || agent._id.toString();
    const runInput = {
      agent,
      messages,
      maxTokens: input.max_completion_tokens ?? input.max_tokens ?? undefined,
      temperature: input.temperature ?? undefined,
      signal: abortOnClientClose(response),
      requestId,
    };

    if (!input.stream) {
      const result = await runner.generate(runInput);
      response.json({
        id: completionId,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: result.content, refusal: null }, logprobs: null, finish_reason: OPENAI_FINISH_REASONS[result.finishReason] ?? 'stop' }],
        usage: { prompt_tokens: result.usage.inputTokens, completion_tokens: result.usage.outputTokens, total_tokens: result.usage.inputTokens + result.usage.outputTokens },
        system_fingerprint: null,
      });
      return;
    }

    const stream = await runner.stream(runInput);
    const includeUsage = input.stream_options?.include_usage === true;
    response.status(200);
    response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache, no-transform');
    response.setHeader('X-Accel-Buffering', 'no');
    response.flushHeaders();
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id: completionId, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices, ...extra })}\n\n`;
    response.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }], includeUsage ? { usage: null } : {}));
    try {
      for await (const event of stream.events) {
        if (event.type === 'delta') {
          response.write(chunk([{ index: 0, delta: { content: event.content }, logprobs: null, finish_reason: null }], includeUsage ? { usage: null } : {}));
        } else {
          response.write(chunk([{ index: 0, delta: {}, logprobs: null, finish_reason: OPENAI_FINISH_REASONS[event.finishReason] ?? 'stop' }], includeUsage ? { usage: null } : {}));
          if (includeUsage) {
            const usage = { prompt_tokens: event.usage.inputTokens, completion_tokens: event.usage.outputTokens, total_tokens: event.usage.inputTokens + event.usage.outputTokens };
            response.write(chunk([], { usage }));
          }
        }
      }
      response.write('data: [DONE]\n\n');
    } catch (error) {
      const appError = error instanceof AppError ? error : new AppError(503, 'PROVIDER_UNAVAILABLE', 'The AI provider stopped responding.');
      if (!response.destroyed) response.write(`data: ${JSON.stringify({ error: { message: appError.message, type: 'api_error', code: appError.code } })}\n\n`);
    }
    response.end();
  });

  return router;
}
