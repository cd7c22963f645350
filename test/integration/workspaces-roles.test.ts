// Every workspace route × {non-member, viewer, builder, admin, owner}: 404 / 403 / 2xx exactly as the contract says.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, CANARY_PROVIDER_KEY, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { registerMember, type WorkspaceRole } from '../support/workspace-members';
import { meterEventFixture } from '../support/meter-events';

/** "METHOD /path" of every route declared in server/http/routers/*.router.ts (paths resolved from their constants). */
function listRouterRoutes(): string[] {
  const directory = path.join(__dirname, '../../server/http/routers');
  const routes: string[] = [];
  for (const file of fs.readdirSync(directory).filter((name) => name.endsWith('.router.ts'))) {
    const source = fs.readFileSync(path.join(directory, file), 'utf8');
    const constants = new Map<string, string>();
    for (const match of source.matchAll(/const ([A-Z_]+) = '([^']+)'/g)) constants.set(match[1]!, match[2]!);
    const resolve = (expression: string) => {
      const text = expression.trim();
      if (/^'[^']*'$/.test(text)) return text.slice(1, -1);
      if (/^`[^`]*`$/.test(text)) return text.slice(1, -1).replace(/\$\{([A-Z_]+)\}/g, (_all, name: string) => constants.get(name) ?? `?${name}`);
      return constants.get(text) ?? `?${text}`;
    };
    for (const match of source.matchAll(/router\.(get|post|put|patch|delete)\(\s*('[^']*'|`[^`]*`|[A-Z_]+)\s*,/g)) {
      routes.push(`${match[1]!.toUpperCase()} ${resolve(match[2]!)}`);
    }
  }
  return routes.sort();
}

type Caller = 'non-member' | WorkspaceRole;
const CALLERS: Caller[] = ['non-member', 'viewer', 'builder', 'admin', 'owner'];
const RANK: Record<WorkspaceRole, number> = { viewer: 0, builder: 1, admin: 2, owner: 3 };
const BYOK = { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY };

/** The ids a route is called with; destructive routes get fresh ones per call. */
interface Target {
  workspaceId: string;
  /** A viewer of the workspace whose membership a route may change. */
  memberUserId: string;
  agentId: string;
  byokAgentId: string;
  apiKeyId: string;
  alertId: string;
  webhookId: string;
  /** A meter event of the agent (activity detail) and a pending invite (revoke). */
  eventId: string;
  inviteId: string;
  /** A closed statement's month (billing). */
  statementMonth: string;
  /** Response cache and experiments (cache): an experiment of `agentId`, for the routes that name one. */
  experimentId?: string;
  // publish
  conversationId: string;
  templateId: string;
}

interface RouteCase {
  name: string;
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  path: (target: Target) => string;
  minimum: WorkspaceRole;
  success: number;
  body?: () => Promise<unknown> | unknown;
  /** Builds its own target (resources the call consumes). */
  fresh?: () => Promise<Target>;
}

describe('workspaces and roles (HTTP)', function () {
  this.timeout(60_000);
  let test: TestPlatform;
  let url: string;
  let owner: TestUser;
  let members: Record<WorkspaceRole, TestUser>;
  let outsider: TestUser;
  let shared: Target;

  const tokenOf = (caller: Caller) => (caller === 'non-member' ? outsider.token : members[caller].token);

  async function createAlert(workspaceId: string, agentId: string): Promise<string> {
    const alert = await test.platform.models.Alert.create({
      workspaceId: new Types.ObjectId(workspaceId),
      agentId: new Types.ObjectId(agentId),
      type: 'allowance_80',
      month: '2026-01',
      dedupeKey: `test|${new Types.ObjectId().toString()}`,
      message: 'test alert',
    });
    return alert._id.toString();
  }

  /** Closes this month's statement of a workspace as the close job would after the month (billing). */
  async function closeStatement(workspaceId: string): Promise<string> {
    const month = new Date().toISOString().slice(0, 7);
    const [year, monthNumber] = month.split('-').map(Number) as [number, number];
    await test.platform.statements.close(workspaceId, month, new Date(Date.UTC(year, monthNumber, 1, 1)));
    return month;
  }

  /** The workspace's webhook (one per workspace: a workspace has at most 10). */
  async function webhookOf(workspaceOwner: TestUser): Promise<string> {
    const existing = await api(url, 'GET', `/api/workspaces/${workspaceOwner.workspace.id}/webhooks`, { token: workspaceOwner.token });
    if (existing.body.length > 0) return existing.body[0].id;
    return (await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/webhooks`, { token: workspaceOwner.token, body: { url: 'http://127.0.0.1:9/hook' } })).body.id;
  }

  /** A target in the shared workspace: a managed agent with an API key and an alert, and a BYOK agent. */
  async function freshTarget(workspaceOwner: TestUser = owner): Promise<Target> {
    const agent = await createAgent(url, workspaceOwner);
    const byokAgent = await createAgent(url, workspaceOwner, BYOK);
    const keyResponse = await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/agents/${agent.id}/api-keys`, { token: workspaceOwner.token });
    const member = await registerUser(url, 'Changeable member');
    await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/members`, { token: workspaceOwner.token, body: { email: member.email, role: 'viewer' } });
    const requestId = `req_roles_${new Types.ObjectId().toString()}`;
    test.platform.meter.record(meterEventFixture({ requestId, agentId: agent.id, workspaceId: workspaceOwner.workspace.id }));
    await test.platform.meter.drain();
    const event = await test.platform.models.MeterEvent.collection.findOne({ requestId });
    const invite = await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/invites`, { token: workspaceOwner.token, body: { email: `invitee-${new Types.ObjectId().toString()}@example.com`, role: 'viewer' } });
    const conversation = await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/agents/${agent.id}/conversations/record`, { token: workspaceOwner.token, body: { user: 'hello', assistant: 'hi' } });
    const template = await api(url, 'POST', `/api/workspaces/${workspaceOwner.workspace.id}/templates`, { token: workspaceOwner.token, body: { fromAgentId: agent.id, name: 'Role template' } });
    return {
      eventId: event!._id.toString(),
      inviteId: invite.body.id,
      workspaceId: workspaceOwner.workspace.id,
      memberUserId: member.user.id,
      agentId: agent.id,
      byokAgentId: byokAgent.id,
      apiKeyId: keyResponse.body.id,
      alertId: await createAlert(workspaceOwner.workspace.id, agent.id),
      statementMonth: await closeStatement(workspaceOwner.workspace.id),
      conversationId: conversation.body.conversationId,
      templateId: template.body.id,
      webhookId: await webhookOf(workspaceOwner),
    };
  }

  /** A new workspace of `owner` in which every member holds the same role as in the shared one. */
  async function freshWorkspace(): Promise<Target> {
    const created = await api(url, 'POST', '/api/workspaces', { token: owner.token, body: { name: 'To delete' } });
    expect(created.status).to.equal(201);
    for (const role of ['viewer', 'builder', 'admin'] as const) {
      const added = await api(url, 'POST', `/api/workspaces/${created.body.id}/members`, { token: owner.token, body: { email: members[role].email, role } });
      expect(added.status).to.equal(201);
    }
    return freshTarget({ ...owner, workspace: created.body });
  }

  const agentPath = (target: Target) => `/api/workspaces/${target.workspaceId}/agents/${target.agentId}`;
  // Response cache and experiments (cache)
  const EXPERIMENT = { name: 'Role test', variants: [{ weight: 50 }, { weight: 50, llm: { mode: 'managed', plan: 'starter' } }] };
  async function targetWithExperiment(): Promise<Target> {
    const target = await freshTarget();
    const created = await api(url, 'POST', `${agentPath(target)}/experiments`, { token: owner.token, body: EXPERIMENT });
    expect(created.status).to.equal(201);
    return { ...target, experimentId: created.body.id };
  }
  const ROUTES: RouteCase[] = [
    { name: 'list members', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/members`, minimum: 'viewer', success: 200 },
    {
      name: 'add a member',
      method: 'POST',
      path: (t) => `/api/workspaces/${t.workspaceId}/members`,
      minimum: 'admin',
      success: 201,
      body: async () => ({ email: (await registerUser(url, 'Newcomer')).email, role: 'viewer' }),
    },
    { name: 'change a member\'s role', method: 'PATCH', path: (t) => `/api/workspaces/${t.workspaceId}/members/${t.memberUserId}`, minimum: 'admin', success: 200, body: () => ({ role: 'builder' }), fresh: () => freshTarget() },
    { name: 'remove a member', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}/members/${t.memberUserId}`, minimum: 'admin', success: 204, fresh: () => freshTarget() },
    { name: 'read the audit log', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/audit`, minimum: 'admin', success: 200 },
    { name: 'delete the workspace', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}`, minimum: 'owner', success: 204, fresh: freshWorkspace },
    { name: 'list agents', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/agents`, minimum: 'viewer', success: 200 },
    {
      name: 'create an agent',
      method: 'POST',
      path: (t) => `/api/workspaces/${t.workspaceId}/agents`,
      minimum: 'builder',
      success: 201,
      body: () => ({ name: 'Made by a role', templateId: 'faq-bot', variables: { businessName: 'Acme' }, llm: { mode: 'managed', plan: 'starter' } }),
    },
    { name: 'read an agent', method: 'GET', path: agentPath, minimum: 'viewer', success: 200 },
    { name: 'rename an agent', method: 'PATCH', path: agentPath, minimum: 'builder', success: 200, body: () => ({ name: 'Renamed' }) },
    { name: 'pause an agent', method: 'PATCH', path: agentPath, minimum: 'builder', success: 200, body: () => ({ status: 'active' }) },
    { name: 'change billing limits', method: 'PATCH', path: agentPath, minimum: 'owner', success: 200, body: () => ({ limits: { monthlyTokenCap: 1_000_000 } }) },
    { name: 'delete an agent', method: 'DELETE', path: agentPath, minimum: 'builder', success: 204, fresh: () => freshTarget() },
    { name: 'change the plan', method: 'PUT', path: (t) => `${agentPath(t)}/llm`, minimum: 'builder', success: 200, body: () => ({ mode: 'managed', plan: 'ultra' }) },
    {
      name: 'replace a provider key',
      method: 'PUT',
      path: (t) => `/api/workspaces/${t.workspaceId}/agents/${t.byokAgentId}/llm`,
      minimum: 'builder',
      success: 200,
      body: () => BYOK,
    },
    { name: 'test the connection', method: 'POST', path: (t) => `${agentPath(t)}/llm/test`, minimum: 'builder', success: 200 },
    {
      name: 'test a key before creating an agent',
      method: 'POST',
      path: (t) => `/api/workspaces/${t.workspaceId}/llm/test`,
      minimum: 'builder',
      success: 200,
      body: () => ({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-sandbox-roles-test' }),
    },
    { name: 'chat', method: 'POST', path: (t) => `${agentPath(t)}/chat`, minimum: 'builder', success: 200, body: () => ({ messages: [{ role: 'user', content: 'Hello' }] }) },
    { name: 'list API keys', method: 'GET', path: (t) => `${agentPath(t)}/api-keys`, minimum: 'viewer', success: 200 },
    { name: 'create an API key', method: 'POST', path: (t) => `${agentPath(t)}/api-keys`, minimum: 'admin', success: 201 },
    { name: 'revoke an API key', method: 'DELETE', path: (t) => `${agentPath(t)}/api-keys/${t.apiKeyId}`, minimum: 'admin', success: 204, fresh: () => freshTarget() },
    { name: 'workspace usage', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage`, minimum: 'viewer', success: 200 },
    { name: 'usage CSV export', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage/export.csv`, minimum: 'viewer', success: 200 },
    { name: 'agent usage', method: 'GET', path: (t) => `${agentPath(t)}/usage`, minimum: 'viewer', success: 200 },
    { name: 'list alerts', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/alerts`, minimum: 'viewer', success: 200 },
    { name: 'mark all alerts read', method: 'POST', path: (t) => `/api/workspaces/${t.workspaceId}/alerts/read-all`, minimum: 'viewer', success: 200 },
    { name: 'mark an alert read', method: 'POST', path: (t) => `/api/workspaces/${t.workspaceId}/alerts/${t.alertId}/read`, minimum: 'viewer', success: 200 },
    // alerts: thresholds, webhooks, key health
    { name: 'read alert thresholds', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/alert-settings`, minimum: 'viewer', success: 200 },
    { name: 'change alert thresholds', method: 'PUT', path: (t) => `/api/workspaces/${t.workspaceId}/alert-settings`, minimum: 'admin', success: 200, body: () => ({ thresholds: [80, 100] }) },
    { name: "change an agent's alert thresholds", method: 'PATCH', path: agentPath, minimum: 'admin', success: 200, body: () => ({ alertThresholds: [50, 100] }) },
    { name: 'list webhooks', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks`, minimum: 'admin', success: 200 },
    { name: 'add a webhook', method: 'POST', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks`, minimum: 'admin', success: 201, body: () => ({ url: 'http://127.0.0.1:9/other' }), fresh: freshWorkspace },
    { name: 'read a webhook', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks/${t.webhookId}`, minimum: 'admin', success: 200 },
    { name: 'delete a webhook', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks/${t.webhookId}`, minimum: 'admin', success: 204, fresh: freshWorkspace },
    { name: 'webhook delivery log', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks/${t.webhookId}/deliveries`, minimum: 'admin', success: 200 },
    { name: 'send a test webhook', method: 'POST', path: (t) => `/api/workspaces/${t.workspaceId}/webhooks/${t.webhookId}/test`, minimum: 'admin', success: 202 },
    { name: 'key status history', method: 'GET', path: (t) => `${agentPath(t)}/key-health`, minimum: 'viewer', success: 200 },
    // Cost-aware routing (#14)
    { name: 'set the light model', method: 'PUT', path: (t) => `/api/workspaces/${t.workspaceId}/agents/${t.byokAgentId}/llm/light`, minimum: 'builder', success: 200, body: () => ({ provider: 'openai', model: 'gpt-4o-mini' }) },
    { name: 'remove the light model', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}/agents/${t.byokAgentId}/llm/light`, minimum: 'builder', success: 200 },
    { name: 'change the routing setting', method: 'PUT', path: (t) => `${agentPath(t)}/routing`, minimum: 'builder', success: 200, body: () => ({ setting: 'off' }) },
    { name: 'agent savings', method: 'GET', path: (t) => `${agentPath(t)}/savings`, minimum: 'viewer', success: 200 },
    { name: 'workspace savings', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/savings`, minimum: 'viewer', success: 200 },
    // Activity log, named keys, usage views, invites (experience-b)
    { name: 'rename an API key', method: 'PATCH', path: (t) => `${agentPath(t)}/api-keys/${t.apiKeyId}`, minimum: 'admin', success: 200, body: () => ({ name: 'Renamed key' }) },
    { name: 'activity log', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/activity`, minimum: 'viewer', success: 200 },
    { name: 'activity CSV export', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/activity/export.csv`, minimum: 'viewer', success: 200 },
    { name: 'one call of the activity log', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/activity/${t.eventId}`, minimum: 'viewer', success: 200 },
    { name: 'usage over a date range', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage/range`, minimum: 'viewer', success: 200 },
    { name: 'usage today by hour', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage/today`, minimum: 'viewer', success: 200 },
    { name: 'list pending invites', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/invites`, minimum: 'admin', success: 200 },
    {
      name: 'invite by email',
      method: 'POST',
      path: (t) => `/api/workspaces/${t.workspaceId}/invites`,
      minimum: 'admin',
      success: 201,
      body: () => ({ email: `invitee-${new Types.ObjectId().toString()}@example.com`, role: 'viewer' }),
    },
    { name: 'revoke an invite', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}/invites/${t.inviteId}`, minimum: 'admin', success: 204, fresh: () => freshTarget() },
    // Billing and statements (#13)
    { name: 'plan history', method: 'GET', path: (t) => `${agentPath(t)}/plan-history`, minimum: 'viewer', success: 200 },
    { name: 'list statements', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements`, minimum: 'owner', success: 200 },
    { name: 'statement preview', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements/preview`, minimum: 'owner', success: 200 },
    { name: 'one statement', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements/${t.statementMonth}`, minimum: 'owner', success: 200 },
    { name: 'statement JSON', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements/${t.statementMonth}/statement.json`, minimum: 'owner', success: 200 },
    { name: 'statement CSV', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements/${t.statementMonth}/statement.csv`, minimum: 'owner', success: 200 },
    { name: 'printable statement', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/statements/${t.statementMonth}/statement.html`, minimum: 'owner', success: 200 },
    // Response cache, experiments, comparison, feedback (cache)
    { name: 'read the answer cache', method: 'GET', path: (t) => `${agentPath(t)}/cache`, minimum: 'viewer', success: 200 },
    { name: 'change the answer cache', method: 'PUT', path: (t) => `${agentPath(t)}/cache`, minimum: 'builder', success: 200, body: () => ({ mode: 'exact' }) },
    { name: 'forget cached answers', method: 'DELETE', path: (t) => `${agentPath(t)}/cache/entries`, minimum: 'builder', success: 200 },
    { name: 'compare settings', method: 'POST', path: (t) => `${agentPath(t)}/compare`, minimum: 'builder', success: 200, body: () => ({ messages: [{ role: 'user', content: 'Hi' }], settings: [{ llm: { mode: 'managed', plan: 'starter' } }, { llm: { mode: 'managed', plan: 'pro' } }] }) },
    { name: 'list experiments', method: 'GET', path: (t) => `${agentPath(t)}/experiments`, minimum: 'viewer', success: 200 },
    { name: 'create an experiment', method: 'POST', path: (t) => `${agentPath(t)}/experiments`, minimum: 'builder', success: 201, body: () => EXPERIMENT },
    { name: 'read an experiment', method: 'GET', path: (t) => `${agentPath(t)}/experiments/${t.experimentId ?? ':experimentId'}`, minimum: 'viewer', success: 200, fresh: () => targetWithExperiment() },
    { name: 'stop an experiment', method: 'POST', path: (t) => `${agentPath(t)}/experiments/${t.experimentId ?? ':experimentId'}/actions`, minimum: 'builder', success: 200, body: () => ({ action: 'stop' }), fresh: () => targetWithExperiment() },
    { name: 'promote a variant', method: 'POST', path: (t) => `${agentPath(t)}/experiments/${t.experimentId ?? ':experimentId'}/promote`, minimum: 'builder', success: 200, body: () => ({ variant: 'B' }), fresh: () => targetWithExperiment() },
    {
      name: 'rate an answer',
      method: 'POST',
      path: (t) => `/api/workspaces/${t.workspaceId}/feedback`,
      minimum: 'builder',
      success: 200,
      body: async () => {
        const chat = await api(url, 'POST', `${agentPath(shared)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: 'Rate me' }] } });
        return { requestId: chat.body.requestId, rating: 'up' };
      },
    },
    { name: 'cache usage', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage/cache`, minimum: 'viewer', success: 200 },
    { name: 'experiment usage', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/usage/experiments`, minimum: 'viewer', success: 200 },
    // publish
    { name: 'read publishing settings', method: 'GET', path: (t) => `${agentPath(t)}/publishing`, minimum: 'viewer', success: 200 },
    { name: 'change publishing settings', method: 'PATCH', path: (t) => `${agentPath(t)}/publishing`, minimum: 'admin', success: 200, body: () => ({ greeting: 'Hello there' }) },
    { name: 'publish', method: 'POST', path: (t) => `${agentPath(t)}/publishing/publish`, minimum: 'admin', success: 200 },
    { name: 'rotate the share link', method: 'POST', path: (t) => `${agentPath(t)}/publishing/rotate`, minimum: 'admin', success: 200 },
    { name: 'unpublish', method: 'POST', path: (t) => `${agentPath(t)}/publishing/unpublish`, minimum: 'admin', success: 200 },
    { name: 'usage per end user', method: 'GET', path: (t) => `${agentPath(t)}/usage/end-users`, minimum: 'viewer', success: 200 },
    { name: 'list conversations', method: 'GET', path: (t) => `${agentPath(t)}/conversations`, minimum: 'admin', success: 200 },
    { name: 'export conversations', method: 'GET', path: (t) => `${agentPath(t)}/conversations/export`, minimum: 'admin', success: 200 },
    { name: 'read a conversation', method: 'GET', path: (t) => `${agentPath(t)}/conversations/${t.conversationId}`, minimum: 'admin', success: 200 },
    { name: 'delete a conversation', method: 'DELETE', path: (t) => `${agentPath(t)}/conversations/${t.conversationId}`, minimum: 'admin', success: 204, fresh: () => freshTarget() },
    { name: 'delete all conversations', method: 'DELETE', path: (t) => `${agentPath(t)}/conversations`, minimum: 'admin', success: 200, fresh: () => freshTarget() },
    { name: 'record a playground exchange', method: 'POST', path: (t) => `${agentPath(t)}/conversations/record`, minimum: 'builder', success: 200, body: () => ({ user: 'hello', assistant: 'hi' }) },
    { name: 'a server-side playground turn', method: 'POST', path: (t) => `${agentPath(t)}/conversations/turn`, minimum: 'builder', success: 200, body: () => ({ message: 'Hello' }) },
    { name: 'list workspace templates', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/templates`, minimum: 'viewer', success: 200 },
    { name: 'create a workspace template', method: 'POST', path: (t) => `/api/workspaces/${t.workspaceId}/templates`, minimum: 'builder', success: 201, body: () => ({ name: 'By a role', systemPrompt: 'You help {{who}}.', variables: [{ name: 'who', label: 'Who' }] }) },
    { name: 'read a workspace template', method: 'GET', path: (t) => `/api/workspaces/${t.workspaceId}/templates/${t.templateId}`, minimum: 'viewer', success: 200 },
    { name: 'edit a workspace template', method: 'PATCH', path: (t) => `/api/workspaces/${t.workspaceId}/templates/${t.templateId}`, minimum: 'builder', success: 200, body: () => ({ description: 'Edited' }) },
    { name: 'delete a workspace template', method: 'DELETE', path: (t) => `/api/workspaces/${t.workspaceId}/templates/${t.templateId}`, minimum: 'builder', success: 204, fresh: () => freshTarget() },
  ];

  before(async () => {
    // Webhooks in the matrix point at a local address (nothing listens there).
    test = await startTestPlatform({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'true' } });
    url = test.url;
    owner = await registerUser(url, 'Owner');
    members = {
      owner,
      viewer: await registerMember(url, owner, 'viewer'),
      builder: await registerMember(url, owner, 'builder'),
      admin: await registerMember(url, owner, 'admin'),
    };
    outsider = await registerUser(url, 'Outsider');
    shared = await freshTarget();
  });
  after(async () => {
    await test?.stop();
  });

  it('lists every workspace route of the routers in the matrix (a new route must be added here)', () => {
    const registered = listRouterRoutes().filter((route) => route.includes(':workspaceId'));
    const sample: Target = { memberUserId: ':userId', workspaceId: ':workspaceId', agentId: ':agentId', byokAgentId: ':agentId', apiKeyId: ':keyId', alertId: ':alertId', eventId: ':eventId', inviteId: ':inviteId', statementMonth: ':month', conversationId: ':conversationId', templateId: ':templateId', webhookId: ':webhookId' };
    const covered = new Set(ROUTES.map((route) => `${route.method} ${route.path(sample)}`));
    expect(registered.filter((route) => !covered.has(route))).to.deep.equal([]);
    expect(registered.length).to.be.greaterThan(20);
  });

  for (const route of ROUTES) {
    describe(`${route.method} ${route.name}`, () => {
      for (const caller of CALLERS) {
        const allowed = caller !== 'non-member' && RANK[caller] >= RANK[route.minimum];
        const expected = caller === 'non-member' ? 404 : allowed ? route.success : 403;
        it(`${caller} → ${expected}`, async () => {
          const target = allowed && route.fresh ? await route.fresh() : shared;
          const response = await api(url, route.method, route.path(target), { token: tokenOf(caller), body: await route.body?.() });
          expect(response.status, response.text).to.equal(expected);
          if (expected === 404) expect(response.body.error.code).to.equal('NOT_FOUND');
          if (expected === 403) expect(response.body.error.code).to.equal('FORBIDDEN');
        });
      }
    });
  }

  it('answers 401 on every workspace route without a valid sign-in token', async () => {
    for (const route of ROUTES) {
      for (const token of [undefined, 'garbage', `${owner.token}x`]) {
        const response = await api(url, route.method, route.path(shared), { token, body: await route.body?.() });
        expect(response.status, `${route.method} ${route.name}`).to.equal(401);
      }
    }
  });

  it('answers 404 when another workspace\'s agent, key or alert id is used under your own workspace', async () => {
    const mine = outsider.workspace.id;
    const foreignAgent = `/api/workspaces/${mine}/agents/${shared.agentId}`;
    const attempts: Array<[string, string, unknown?]> = [
      ['GET', foreignAgent],
      ['PATCH', foreignAgent, { name: 'stolen' }],
      ['DELETE', foreignAgent],
      ['PUT', `${foreignAgent}/llm`, { mode: 'managed', plan: 'starter' }],
      ['POST', `${foreignAgent}/llm/test`],
      ['POST', `${foreignAgent}/chat`, { messages: [{ role: 'user', content: 'Hi' }] }],
      ['GET', `${foreignAgent}/api-keys`],
      ['POST', `${foreignAgent}/api-keys`],
      ['DELETE', `${foreignAgent}/api-keys/${shared.apiKeyId}`],
      ['GET', `${foreignAgent}/usage`],
      ['PUT', `${foreignAgent}/routing`, { setting: 'off' }],
      ['PUT', `${foreignAgent}/llm/light`, { provider: 'openai', model: 'gpt-4o-mini' }],
      ['DELETE', `${foreignAgent}/llm/light`],
      ['GET', `${foreignAgent}/savings`],
      ['POST', `/api/workspaces/${mine}/alerts/${shared.alertId}/read`],
      ['GET', `${foreignAgent}/plan-history`],
    ];
    for (const [method, path, body] of attempts) {
      const response = await api(url, method, path, { token: outsider.token, body });
      expect(response.status, `${method} ${path}`).to.equal(404);
    }
    // Nothing changed in the other workspace.
    const agent = await api(url, 'GET', `/api/workspaces/${shared.workspaceId}/agents/${shared.agentId}`, { token: owner.token });
    expect(agent.status).to.equal(200);
    expect(agent.body.name).not.to.equal('stolen');
    expect(await test.platform.models.AgentApiKey.countDocuments({ _id: new Types.ObjectId(shared.apiKeyId) })).to.equal(1);
  });

  it('answers 404 for an API key id of another agent in the same workspace', async () => {
    const other = await createAgent(url, owner);
    const response = await api(url, 'DELETE', `/api/workspaces/${shared.workspaceId}/agents/${other.id}/api-keys/${shared.apiKeyId}`, { token: owner.token });
    expect(response.status).to.equal(404);
  });

  it('answers 404 for malformed and unknown workspace ids', async () => {
    for (const workspaceId of ['not-an-id', new Types.ObjectId().toString(), '{"$gt":""}']) {
      const response = await api(url, 'GET', `/api/workspaces/${encodeURIComponent(workspaceId)}/agents`, { token: owner.token });
      expect(response.status, workspaceId).to.equal(404);
    }
  });

  it('lists only the caller\'s workspaces, each with the caller\'s role', async () => {
    const mine = await api(url, 'GET', '/api/workspaces', { token: members.builder.token });
    expect(mine.status).to.equal(200);
    const sharedEntry = mine.body.find((workspace: { id: string }) => workspace.id === shared.workspaceId);
    expect(sharedEntry).to.include({ role: 'builder' });
    const outsiders = await api(url, 'GET', '/api/workspaces', { token: outsider.token });
    expect(outsiders.body.map((workspace: { id: string }) => workspace.id)).not.to.include(shared.workspaceId);
  });

  it('creates a workspace owned by its creator', async () => {
    const created = await api(url, 'POST', '/api/workspaces', { token: outsider.token, body: { name: 'Second' } });
    expect(created.status).to.equal(201);
    expect(created.body).to.include({ name: 'Second', role: 'owner' });
    const me = await api(url, 'GET', '/api/auth/me', { token: outsider.token });
    expect(me.body.workspaces).to.deep.include({ id: created.body.id, name: 'Second', role: 'owner' });
  });

  describe('members', () => {
    it('only owners change or remove owners, and the last owner stays', async () => {
      const ownerPath = (userId: string) => `/api/workspaces/${shared.workspaceId}/members/${userId}`;
      const byAdmin = await api(url, 'PATCH', ownerPath(owner.user.id), { token: members.admin.token, body: { role: 'viewer' } });
      expect(byAdmin.status).to.equal(403);
      const promote = await api(url, 'PATCH', ownerPath(members.builder.user.id), { token: members.admin.token, body: { role: 'owner' } });
      expect(promote.status).to.equal(403);
      const demoteLast = await api(url, 'PATCH', ownerPath(owner.user.id), { token: owner.token, body: { role: 'admin' } });
      expect(demoteLast.status).to.equal(409);
      expect(demoteLast.body.error.code).to.equal('LAST_OWNER');
      const removeLast = await api(url, 'DELETE', ownerPath(owner.user.id), { token: owner.token });
      expect(removeLast.status).to.equal(409);
      const bad = await api(url, 'PATCH', ownerPath(members.viewer.user.id), { token: owner.token, body: { role: 'superuser' } });
      expect(bad.status).to.equal(400);
      const unknown = await api(url, 'DELETE', ownerPath(new Types.ObjectId().toString()), { token: owner.token });
      expect(unknown.status).to.equal(404);
      // A removed member loses access at once.
      const leaving = await registerMember(url, owner, 'builder');
      expect((await api(url, 'DELETE', ownerPath(leaving.user.id), { token: members.admin.token })).status).to.equal(204);
      expect((await api(url, 'GET', `/api/workspaces/${shared.workspaceId}/agents`, { token: leaving.token })).status).to.equal(404);
      const audit = await api(url, 'GET', `/api/workspaces/${shared.workspaceId}/audit`, { token: owner.token });
      expect(audit.body.map((entry: { action: string }) => entry.action)).to.include('member.remove');
    });

    it('answers 404 for an unknown user and 409 for an existing member', async () => {
      const unknown = await api(url, 'POST', `/api/workspaces/${shared.workspaceId}/members`, { token: owner.token, body: { email: 'nobody-here@example.com', role: 'viewer' } });
      expect(unknown.status).to.equal(404);
      const again = await api(url, 'POST', `/api/workspaces/${shared.workspaceId}/members`, { token: owner.token, body: { email: members.viewer.email, role: 'admin' } });
      expect(again.status).to.equal(409);
    });

    it('lets only owners add owners', async () => {
      const candidate = await registerUser(url, 'Would-be owner');
      const byAdmin = await api(url, 'POST', `/api/workspaces/${shared.workspaceId}/members`, { token: members.admin.token, body: { email: candidate.email, role: 'owner' } });
      expect(byAdmin.status).to.equal(403);
      const byOwner = await api(url, 'POST', `/api/workspaces/${shared.workspaceId}/members`, { token: owner.token, body: { email: candidate.email.toUpperCase(), role: 'owner' } });
      expect(byOwner.status).to.equal(201);
    });

    it('refuses operator objects and unknown roles in the member body with 400', async () => {
      for (const body of [{ email: { $gt: '' }, role: 'viewer' }, { email: members.viewer.email, role: { $ne: 'viewer' } }, { email: members.viewer.email, role: 'superuser' }]) {
        const response = await api(url, 'POST', `/api/workspaces/${shared.workspaceId}/members`, { token: owner.token, body });
        expect(response.status, JSON.stringify(body)).to.equal(400);
      }
    });
  });

  describe('deleting a workspace', () => {
    it('removes its agents, API keys and memberships, revokes the keys at once and is audited', async () => {
      const target = await freshWorkspace();
      const workspaceOwner = { ...owner, workspace: { id: target.workspaceId, name: 'To delete', role: 'owner' } };
      const key = await createAgentApiKey(url, workspaceOwner, target.agentId);
      expect((await api(url, 'GET', '/v1/models', { token: key })).status).to.equal(200);

      const deleted = await api(url, 'DELETE', `/api/workspaces/${target.workspaceId}`, { token: owner.token });
      expect(deleted.status).to.equal(204);

      const workspaceId = new Types.ObjectId(target.workspaceId);
      const { models } = test.platform;
      expect(await models.Workspace.countDocuments({ _id: workspaceId })).to.equal(0);
      expect(await models.Agent.countDocuments({ workspaceId })).to.equal(0);
      expect(await models.AgentApiKey.countDocuments({ workspaceId })).to.equal(0);
      expect(await models.Membership.countDocuments({ workspaceId })).to.equal(0);
      expect((await api(url, 'GET', '/v1/models', { token: key })).status).to.equal(401);
      for (const caller of CALLERS) {
        expect((await api(url, 'GET', `/api/workspaces/${target.workspaceId}/agents`, { token: tokenOf(caller) })).status, caller).to.equal(404);
      }
      const me = await api(url, 'GET', '/api/auth/me', { token: owner.token });
      expect(me.body.workspaces.map((workspace: { id: string }) => workspace.id)).not.to.include(target.workspaceId);
      const audit = await models.AuditLog.find({ workspaceId, action: 'workspace.delete' }).lean();
      expect(audit).to.have.length(1);
      expect(audit[0]!.actorUserId?.toString()).to.equal(owner.user.id);
      // Other workspaces are untouched.
      expect((await api(url, 'GET', `/api/workspaces/${shared.workspaceId}/agents/${shared.agentId}`, { token: owner.token })).status).to.equal(200);
    });
  });
});
