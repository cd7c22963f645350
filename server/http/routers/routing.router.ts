// Cost-aware routing (#14): an agent's light model and routing settings, and the savings view of an agent and of the
// workspace. Thin: validate, call the service, respond.
import { Router, type RequestHandler } from 'express';
import type { AgentService } from '../../../agents/agent.service';
import { lightModelSchema, routingSettingsSchema } from '../../../agents/agent-routing.schemas';
import type { UsageService } from '../../metering/usage.service';
import { parseMonth } from '../../metering/usage.service';
import { routingSummaryWords } from '../../metering/routing-savings';
import { cacheSavingsWords, savingsSources } from '../../metering/savings-sources';
import type { UsageSplitsService } from '../../metering/usage-splits.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

const AGENT = '/api/workspaces/:workspaceId/agents/:agentId';

export function createRoutingRouter(agents: AgentService, usage: UsageService, splits: UsageSplitsService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const actor = (request: Express.Request) => ({ userId: request.user!.userId, role: request.workspaceAccess!.role });
  const ids = (request: import('express').Request) => [request.workspaceAccess!.workspaceId, String(request.params.agentId)] as const;

  router.put(`${AGENT}/routing`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(routingSettingsSchema, request.body);
    response.json(await agents.setRouting(...ids(request), actor(request), input));
  });
  router.put(`${AGENT}/llm/light`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(lightModelSchema, request.body);
    response.json(await agents.setLightModel(...ids(request), actor(request), input));
  });
  router.delete(`${AGENT}/llm/light`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    response.json(await agents.removeLightModel(...ids(request), actor(request)));
  });
  router.get(`${AGENT}/savings`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const month = parseMonth(request.query.month);
    const row = await usage.agentUsage(...ids(request), month);
    const sources = await savingsSources(splits, request.workspaceAccess!.workspaceId, month, row.agentId);
    response.json({
      month,
      agentId: row.agentId,
      mode: row.mode,
      requests: row.requests,
      errors: row.errors,
      ...row.routing,
      ...sources,
      summary: routingSummaryWords(row.routing, row.mode) + cacheSavingsWords(sources.cache, row.mode),
    });
  });
  router.get('/api/workspaces/:workspaceId/savings', authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const month = parseMonth(request.query.month);
    const workspace = await usage.workspaceUsage(request.workspaceAccess!.workspaceId, month);
    const sources = await savingsSources(splits, request.workspaceAccess!.workspaceId, month);
    response.json({
      month,
      requests: workspace.totals.requests,
      errors: workspace.agents.reduce((total, row) => total + row.errors, 0),
      ...workspace.totals.routing,
      ...sources,
      summary: routingSummaryWords(workspace.totals.routing, 'workspace') + cacheSavingsWords(sources.cache, 'workspace'),
      agents: workspace.agents.map((row) => ({ agentId: row.agentId, name: row.name, mode: row.mode, requests: row.requests, errors: row.errors, ...row.routing, summary: routingSummaryWords(row.routing, row.mode) })),
    });
  });
  return router;
}
