// Monthly statements (list, read, printable page, CSV/JSON downloads) and an agent's plan history. Owners only for
// statements; plan history is readable by every member (it is what the agent page's usage tab explains).
import { Router, type RequestHandler, type Response } from 'express';
import { Types } from 'mongoose';
import type { StatementService } from '../../metering/billing/statement.service';
import type { PlanHistoryService } from '../../metering/billing/plan-history';
import { statementCsv, statementHtml, statementJson, statementSummary } from '../../metering/billing/statement-views';
import { parseMonth } from '../../metering/usage.service';
import { OBJECT_ID_PATTERN } from '../../db/driver-errors';
import { notFound } from '../../errors/domain-error';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';

export function createStatementsRouter(
  statements: StatementService,
  planHistory: PlanHistoryService,
  workspaceName: (workspaceId: string) => Promise<string>,
  authenticate: RequestHandler,
  requireWorkspaceRole: RequireWorkspaceRole,
): Router {
  const router = Router();
  const STATEMENTS = '/api/workspaces/:workspaceId/statements';
  /** A closed month, given as the path's `YYYY-MM` (400 INVALID_MONTH otherwise; 404 while it is not closed). */
  const monthParam = (value: unknown) => {
    if (typeof value !== 'string' || value === '') throw notFound('Statement');
    return parseMonth(value);
  };
  const download = (response: Response, type: string, filename: string) => {
    response.setHeader('Content-Type', type);
    response.setHeader('Content-Disposition', `attachment; filename="${filename}"`);
  };

  router.get(STATEMENTS, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    response.json((await statements.list(request.workspaceAccess!.workspaceId)).map(statementSummary));
  });
  // The open month as it stands (what its statement would say if it closed now, the current setting running to its end).
  router.get(`${STATEMENTS}/preview`, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    const month = parseMonth(request.query.month);
    const draft = await statements.draft(request.workspaceAccess!.workspaceId, month);
    response.json({ ...statementJson({ ...draft, _id: new Types.ObjectId() }), id: null, closedAt: null, preview: true });
  });
  router.get(`${STATEMENTS}/:month`, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    response.json(statementJson(await statements.get(request.workspaceAccess!.workspaceId, monthParam(request.params.month))));
  });
  router.get(`${STATEMENTS}/:month/statement.json`, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    const statement = await statements.get(request.workspaceAccess!.workspaceId, monthParam(request.params.month));
    download(response, 'application/json; charset=utf-8', `statement-${statement.number}.json`);
    response.send(JSON.stringify(statementJson(statement), null, 2));
  });
  router.get(`${STATEMENTS}/:month/statement.csv`, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    const statement = await statements.get(request.workspaceAccess!.workspaceId, monthParam(request.params.month));
    download(response, 'text/csv; charset=utf-8', `statement-${statement.number}.csv`);
    response.send(statementCsv(statement));
  });
  router.get(`${STATEMENTS}/:month/statement.html`, authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    const workspaceId = request.workspaceAccess!.workspaceId;
    const statement = await statements.get(workspaceId, monthParam(request.params.month));
    response.setHeader('Content-Type', 'text/html; charset=utf-8');
    response.send(statementHtml(statement, await workspaceName(workspaceId)));
  });
  router.get('/api/workspaces/:workspaceId/agents/:agentId/plan-history', authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    const agentId = String(request.params.agentId);
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const entries = await planHistory.agentHistory(new Types.ObjectId(request.workspaceAccess!.workspaceId), new Types.ObjectId(agentId));
    if (entries.length === 0) throw notFound('Agent');
    response.json(entries);
  });
  return router;
}
