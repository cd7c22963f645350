// The API client: JSON over fetch with the JWT, errors turned into ApiError (code, human message, field issues).
import type { KeyPretestResult } from '../../shared/key-check-answers';
import { readErrorAnswer } from './error-answer';
import { eventStreamBlocks } from './event-stream-blocks';
import type { Agent, AgentUsage, Alert, ApiKeyCreated, ApiKeySummary, ConnectionTest, LlmSetting, Me, Member, Plan, Provider, Template, WorkspaceSummary, WorkspaceUsage } from './types';

const TOKEN_KEY = 'agentHost.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: { issues?: Array<{ field: string; message: string }>; [key: string]: unknown },
  ) {
    super(message);
    this.name = 'ApiError';
  }

  /** The message for one field, when the server named it in its validation issues. */
  fieldMessage(field: string): string | undefined {
    const issue = this.details?.issues?.find((candidate) => candidate.field === field || candidate.field.startsWith(`${field}.`));
    return issue ? `${humanizeField(issue.field)} ${issue.message}.` : undefined;
  }
}

function humanizeField(field: string): string {
  const last = field.split('.').pop() ?? field;
  const spaced = last.replace(/([A-Z])/g, ' $1').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

export function getToken(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null): void {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(handler: () => void): void {
  onUnauthorized = handler;
}

async function toApiError(response: Response): Promise<ApiError> {
  const error = await readErrorAnswer(response);
  const fallback = response.status >= 500 ? 'The server had a problem. Please try again in a moment.' : `The request failed (${response.status}).`;
  return new ApiError(response.status, error?.code ?? 'HTTP_ERROR', error?.message ?? fallback, error?.details);
}

export async function request<T>(method: string, path: string, body?: unknown, options: { auth?: boolean } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token && options.auth !== false) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach Agent Host. Check your connection and try again.');
  }
  if (response.status === 401 && options.auth !== false) {
    const error = await toApiError(response);
    onUnauthorized();
    throw error;
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

const ws = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}`;
const agentPath = (workspaceId: string, agentId: string) => `${ws(workspaceId)}/agents/${encodeURIComponent(agentId)}`;
const monthQuery = (month?: string) => (month ? `?month=${encodeURIComponent(month)}` : '');

export const api = {
  register: (input: { email: string; password: string; name: string }) =>
    request<{ token: string; user: Me['user']; workspace: WorkspaceSummary }>('POST', '/api/auth/register', input, { auth: false }),
  login: (input: { email: string; password: string }) => request<{ token: string; user: Me['user'] }>('POST', '/api/auth/login', input, { auth: false }),
  me: () => request<Me>('GET', '/api/auth/me'),
  changePassword: (input: { currentPassword: string; newPassword: string }) => request<{ token: string; user: Me['user'] }>('POST', '/api/auth/password', input),
  resetPassword: (input: { token: string; newPassword: string }) => request<{ token: string; user: Me['user'] }>('POST', '/api/auth/reset', input, { auth: false }),
  signOut: () => request<void>('POST', '/api/auth/sign-out'),
  signOutEverywhere: () => request<void>('POST', '/api/auth/sign-out-everywhere'),
  createWorkspace: (name: string) => request<WorkspaceSummary>('POST', '/api/workspaces', { name }),

  plans: () => request<Plan[]>('GET', '/api/plans', undefined, { auth: false }),
  providers: () => request<Provider[]>('GET', '/api/providers', undefined, { auth: false }),
  templates: () => request<Template[]>('GET', '/api/templates', undefined, { auth: false }),

  members: (workspaceId: string) => request<Member[]>('GET', `${ws(workspaceId)}/members`),
  addMember: (workspaceId: string, input: { email: string; role: string }) => request<unknown>('POST', `${ws(workspaceId)}/members`, input),
  changeMemberRole: (workspaceId: string, userId: string, role: string) => request<Member>('PATCH', `${ws(workspaceId)}/members/${userId}`, { role }),
  removeMember: (workspaceId: string, userId: string) => request<void>('DELETE', `${ws(workspaceId)}/members/${userId}`),

  agents: (workspaceId: string) => request<Agent[]>('GET', `${ws(workspaceId)}/agents`),
  agent: (workspaceId: string, agentId: string) => request<Agent>('GET', agentPath(workspaceId, agentId)),
  createAgent: (workspaceId: string, input: { name: string; templateId: string; variables: Record<string, string>; llm: LlmSetting }) =>
    request<Agent>('POST', `${ws(workspaceId)}/agents`, input),
  patchAgent: (workspaceId: string, agentId: string, input: Record<string, unknown>) => request<Agent>('PATCH', agentPath(workspaceId, agentId), input),
  deleteAgent: (workspaceId: string, agentId: string) => request<void>('DELETE', agentPath(workspaceId, agentId)),
  setLlm: (workspaceId: string, agentId: string, llm: LlmSetting) => request<Agent>('PUT', `${agentPath(workspaceId, agentId)}/llm`, llm),
  testKey: (workspaceId: string, llm: Extract<LlmSetting, { mode: 'byok' }>) => request<KeyPretestResult>('POST', `${ws(workspaceId)}/llm/test`, llm),
  testConnection: (workspaceId: string, agentId: string) => request<ConnectionTest>('POST', `${agentPath(workspaceId, agentId)}/llm/test`),
  apiKeys: (workspaceId: string, agentId: string) => request<ApiKeySummary[]>('GET', `${agentPath(workspaceId, agentId)}/api-keys`),
  createApiKey: (workspaceId: string, agentId: string) => request<ApiKeyCreated>('POST', `${agentPath(workspaceId, agentId)}/api-keys`),
  revokeApiKey: (workspaceId: string, agentId: string, keyId: string) => request<void>('DELETE', `${agentPath(workspaceId, agentId)}/api-keys/${encodeURIComponent(keyId)}`),

  usage: (workspaceId: string, month?: string) => request<WorkspaceUsage>('GET', `${ws(workspaceId)}/usage${monthQuery(month)}`),
  agentUsage: (workspaceId: string, agentId: string, month?: string) => request<AgentUsage>('GET', `${agentPath(workspaceId, agentId)}/usage${monthQuery(month)}`),
  alerts: (workspaceId: string) => request<Alert[]>('GET', `${ws(workspaceId)}/alerts`),
  markAlertRead: (workspaceId: string, alertId: string) => request<Alert>('POST', `${ws(workspaceId)}/alerts/${encodeURIComponent(alertId)}/read`),
  markAllAlertsRead: (workspaceId: string) => request<{ updated: number }>('POST', `${ws(workspaceId)}/alerts/read-all`),

  /** The CSV export needs the auth header, so it is fetched and handed to the browser as a blob download. */
  async downloadUsageCsv(workspaceId: string, month: string): Promise<void> {
    const response = await fetch(`${ws(workspaceId)}/usage/export.csv${monthQuery(month)}`, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
    if (!response.ok) throw await toApiError(response);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `agent-host-usage-${month}.csv`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
};

export interface ChatStreamHandlers {
  onDelta(content: string): void;
  onEnd(end: { usage: { inputTokens: number; outputTokens: number }; requestId?: string; provider?: string; model?: string; finishReason?: string; cost?: ChatCost }): void;
  /** A tool-call delta: the first of a call carries its id and name, the rest the next piece of its arguments. */
  onToolCall?(delta: { index: number; id?: string; name?: string; arguments: string }): void;
}

/** What one reply cost (the agent chat API's `cost`): the overage part on a managed plan, the list price on BYOK. */
export interface ChatCost {
  priceMicros: number;
  basis: 'overage' | 'list_price';
  includedTokens: number;
  overageTokens: number;
  fromAllowance: boolean;
}

/** A conversation message as the chat API takes it (OpenAI's shape: assistant tool calls, tool results). */
export interface ChatWireMessage {
  role: 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** Streams one playground reply (SSE over a POST, read with fetch). */
export async function streamChat(
  workspaceId: string,
  agentId: string,
  messages: ChatWireMessage[],
  handlers: ChatStreamHandlers,
  signal?: AbortSignal,
  /** Tools (OpenAI's `tools` array) and a response format, when the builder set them. */
  options: { tools?: unknown[]; response_format?: unknown } = {},
): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${agentPath(workspaceId, agentId)}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', authorization: `Bearer ${getToken() ?? ''}` },
      body: JSON.stringify({ messages, stream: true, ...options }),
      signal,
    });
  } catch {
    throw new ApiError(0, 'NETWORK', 'Could not reach Agent Host. Check your connection and try again.');
  }
  if (!response.ok || !response.body) throw await toApiError(response);
  let ended = false;
  for await (const rawEvent of eventStreamBlocks(response.body)) {
    const data = rawEvent
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).trimStart())
      .join('\n');
    if (!data) continue;
    const event = JSON.parse(data) as {
      type: string;
      content?: string;
      usage?: { inputTokens: number; outputTokens: number };
      error?: { code: string; message: string };
      requestId?: string;
      provider?: string;
      model?: string;
      finishReason?: string;
      cost?: ChatCost;
      index?: number;
      id?: string;
      name?: string;
      arguments?: string;
    };
    if (event.type === 'delta' && event.content) handlers.onDelta(event.content);
    else if (event.type === 'tool_call') handlers.onToolCall?.({ index: event.index ?? 0, id: event.id, name: event.name, arguments: event.arguments ?? '' });
    else if (event.type === 'end') {
      ended = true;
      handlers.onEnd({ usage: event.usage ?? { inputTokens: 0, outputTokens: 0 }, requestId: event.requestId, provider: event.provider, model: event.model, finishReason: event.finishReason, cost: event.cost });
    } else if (event.type === 'error') throw new ApiError(502, event.error?.code ?? 'STREAM_ERROR', event.error?.message ?? 'The reply stopped unexpectedly.');
  }
  if (!ended) throw new ApiError(502, 'STREAM_CUT', 'The reply stopped before it finished. Please try again.');
}
