// Usage over a date range, today by hour (workspace or one agent), and the model catalog as a list for its page.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { UsageViewsService } from '../../metering/usage-views.service';
import { parseActivityRange } from '../../metering/activity.service';
import type { Catalog } from '../../catalog/catalog.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be an id');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day like 2026-11-30');

export const usageRangeQuerySchema = z
  .object({
    from: day.optional().meta({ description: 'First UTC day (default: 29 days before `to`)' }),
    to: day.optional().meta({ description: 'Last UTC day (default: today)' }),
    agentId: objectId.optional().meta({ description: 'Only this agent (default: the whole workspace)' }),
  })
  .strict();
export const usageTodayQuerySchema = z.object({ agentId: objectId.optional().meta({ description: 'Only this agent' }) }).strict();

/** What a model can do, as far as the catalog and the platform know (a catalog entry may list its own). */
const CAPABILITY_NAMES: Record<string, string> = { tools: 'tools', vision: 'images', jsonSchema: 'structured output' };

function capabilitiesOf(model: Record<string, unknown>): string[] {
  const declared = model.capabilities;
  const listed = Array.isArray(declared)
    ? declared.filter((entry): entry is string => typeof entry === 'string')
    : declared && typeof declared === 'object'
      ? Object.entries(declared as Record<string, unknown>).filter(([, on]) => on === true).map(([name]) => CAPABILITY_NAMES[name] ?? name)
      : [];
  return [...new Set(['chat', 'streaming', ...listed])];
}

export function createUsageViewsRouter(views: UsageViewsService, catalog: Catalog, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const WORKSPACE = '/api/workspaces/:workspaceId';
  router.get(`${WORKSPACE}/usage/range`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const query = parseInput(usageRangeQuerySchema, request.query, 'query');
    response.json(await views.range(request.workspaceAccess!.workspaceId, { ...parseActivityRange(query), agentId: query.agentId }));
  });
  router.get(`${WORKSPACE}/usage/today`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const query = parseInput(usageTodayQuerySchema, request.query, 'query');
    response.json(await views.todayByHour(request.workspaceAccess!.workspaceId, { agentId: query.agentId }));
  });
  const models = catalog.providers.flatMap((provider) =>
    provider.models.map((model) => ({
      provider: provider.id,
      providerName: provider.name,
      id: model.id,
      inputUsdPerMillion: model.inputUsdPerMillion,
      outputUsdPerMillion: model.outputUsdPerMillion,
      contextWindow: model.contextWindow,
      maxOutputTokens: model.maxOutputTokens ?? null,
      capabilities: capabilitiesOf(model as Record<string, unknown>),
    })),
  );
  router.get('/api/models', (_request, response) => void response.json(models));
  return router;
}
