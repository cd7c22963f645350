// Routes declare the role they need; membership of the workspace in the URL is checked here (non-members: 404).
import type { RequestHandler } from 'express';
import type { Role } from '../../workspaces/workspace.model';
import type { WorkspaceService } from '../../workspaces/workspace.service';
import { unauthorized } from '../../errors/domain-error';

export function createWorkspaceAccess(workspaces: WorkspaceService) {
  return function requireWorkspaceRole(required: Role): RequestHandler {
    return async (request, _response, next) => {
      if (!request.user) return next(unauthorized());
      const workspaceId = String(request.params.workspaceId ?? '');
      const role = await workspaces.requireRole(request.user.userId, workspaceId, required);
      request.workspaceAccess = { workspaceId, role };
      next();
    };
  };
}

export type RequireWorkspaceRole = ReturnType<typeof createWorkspaceAccess>;
