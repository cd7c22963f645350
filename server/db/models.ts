// Every model, bound to one mongoose connection (several platform instances can live in one process, e.g. in tests).
import type { Connection } from 'mongoose';
import { createUserModel } from '../auth/user.model';
import { createWorkspaceModel, createMembershipModel, createAuditLogModel } from '../workspaces/workspace.model';
import { createAgentModel, createAgentApiKeyModel } from '../../agents/agent.model';
import { createMeterEventModel, createUsageMonthlyModel, createAlertModel } from '../metering/metering.models';

export function createModels(connection: Connection) {
  return {
    User: createUserModel(connection),
    Workspace: createWorkspaceModel(connection),
    Membership: createMembershipModel(connection),
    AuditLog: createAuditLogModel(connection),
    Agent: createAgentModel(connection),
    AgentApiKey: createAgentApiKeyModel(connection),
    MeterEvent: createMeterEventModel(connection),
    UsageMonthly: createUsageMonthlyModel(connection),
    Alert: createAlertModel(connection),
  };
}

export type Models = ReturnType<typeof createModels>;
