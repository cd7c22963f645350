// What our middleware attaches to express requests.
import type { Role } from '../workspaces/workspace.model';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User {
      userId: string;
      /** The token's session (its `jti`): what "sign out" ends. */
      sessionId: string;
      tokenExpiresAt: number;
    }
    interface Request {
      /** Set by requireWorkspaceRole: the caller's membership in the workspace named by the URL. */
      workspaceAccess?: { workspaceId: string; role: Role };
    }
  }
}

export {};
