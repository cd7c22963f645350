// Who changes an agent (a workspace member, or the platform itself) and what each part of AgentService needs to
// change one: the models, the workspace-scoped load, the change notice (caches drop the agent) and the audit log.
import type { AgentDocument, AgentModels } from './agent.model';
import type { WorkspaceService } from '../server/workspaces/workspace.service';
import type { Role } from '../server/workspaces/workspace.model';

export interface Actor {
  userId: string;
  role: Role;
}

/** A change made by the platform itself (e.g. an experiment promoting a variant), recorded in plan history as such. */
export interface SystemActor {
  system: string;
}

export interface AgentEditContext {
  readonly models: AgentModels;
  readonly workspaces: WorkspaceService;
  /** The agent in that workspace, or 404 (another workspace's agent too). */
  load(workspaceId: string, agentId: string): Promise<AgentDocument>;
  /** Tells the caches (the /v1 agent lookup) to drop the agent. */
  notifyChanged(agentId: string): void;
}
