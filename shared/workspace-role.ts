// A member's role in a workspace, as the API answers it (the server's list, in rank order, is ROLES in
// server/workspaces/workspace.model.ts). Types only: nothing here runs, so both builds drop these imports.

export type Role = 'owner' | 'admin' | 'builder' | 'viewer';
