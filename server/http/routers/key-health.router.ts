// The status history of an agent's own provider key (BYOK): what each call, check or connection test found.
import { Router, type RequestHandler } from 'express';
import type { KeyHealthService } from '../../../agents/key-health.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';

export function createKeyHealthRouter(keyHealth: KeyHealthService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  router.get('/api/workspaces/:workspaceId/agents/:agentId/key-health', authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json({ history: await keyHealth.history(request.workspaceAccess!.workspaceId, String(request.params.agentId)) });
  });
  return router;
}
