// The JSON answers of workspace invites (/api/workspaces/:id/invites…, /api/invites/preview), as the server's invite
// service builds them and the web client reads them. Types only: nothing here runs, so both builds drop these imports.
import type { Role } from './workspace-role';

/** A pending invite of a workspace (one that ran out is `expired`). */
export interface InviteSummary {
  id: string;
  email: string;
  role: Role;
  status: 'pending' | 'expired';
  invitedBy: { id: string; name: string | null };
  createdAt: string;
  expiresAt: string;
}

/** A new invite: its single-use link (shown once) and whether it was mailed. */
export interface InviteCreated {
  id: string;
  email: string;
  role: Role;
  expiresAt: string;
  link: string;
  mailed: boolean;
  mailConfigured: boolean;
}

/** What the invite page shows before anyone signs in. */
export interface InvitePreview {
  workspaceName: string;
  role: Role;
  email: string;
  invitedBy: string | null;
  expiresAt: string;
  hasAccount: boolean;
}
