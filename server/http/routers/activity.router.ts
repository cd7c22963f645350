// The activity log of a workspace: cursor pages with filters, one call's detail, and the CSV of the filtered set.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { stringify as csvStringify } from 'csv-stringify';
import {
  ACTIVITY_CSV_COLUMNS, ACTIVITY_PAGE_DEFAULT, ACTIVITY_PAGE_MAX, ACTIVITY_STATUSES, activityCsvRow, parseActivityRange, type ActivityFilters, type ActivityService,
} from '../../metering/activity.service';
import { neutralizeFormula } from '../../metering/usage.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

const objectId = z.string().regex(/^[0-9a-f]{24}$/i, 'must be an id');
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a UTC day like 2026-11-30');

/** The filters of the activity log (query string); also the CSV export's. */
export const activityFilterQuerySchema = z
  .object({
    agentId: objectId.optional().meta({ description: 'Only this agent' }),
    status: z.enum(ACTIVITY_STATUSES).optional().meta({ description: 'ok, error, partial (a stream cut short) or timeout' }),
    apiKeyId: objectId.optional().meta({ description: 'Only calls made with this agent API key' }),
    endUser: z.string().min(1).max(256).optional().meta({ description: 'Only calls for this end user (the `user` field of /v1)' }),
    from: day.optional().meta({ description: 'First UTC day included (default: 29 days before `to`)' }),
    to: day.optional().meta({ description: 'Last UTC day included (default: today)' }),
  })
  .strict();

export const activityPageQuerySchema = activityFilterQuerySchema
  .extend({
    cursor: z.string().max(200).optional().meta({ description: 'nextCursor of the previous page' }),
    limit: z.coerce.number().int().min(1).max(ACTIVITY_PAGE_MAX).optional().meta({ description: `Rows per page (default ${ACTIVITY_PAGE_DEFAULT})` }),
  })
  .strict();

function filtersOf(query: z.infer<typeof activityFilterQuerySchema>): ActivityFilters {
  const range = parseActivityRange({ from: query.from, to: query.to });
  return { agentId: query.agentId, status: query.status, apiKeyId: query.apiKeyId, endUser: query.endUser, ...range };
}

export function createActivityRouter(activity: ActivityService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const ACTIVITY = '/api/workspaces/:workspaceId/activity';
  router.get(ACTIVITY, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const query = parseInput(activityPageQuerySchema, request.query, 'query');
    response.json(await activity.page(request.workspaceAccess!.workspaceId, { ...filtersOf(query), cursor: query.cursor, limit: query.limit ?? ACTIVITY_PAGE_DEFAULT }));
  });
  router.get(`${ACTIVITY}/export.csv`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const filters = filtersOf(parseInput(activityFilterQuerySchema, request.query, 'query'));
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="activity-${filters.from}-to-${filters.to}.csv"`);
    // Loaded when an export is asked for, not at start-up.
    const { stringify } = require('csv-stringify') as { stringify: typeof csvStringify };
    const csv = stringify({ header: true, columns: [...ACTIVITY_CSV_COLUMNS], cast: { string: neutralizeFormula, boolean: (value) => String(value) } });
    csv.pipe(response);
    for await (const row of activity.rows(request.workspaceAccess!.workspaceId, filters)) {
      if (!csv.write(activityCsvRow(row))) await new Promise((resolve) => csv.once('drain', resolve));
    }
    csv.end();
    await new Promise((resolve) => response.once('finish', resolve));
  });
  router.get(`${ACTIVITY}/:eventId`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await activity.detail(request.workspaceAccess!.workspaceId, String(request.params.eventId)));
  });
  return router;
}
