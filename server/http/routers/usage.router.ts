// Usage, CSV export and alerts of a workspace.
import { Router, type RequestHandler } from 'express';
import type { UsageService } from '../../metering/usage.service';
import { parseMonth } from '../../metering/usage.service';
import type { AlertService } from '../../metering/alert.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';

export function createUsageRouter(usage: UsageService, alerts: AlertService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const WORKSPACE = '/api/workspaces/:workspaceId';
  router.get(`${WORKSPACE}/usage`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await usage.workspaceUsage(request.workspaceAccess!.workspaceId, parseMonth(request.query.month)));
  });
  router.get(`${WORKSPACE}/usage/export.csv`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const month = parseMonth(request.query.month);
    response.setHeader('Content-Type', 'text/csv; charset=utf-8');
    response.setHeader('Content-Disposition', `attachment; filename="usage-${month}.csv"`);
    await usage.exportCsv(request.workspaceAccess!.workspaceId, month, response);
  });
  router.get(`${WORKSPACE}/agents/:agentId/usage`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await usage.agentUsage(request.workspaceAccess!.workspaceId, String(request.params.agentId), parseMonth(request.query.month)));
  });
  router.get(`${WORKSPACE}/alerts`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await alerts.list(request.workspaceAccess!.workspaceId));
  });
  router.post(`${WORKSPACE}/alerts/read-all`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json({ updated: await alerts.markAllRead(request.workspaceAccess!.workspaceId) });
  });
  router.post(`${WORKSPACE}/alerts/:alertId/read`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await alerts.markRead(request.workspaceAccess!.workspaceId, String(request.params.alertId)));
  });
  return router;
}
