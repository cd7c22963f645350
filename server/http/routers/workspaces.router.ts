import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import { displayNameSchema } from '../../validation/display-name';
import type { WorkspaceService } from '../../workspaces/workspace.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

export const createWorkspaceSchema = z.object({ name: displayNameSchema }).strict();
export const addMemberSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('must be an email address').max(254),
    role: z.enum(['viewer', 'builder', 'admin', 'owner']),
  })
  .strict();

export const changeRoleSchema = z.object({ role: z.enum(['viewer', 'builder', 'admin', 'owner']) }).strict();

export function createWorkspacesRouter(workspaces: WorkspaceService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  router.get('/api/workspaces', authenticate, async (request, response) => {
    response.json(await workspaces.listForUser(request.user!.userId));
  });
  router.post('/api/workspaces', authenticate, async (request, response) => {
    const input = parseInput(createWorkspaceSchema, request.body);
    response.status(201).json(await workspaces.createWorkspace(request.user!.userId, input.name));
  });
  router.delete('/api/workspaces/:workspaceId', authenticate, requireWorkspaceRole('owner'), async (request, response) => {
    await workspaces.deleteWorkspace(request.workspaceAccess!.workspaceId, request.user!.userId);
    response.status(204).end();
  });
  router.get('/api/workspaces/:workspaceId/members', authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await workspaces.listMembers(request.workspaceAccess!.workspaceId));
  });
  router.post('/api/workspaces/:workspaceId/members', authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(addMemberSchema, request.body);
    response.status(201).json(await workspaces.addMember(request.workspaceAccess!.workspaceId, request.user!.userId, input));
  });
  router.patch('/api/workspaces/:workspaceId/members/:userId', authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(changeRoleSchema, request.body);
    response.json(await workspaces.changeMemberRole(request.workspaceAccess!.workspaceId, request.user!.userId, String(request.params.userId), input.role));
  });
  router.delete('/api/workspaces/:workspaceId/members/:userId', authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    await workspaces.removeMember(request.workspaceAccess!.workspaceId, request.user!.userId, String(request.params.userId));
    response.status(204).end();
  });
  router.get('/api/workspaces/:workspaceId/audit', authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await workspaces.listAudit(request.workspaceAccess!.workspaceId));
  });
  return router;
}
