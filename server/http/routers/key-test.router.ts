// experience (#18): test a provider key before the agent exists. Builders only; the key is neither stored nor logged.
import { Router, type RequestHandler } from 'express';
import { keyPretestSchema, type KeyPretest } from '../../../agents/key-pretest';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

export function createKeyTestRouter(pretest: KeyPretest, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  router.post('/api/workspaces/:workspaceId/llm/test', authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(keyPretestSchema, request.body);
    response.setHeader('Cache-Control', 'no-store');
    response.json(await pretest.test(input));
  });
  return router;
}
