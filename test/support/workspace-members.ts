// Helpers for tests that need several people in one workspace with different roles.
import { api, registerUser, type TestUser } from './test-platform';

export type WorkspaceRole = 'viewer' | 'builder' | 'admin' | 'owner';

/** Registers a new user and adds them to `owner`'s first workspace with `role`; their token works for that workspace. */
export async function registerMember(baseUrl: string, owner: TestUser, role: WorkspaceRole): Promise<TestUser> {
  const member = await registerUser(baseUrl, `A ${role}`);
  const response = await api(baseUrl, 'POST', `/api/workspaces/${owner.workspace.id}/members`, { token: owner.token, body: { email: member.email, role } });
  if (response.status !== 201) throw new Error(`add member failed: ${response.status} ${response.text}`);
  return { ...member, workspace: { ...owner.workspace, role } };
}
