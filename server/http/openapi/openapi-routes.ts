// THE list of every HTTP route the server answers, for the OpenAPI document (/api/openapi.json, rendered at /docs).
// Request bodies and queries are the very zod schemas the routers validate with, so the document cannot drift.
// test/integration/openapi.test.ts walks the Express router stack and fails for any route missing here.
//
// To add a route: append one entry to API_ROUTES below, in its tag's group:
//   { method: 'post', path: '/api/workspaces/:workspaceId/things', tag: 'Things', summary: 'Create a thing',
//     auth: 'user', role: 'builder', body: createThingSchema, status: 201 },
// (path in Express form; `query` for a query schema; `response` for a zod response schema; `auth: 'none' | 'user' | 'agentKey'`.)
import { z } from 'zod';
import { createAgentSchema, createApiKeySchema, llmSettingSchema, patchAgentSchema, renameApiKeySchema } from '../../../agents/agent.schemas';
import { changePasswordSchema, loginSchema, registerSchema, resetPasswordSchema } from '../routers/auth.router';
import { addMemberSchema, changeRoleSchema, createWorkspaceSchema } from '../routers/workspaces.router';
import { chatRequestSchema } from '../routers/chat.router';
import { completionRequestSchema } from '../openai-compatible-api';
import { activityFilterQuerySchema, activityPageQuerySchema } from '../routers/activity.router';
import { createInviteSchema, inviteTokenSchema } from '../routers/invites.router';
import { usageRangeQuerySchema, usageTodayQuerySchema } from '../routers/usage-views.router';
import { activityPageSchema, activityRowSchema, monthQuerySchema } from './openapi-shapes';
import { lightModelSchema, routingSettingsSchema } from '../../../agents/agent-routing.schemas';
import { conversationQuerySchema, endUserQuerySchema, playgroundTurnSchema, recordSchema } from '../routers/publishing.router';
import { publishingSettingsSchema, visitorChatSchema } from '../../../agents/publishing.schemas';
import { createWorkspaceTemplateSchema, patchWorkspaceTemplateSchema } from '../../../agents/workspace-template.service';
import { cacheSettingSchema, compareSchema, createExperimentSchema, experimentActionSchema, feedbackSchema, promoteSchema } from '../../../agents/experiment.schemas';
import { alertSettingsSchema } from '../routers/alerts-settings.router';
import { createWebhookSchema } from '../../webhooks/webhook.service';
import { keyPretestSchema } from '../../../agents/key-pretest';
import { agentSchema, agentWithoutHealthSchema } from './agent-shapes';

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface ApiRoute {
  method: HttpMethod;
  /** Express form: /api/workspaces/:workspaceId/agents */
  path: string;
  tag: string;
  summary: string;
  /** none: public; user: a user's session token (Bearer JWT); agentKey: an agent's `ak_` key (Bearer). */
  auth: 'none' | 'user' | 'agentKey';
  /** The least workspace role the route needs (workspace routes). */
  role?: 'viewer' | 'builder' | 'admin' | 'owner';
  body?: z.ZodType;
  query?: z.ZodObject;
  response?: z.ZodType;
  /** The success status (default 200; 204 has no body). */
  status?: number;
  /** What the success answer is, when it is not JSON (CSV, SSE, HTML). */
  produces?: 'text/csv' | 'text/event-stream' | 'text/html';
  description?: string;
}

const WS = '/api/workspaces/:workspaceId';
const AGENT = `${WS}/agents/:agentId`;

export const API_ROUTES: ApiRoute[] = [
  // Service
  { method: 'get', path: '/health', tag: 'Service', summary: 'Liveness and database state', auth: 'none' },
  { method: 'get', path: '/api/openapi.json', tag: 'Service', summary: 'This OpenAPI 3.1 document', auth: 'none' },

  // Catalog
  { method: 'get', path: '/api/plans', tag: 'Catalog', summary: 'Managed plans (price, included usage, overage)', auth: 'none' },
  { method: 'get', path: '/api/providers', tag: 'Catalog', summary: 'BYOK providers and their models', auth: 'none' },
  { method: 'get', path: '/api/models', tag: 'Catalog', summary: 'Every model: prices per 1M tokens, context window, capabilities', auth: 'none' },
  { method: 'get', path: '/api/templates', tag: 'Catalog', summary: 'Agent templates', auth: 'none' },
  { method: 'get', path: '/api/templates/:templateId', tag: 'Catalog', summary: 'One template with its system prompt', auth: 'none' },

  // Accounts
  { method: 'post', path: '/api/auth/register', tag: 'Accounts', summary: 'Create an account (and its first workspace); returns a session token', auth: 'none', body: registerSchema, status: 201 },
  { method: 'post', path: '/api/auth/login', tag: 'Accounts', summary: 'Sign in; returns a session token', auth: 'none', body: loginSchema },
  { method: 'get', path: '/api/auth/me', tag: 'Accounts', summary: 'The signed-in user and their workspaces', auth: 'user' },
  { method: 'post', path: '/api/auth/password', tag: 'Accounts', summary: 'Change the password (other sessions end)', auth: 'user', body: changePasswordSchema },
  { method: 'post', path: '/api/auth/reset', tag: 'Accounts', summary: 'Redeem a password reset link', auth: 'none', body: resetPasswordSchema },
  { method: 'post', path: '/api/auth/sign-out', tag: 'Accounts', summary: 'End this session', auth: 'user', status: 204 },
  { method: 'post', path: '/api/auth/sign-out-everywhere', tag: 'Accounts', summary: 'End every session of this user', auth: 'user', status: 204 },

  // Workspaces and members
  { method: 'get', path: '/api/workspaces', tag: 'Workspaces', summary: 'Workspaces of the signed-in user', auth: 'user' },
  { method: 'post', path: '/api/workspaces', tag: 'Workspaces', summary: 'Create a workspace', auth: 'user', body: createWorkspaceSchema, status: 201 },
  { method: 'delete', path: WS, tag: 'Workspaces', summary: 'Delete a workspace with its agents and keys', auth: 'user', role: 'owner', status: 204 },
  { method: 'get', path: `${WS}/members`, tag: 'Workspaces', summary: 'Members and roles', auth: 'user', role: 'viewer' },
  { method: 'post', path: `${WS}/members`, tag: 'Workspaces', summary: 'Add an existing account as a member', auth: 'user', role: 'admin', body: addMemberSchema, status: 201 },
  { method: 'patch', path: `${WS}/members/:userId`, tag: 'Workspaces', summary: "Change a member's role", auth: 'user', role: 'admin', body: changeRoleSchema },
  { method: 'delete', path: `${WS}/members/:userId`, tag: 'Workspaces', summary: 'Remove a member', auth: 'user', role: 'admin', status: 204 },
  { method: 'get', path: `${WS}/audit`, tag: 'Workspaces', summary: 'Audit log (newest first)', auth: 'user', role: 'admin' },

  // Invites
  { method: 'get', path: `${WS}/invites`, tag: 'Invites', summary: 'Pending invites', auth: 'user', role: 'admin' },
  {
    method: 'post', path: `${WS}/invites`, tag: 'Invites', summary: 'Invite an email address with a role', auth: 'user', role: 'admin', body: createInviteSchema, status: 201,
    description: 'Answers the single-use link (shown once) and whether it was mailed (SMTP_URL configured).',
  },
  { method: 'delete', path: `${WS}/invites/:inviteId`, tag: 'Invites', summary: 'Revoke a pending invite', auth: 'user', role: 'admin', status: 204 },
  { method: 'post', path: '/api/invites/preview', tag: 'Invites', summary: 'What an invite link is for (workspace, role, address)', auth: 'none', body: inviteTokenSchema },
  { method: 'post', path: '/api/invites/accept', tag: 'Invites', summary: 'Accept an invite as the signed-in user (the invited address)', auth: 'user', body: inviteTokenSchema },

  // Agents
  { method: 'get', path: `${WS}/agents`, tag: 'Agents', summary: 'Agents of the workspace', auth: 'user', role: 'viewer', response: z.array(agentSchema) },
  { method: 'post', path: `${WS}/agents`, tag: 'Agents', summary: 'Create an agent from a template with its LLM setting', auth: 'user', role: 'builder', body: createAgentSchema, status: 201, response: agentSchema },
  { method: 'get', path: AGENT, tag: 'Agents', summary: 'One agent', auth: 'user', role: 'viewer', response: agentSchema },
  { method: 'patch', path: AGENT, tag: 'Agents', summary: 'Rename, change variables, pause/resume, limits', auth: 'user', role: 'builder', body: patchAgentSchema, response: agentSchema },
  { method: 'delete', path: AGENT, tag: 'Agents', summary: 'Delete an agent and its API keys', auth: 'user', role: 'builder', status: 204 },
  { method: 'put', path: `${AGENT}/llm`, tag: 'Agents', summary: 'Set the LLM: a managed plan or your own key (BYOK)', auth: 'user', role: 'builder', body: llmSettingSchema, response: agentSchema },
  { method: 'post', path: `${AGENT}/llm/test`, tag: 'Agents', summary: "Test the agent's LLM connection", auth: 'user', role: 'builder' },
  // experience (#18): test a BYOK key before the agent exists (nothing stored)
  { method: 'post', path: `${WS}/llm/test`, tag: 'Agents', summary: 'Test a provider key before creating an agent (nothing is stored)', auth: 'user', role: 'builder', body: keyPretestSchema },
  { method: 'post', path: `${AGENT}/chat`, tag: 'Agents', summary: 'Chat with the agent (JSON, or SSE with stream: true)', auth: 'user', role: 'builder', body: chatRequestSchema },

  // Agent API keys
  { method: 'get', path: `${AGENT}/api-keys`, tag: 'Agent API keys', summary: "The agent's API keys (name, prefix, last use)", auth: 'user', role: 'viewer' },
  { method: 'post', path: `${AGENT}/api-keys`, tag: 'Agent API keys', summary: 'Create a named key (the key is shown once)', auth: 'user', role: 'admin', body: createApiKeySchema, status: 201 },
  { method: 'patch', path: `${AGENT}/api-keys/:keyId`, tag: 'Agent API keys', summary: 'Rename a key', auth: 'user', role: 'admin', body: renameApiKeySchema },
  { method: 'delete', path: `${AGENT}/api-keys/:keyId`, tag: 'Agent API keys', summary: 'Revoke a key', auth: 'user', role: 'admin', status: 204 },

  // Usage
  { method: 'get', path: `${WS}/usage`, tag: 'Usage', summary: 'Workspace usage of a month, per agent, with totals', auth: 'user', role: 'viewer', query: monthQuerySchema },
  { method: 'get', path: `${WS}/usage/export.csv`, tag: 'Usage', summary: 'Meter events of a month as CSV', auth: 'user', role: 'viewer', query: monthQuerySchema, produces: 'text/csv' },
  { method: 'get', path: `${WS}/usage/range`, tag: 'Usage', summary: 'Usage per day over a date range (workspace or one agent)', auth: 'user', role: 'viewer', query: usageRangeQuerySchema },
  { method: 'get', path: `${WS}/usage/today`, tag: 'Usage', summary: 'Today (UTC) by hour', auth: 'user', role: 'viewer', query: usageTodayQuerySchema },
  { method: 'get', path: `${AGENT}/usage`, tag: 'Usage', summary: "One agent's month: daily, by model", auth: 'user', role: 'viewer', query: monthQuerySchema },

  // Billing: plan history and monthly statements (#13; docs/BILLING.md)
  { method: 'get', path: `${WS}/statements`, tag: 'Statements', summary: 'Closed monthly statements of the workspace', auth: 'user', role: 'owner' },
  { method: 'get', path: `${WS}/statements/preview`, tag: 'Statements', summary: "The current month's statement so far (not closed)", auth: 'user', role: 'owner' },
  { method: 'get', path: `${WS}/statements/:month`, tag: 'Statements', summary: 'One closed statement (line items per agent, totals, number)', auth: 'user', role: 'owner' },
  { method: 'get', path: `${WS}/statements/:month/statement.json`, tag: 'Statements', summary: 'The statement as a JSON download', auth: 'user', role: 'owner' },
  { method: 'get', path: `${WS}/statements/:month/statement.csv`, tag: 'Statements', summary: 'The statement as CSV (agent names, plan-fee lines)', auth: 'user', role: 'owner', produces: 'text/csv' },
  { method: 'get', path: `${WS}/statements/:month/statement.html`, tag: 'Statements', summary: 'The printable statement page', auth: 'user', role: 'owner', produces: 'text/html' },
  { method: 'get', path: `${AGENT}/plan-history`, tag: 'Statements', summary: "Every change of the agent's LLM setting, pause and resume, with time and actor", auth: 'user', role: 'viewer' },

  // Cost-aware routing (#14)
  { method: 'put', path: `${AGENT}/routing`, tag: 'Routing', summary: 'Routing setting: off / quality / balanced / savings, opt-out, degradation, consented fallback', auth: 'user', role: 'builder', body: routingSettingsSchema, response: agentWithoutHealthSchema },
  { method: 'put', path: `${AGENT}/llm/light`, tag: 'Routing', summary: "Set the agent's light model (BYOK: its own provider, model and sealed key)", auth: 'user', role: 'builder', body: lightModelSchema, response: agentWithoutHealthSchema },
  { method: 'delete', path: `${AGENT}/llm/light`, tag: 'Routing', summary: 'Remove the light model', auth: 'user', role: 'builder', response: agentWithoutHealthSchema },
  { method: 'get', path: `${AGENT}/savings`, tag: 'Routing', summary: "What routing saved this month for one agent, with a plain-words summary", auth: 'user', role: 'viewer', query: monthQuerySchema },
  { method: 'get', path: `${WS}/savings`, tag: 'Routing', summary: 'What routing saved this month across the workspace', auth: 'user', role: 'viewer', query: monthQuerySchema },

  // Response cache, A/B experiments, comparison, feedback (#15)
  { method: 'get', path: `${AGENT}/cache`, tag: 'Cache and experiments', summary: "The agent's answer cache setting and whether semantic matching is available", auth: 'user', role: 'viewer' },
  { method: 'put', path: `${AGENT}/cache`, tag: 'Cache and experiments', summary: 'Answer cache: off / exact / semantic, time to live, similarity threshold, temperature limit', auth: 'user', role: 'builder', body: cacheSettingSchema },
  { method: 'delete', path: `${AGENT}/cache/entries`, tag: 'Cache and experiments', summary: "Forget the agent's cached answers", auth: 'user', role: 'builder' },
  { method: 'post', path: `${AGENT}/compare`, tag: 'Cache and experiments', summary: 'One prompt to two or three settings side by side, each metered', auth: 'user', role: 'builder', body: compareSchema },
  { method: 'get', path: `${AGENT}/experiments`, tag: 'Cache and experiments', summary: "The agent's A/B experiments", auth: 'user', role: 'viewer' },
  { method: 'post', path: `${AGENT}/experiments`, tag: 'Cache and experiments', summary: 'Create an experiment (variants, split, assignment unit)', auth: 'user', role: 'builder', body: createExperimentSchema, status: 201 },
  { method: 'get', path: `${AGENT}/experiments/:experimentId`, tag: 'Cache and experiments', summary: 'An experiment with per-variant results, statistics and a plain verdict', auth: 'user', role: 'viewer' },
  { method: 'post', path: `${AGENT}/experiments/:experimentId/actions`, tag: 'Cache and experiments', summary: 'Start, pause or stop an experiment', auth: 'user', role: 'builder', body: experimentActionSchema },
  { method: 'post', path: `${AGENT}/experiments/:experimentId/promote`, tag: 'Cache and experiments', summary: "Make a variant the agent's setting (recorded in its plan history)", auth: 'user', role: 'builder', body: promoteSchema },
  { method: 'post', path: `${WS}/feedback`, tag: 'Cache and experiments', summary: 'Thumbs up / down on an answer, by its request id', auth: 'user', role: 'builder', body: feedbackSchema },
  { method: 'get', path: `${WS}/usage/cache`, tag: 'Usage', summary: 'Cache hits, misses and saved price this month', auth: 'user', role: 'viewer', query: monthQuerySchema },
  { method: 'get', path: `${WS}/usage/experiments`, tag: 'Usage', summary: 'Usage split by experiment and variant', auth: 'user', role: 'viewer', query: monthQuerySchema },

  // Activity
  { method: 'get', path: `${WS}/activity`, tag: 'Activity', summary: 'Every call, newest first, filtered, in cursor pages', auth: 'user', role: 'viewer', query: activityPageQuerySchema, response: activityPageSchema },
  { method: 'get', path: `${WS}/activity/export.csv`, tag: 'Activity', summary: 'The filtered activity as CSV', auth: 'user', role: 'viewer', query: activityFilterQuerySchema, produces: 'text/csv' },
  { method: 'get', path: `${WS}/activity/:eventId`, tag: 'Activity', summary: "One call's detail", auth: 'user', role: 'viewer', response: activityRowSchema },

  // Alerts
  { method: 'get', path: `${WS}/alerts`, tag: 'Alerts', summary: 'Alerts of the workspace', auth: 'user', role: 'viewer' },
  { method: 'post', path: `${WS}/alerts/read-all`, tag: 'Alerts', summary: 'Mark every alert read', auth: 'user', role: 'viewer' },
  { method: 'post', path: `${WS}/alerts/:alertId/read`, tag: 'Alerts', summary: 'Mark one alert read', auth: 'user', role: 'viewer' },
  // Alert thresholds, webhooks, key health (#13 items 4, 5)
  { method: 'get', path: `${WS}/alert-settings`, tag: 'Alerts', summary: "The workspace's alert thresholds (default 80 and 100 %)", auth: 'user', role: 'viewer' },
  { method: 'put', path: `${WS}/alert-settings`, tag: 'Alerts', summary: 'Set the alert thresholds (1–5 whole percentages 1–100; null: the default)', auth: 'user', role: 'admin', body: alertSettingsSchema },
  { method: 'get', path: `${WS}/webhooks`, tag: 'Webhooks', summary: 'Webhook endpoints (never their secret)', auth: 'user', role: 'admin' },
  { method: 'post', path: `${WS}/webhooks`, tag: 'Webhooks', summary: 'Register an HTTPS endpoint for alert and statement events; the signing secret is in this answer only', auth: 'user', role: 'admin', body: createWebhookSchema, status: 201 },
  { method: 'get', path: `${WS}/webhooks/:webhookId`, tag: 'Webhooks', summary: 'One webhook endpoint', auth: 'user', role: 'admin' },
  { method: 'delete', path: `${WS}/webhooks/:webhookId`, tag: 'Webhooks', summary: 'Delete an endpoint and its delivery log', auth: 'user', role: 'admin', status: 204 },
  { method: 'get', path: `${WS}/webhooks/:webhookId/deliveries`, tag: 'Webhooks', summary: 'The delivery log: attempts, answers, next retry', auth: 'user', role: 'admin' },
  { method: 'post', path: `${WS}/webhooks/:webhookId/test`, tag: 'Webhooks', summary: 'Queue a webhook.test event to this endpoint', auth: 'user', role: 'admin', status: 202 },
  { method: 'get', path: `${AGENT}/key-health`, tag: 'Agents', summary: "The history of the agent's own key status (calls, background checks, connection tests)", auth: 'user', role: 'viewer' },

  // Publishing: share links, the embeddable chat, conversations, end users, workspace templates (publish)
  { method: 'get', path: `${AGENT}/publishing`, tag: 'Publishing', summary: 'Share link / embed settings and retention', auth: 'user', role: 'viewer' },
  { method: 'patch', path: `${AGENT}/publishing`, tag: 'Publishing', summary: 'Change the chat’s look, allowed origins, retention', auth: 'user', role: 'admin', body: publishingSettingsSchema },
  { method: 'post', path: `${AGENT}/publishing/publish`, tag: 'Publishing', summary: 'Publish (draws the share link the first time)', auth: 'user', role: 'admin' },
  { method: 'post', path: `${AGENT}/publishing/rotate`, tag: 'Publishing', summary: 'A new share link; the old one stops at once', auth: 'user', role: 'admin' },
  { method: 'post', path: `${AGENT}/publishing/unpublish`, tag: 'Publishing', summary: 'Unpublish: the link and every embed answer 404', auth: 'user', role: 'admin' },
  { method: 'get', path: `${AGENT}/usage/end-users`, tag: 'Publishing', summary: 'Top end users of the month (tokens, requests, cost, price)', auth: 'user', role: 'viewer', query: endUserQuerySchema },
  { method: 'get', path: `${AGENT}/conversations`, tag: 'Publishing', summary: 'Kept conversations: search, filter by visitor or source', auth: 'user', role: 'admin', query: conversationQuerySchema },
  { method: 'get', path: `${AGENT}/conversations/export`, tag: 'Publishing', summary: 'The matching conversations as a JSON download', auth: 'user', role: 'admin', query: conversationQuerySchema },
  { method: 'get', path: `${AGENT}/conversations/:conversationId`, tag: 'Publishing', summary: 'One conversation, whole', auth: 'user', role: 'admin' },
  { method: 'delete', path: `${AGENT}/conversations/:conversationId`, tag: 'Publishing', summary: 'Delete one conversation', auth: 'user', role: 'admin', status: 204 },
  { method: 'delete', path: `${AGENT}/conversations`, tag: 'Publishing', summary: 'Delete all (or one visitor’s) conversations', auth: 'user', role: 'admin', query: conversationQuerySchema.pick({ visitorId: true, source: true }) },
  { method: 'post', path: `${AGENT}/conversations/record`, tag: 'Publishing', summary: 'Record a playground exchange (kept while retention is on)', auth: 'user', role: 'builder', body: recordSchema },
  { method: 'post', path: `${AGENT}/conversations/turn`, tag: 'Publishing', summary: 'A server-side conversation turn (history trimmed to the context window)', auth: 'user', role: 'builder', body: playgroundTurnSchema, produces: 'text/event-stream' },
  { method: 'get', path: `${WS}/templates`, tag: 'Workspace templates', summary: 'The workspace’s own templates', auth: 'user', role: 'viewer' },
  { method: 'post', path: `${WS}/templates`, tag: 'Workspace templates', summary: 'Save a template (from scratch or from an agent); the prompt is checked', auth: 'user', role: 'builder', body: createWorkspaceTemplateSchema, status: 201 },
  { method: 'get', path: `${WS}/templates/:templateId`, tag: 'Workspace templates', summary: 'One template', auth: 'user', role: 'viewer' },
  { method: 'patch', path: `${WS}/templates/:templateId`, tag: 'Workspace templates', summary: 'Edit a template; the prompt is checked', auth: 'user', role: 'builder', body: patchWorkspaceTemplateSchema },
  { method: 'delete', path: `${WS}/templates/:templateId`, tag: 'Workspace templates', summary: 'Delete a template (agents made from it keep working)', auth: 'user', role: 'builder', status: 204 },
  { method: 'get', path: '/api/public/agents/:slug', tag: 'Public chat', summary: 'A published chat’s look (no login; Origin checked)', auth: 'none' },
  { method: 'post', path: '/api/public/agents/:slug/chat', tag: 'Public chat', summary: 'A visitor’s message; the answer streams (SSE)', auth: 'none', body: visitorChatSchema, produces: 'text/event-stream' },
  { method: 'get', path: '/api/public/agents/:slug/conversations/:conversationId', tag: 'Public chat', summary: 'The visitor’s own kept conversation', auth: 'none' },

  // OpenAI-compatible API (served before Express, on node:http)
  { method: 'post', path: '/v1/chat/completions', tag: 'OpenAI-compatible', summary: 'Chat Completions for the agent behind the key (JSON or SSE)', auth: 'agentKey', body: completionRequestSchema },
  { method: 'get', path: '/v1/models', tag: 'OpenAI-compatible', summary: 'The agent behind the key, as a model', auth: 'agentKey' },
];

/** Express paths the coverage test does not ask for (not API: the web app and its reference page). */
export const NOT_API_PATHS = ['/docs', '/docs/init.js', /* publish: the share page and the widget script */ '/p/:slug', '/widget.js'];
