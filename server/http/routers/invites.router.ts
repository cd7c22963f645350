// Invites: admins invite by email into a pending list and revoke; the invitee previews and accepts the link.
import { Router, type Request, type RequestHandler } from 'express';
import { z } from 'zod';
import type { InviteService } from '../../workspaces/invite.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

export const createInviteSchema = z
  .object({
    email: z.string().trim().toLowerCase().email('must be an email address').max(254),
    role: z.enum(['viewer', 'builder', 'admin', 'owner']),
  })
  .strict();
export const inviteTokenSchema = z.object({ token: z.string().min(1, 'is required').max(128) }).strict();

/** The origin the inviter uses, for the link shown to them (mailed links use PUBLIC_URL when it is set). */
function originOf(request: Request): string {
  return `${request.protocol}://${request.get('host') ?? 'localhost'}`;
}

export function createInvitesRouter(invites: InviteService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const INVITES = '/api/workspaces/:workspaceId/invites';
  router.get(INVITES, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await invites.listPending(request.workspaceAccess!.workspaceId));
  });
  router.post(INVITES, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(createInviteSchema, request.body);
    response.status(201).json(await invites.create(request.workspaceAccess!.workspaceId, request.user!.userId, input, originOf(request)));
  });
  router.delete(`${INVITES}/:inviteId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    await invites.revoke(request.workspaceAccess!.workspaceId, request.user!.userId, String(request.params.inviteId));
    response.status(204).end();
  });
  router.post('/api/invites/preview', async (request, response) => {
    const input = parseInput(inviteTokenSchema, request.body);
    response.json(await invites.preview(input.token));
  });
  router.post('/api/invites/accept', authenticate, async (request, response) => {
    const input = parseInput(inviteTokenSchema, request.body);
    response.json(await invites.accept(input.token, request.user!.userId));
  });
  return router;
}
