// Agent CRUD, LLM setting, connection test and /v1 API keys. Thin: validate, call the service, respond.
import { Router, type RequestHandler } from 'express';
import type { AgentService } from '../../../agents/agent.service';
import { createAgentSchema, createApiKeySchema, llmSettingSchema, patchAgentSchema, renameApiKeySchema } from '../../../agents/agent.schemas';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';
import type { HealthSubject } from '../../../agents/agent-health';

const AGENT = '/api/workspaces/:workspaceId/agents/:agentId';

export interface ConnectionTester {
  testConnection(workspaceId: string, agentId: string): Promise<{ ok: boolean; status: string; message: string; latencyMs: number }>;
}

/** experience (#18): adds `health` to every agent the router answers with (agents/agent-health.ts). */
export interface AgentHealthAttacher {
  attach<T extends HealthSubject>(agents: T[]): Promise<Array<T & { health: unknown }>>;
  attachOne<T extends HealthSubject>(agent: T): Promise<T & { health: unknown }>;
}

const NO_HEALTH: AgentHealthAttacher = { attach: async (agents) => agents as never, attachOne: async (agent) => agent as never };

export function createAgentsRouter(
  agents: AgentService,
  tester: ConnectionTester,
  authenticate: RequestHandler,
  requireWorkspaceRole: RequireWorkspaceRole,
  health: AgentHealthAttacher = NO_HEALTH,
): Router {
  const router = Router();
  const actor = (request: Express.Request) => ({ userId: request.user!.userId, role: request.workspaceAccess!.role });
  const ids = (request: import('express').Request) => [request.workspaceAccess!.workspaceId, String(request.params.agentId)] as const;

  router.get('/api/workspaces/:workspaceId/agents', authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await health.attach(await agents.list(request.workspaceAccess!.workspaceId)));
  });
  router.post('/api/workspaces/:workspaceId/agents', authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(createAgentSchema, request.body);
    response.status(201).json(await health.attachOne(await agents.create(request.workspaceAccess!.workspaceId, actor(request), input)));
  });
  router.get(AGENT, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await health.attachOne(await agents.get(...ids(request))));
  });
  router.patch(AGENT, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(patchAgentSchema, request.body);
    response.json(await health.attachOne(await agents.patch(...ids(request), actor(request), input)));
  });
  router.delete(AGENT, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    await agents.remove(...ids(request), actor(request));
    response.status(204).end();
  });
  router.put(`${AGENT}/llm`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(llmSettingSchema, request.body);
    response.json(await health.attachOne(await agents.setLlm(...ids(request), actor(request), input)));
  });
  router.post(`${AGENT}/llm/test`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    response.json(await tester.testConnection(...ids(request)));
  });
  router.get(`${AGENT}/api-keys`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await agents.listApiKeys(...ids(request)));
  });
  router.post(`${AGENT}/api-keys`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(createApiKeySchema, request.body);
    response.status(201).json(await agents.createApiKey(...ids(request), actor(request), input));
  });
  router.patch(`${AGENT}/api-keys/:keyId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(renameApiKeySchema, request.body);
    response.json(await agents.renameApiKey(...ids(request), String(request.params.keyId), actor(request), input.name));
  });
  router.delete(`${AGENT}/api-keys/:keyId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    await agents.revokeApiKey(...ids(request), String(request.params.keyId), actor(request));
    response.status(204).end();
  });
  return router;
}
