// Who is signed in and which workspace is selected (kept in localStorage next to the JWT).
import { api, getToken, setToken } from './api';
import type { Me, Role, WorkspaceSummary } from './types';

const WORKSPACE_KEY = 'agentHost.workspaceId';
const ROLE_RANK: Record<Role, number> = { viewer: 0, builder: 1, admin: 2, owner: 3 };

export const session: { me: Me | null; workspace: WorkspaceSummary | null } = { me: null, workspace: null };

const listeners = new Set<() => void>();
export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
function emit(): void {
  for (const listener of listeners) listener();
}

export function isSignedIn(): boolean {
  return Boolean(getToken());
}

export async function loadSession(): Promise<void> {
  session.me = await api.me();
  const stored = localStorage.getItem(WORKSPACE_KEY);
  session.workspace = session.me.workspaces.find((workspace) => workspace.id === stored) ?? session.me.workspaces[0] ?? null;
  if (session.workspace) localStorage.setItem(WORKSPACE_KEY, session.workspace.id);
  emit();
}

export function selectWorkspace(workspaceId: string): void {
  const workspace = session.me?.workspaces.find((candidate) => candidate.id === workspaceId);
  if (!workspace) return;
  session.workspace = workspace;
  localStorage.setItem(WORKSPACE_KEY, workspace.id);
  emit();
}

export function signIn(token: string, workspaceId?: string): void {
  setToken(token);
  if (workspaceId) localStorage.setItem(WORKSPACE_KEY, workspaceId);
}

export function signOut(): void {
  setToken(null);
  session.me = null;
  session.workspace = null;
  emit();
}

export function can(minimum: Role): boolean {
  const role = session.workspace?.role;
  return role ? ROLE_RANK[role] >= ROLE_RANK[minimum] : false;
}

export function workspaceId(): string {
  if (!session.workspace) throw new Error('No workspace selected');
  return session.workspace.id;
}
