// Every feature's models on one mongoose connection: what the composition root, migrations and scripts see.
// Each feature owns its models; the db layer knows none of them. Several platforms can share a process (tests).
import type { Connection } from 'mongoose';
import { createUserModels } from './users/user.model';
import { createAuthModels } from './auth/auth.models';
import { createWorkspaceModels } from './workspaces/workspace.model';
import { createAgentModels } from '../agents/agent.model';
import { createMeteringModels } from './metering/metering.models';
import { createAlertSettingsModels } from './metering/alert-thresholds';
import { createWebhookModels } from './webhooks/webhook.models';
import { createKeyHealthModels } from '../agents/key-health.model';
import { createProviderOutageModels } from '../agents/provider-outage.model';
import { createInviteModels } from './workspaces/invite.model';
import { createBillingModels } from './metering/billing/statement.models';
import { createResponseCacheModel } from '../agents/response-cache.model';
import { createExperimentModels } from '../agents/experiment.model';
// publish: end-user rollups, conversations, workspace templates, visitors' address counters
import { createEndUserUsageModels } from './metering/end-user-usage.model';
import { createConversationModels } from '../agents/conversation.model';
import { createWorkspaceTemplateModels } from '../agents/workspace-template.model';
import { createVisitorLimitModels } from '../agents/visitor-limits';

export function createModels(connection: Connection) {
  return {
    ...createUserModels(connection),
    ...createAuthModels(connection),
    ...createWorkspaceModels(connection),
    ...createAgentModels(connection),
    ...createMeteringModels(connection),
    ...createAlertSettingsModels(connection),
    ...createWebhookModels(connection),
    ...createKeyHealthModels(connection),
    ...createProviderOutageModels(connection),
    ...createInviteModels(connection),
    ...createBillingModels(connection),
    // Response cache and A/B experiments (cache)
    ResponseCacheEntry: createResponseCacheModel(connection),
    ...createExperimentModels(connection),
    ...createEndUserUsageModels(connection),
    ...createConversationModels(connection),
    ...createWorkspaceTemplateModels(connection),
    ...createVisitorLimitModels(connection),
  };
}

export type Models = ReturnType<typeof createModels>;
