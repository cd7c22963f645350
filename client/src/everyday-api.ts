// API calls and shapes of the everyday screens: activity log, named API keys, invites, usage ranges, model catalog.
import { ApiError, getToken, request } from './api';
import type { Role } from './types';
import type { InviteCreated, InvitePreview, InviteSummary } from '../../shared/invite-answers';
import type { ActivityPage, ActivityRow } from '../../shared/activity-answers';

const ws = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}`;

export interface ActivityFilters {
  agentId?: string;
  status?: string;
  apiKeyId?: string;
  endUser?: string;
  from?: string;
  to?: string;
}

export interface NamedApiKey {
  id: string;
  prefix: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface UsageRange {
  from: string;
  to: string;
  days: Array<{ date: string; requests: number; tokensInput: number; tokensOutput: number; tokens: number }>;
  totals: { requests: number; tokens: number };
}

export interface UsageToday {
  date: string;
  hours: Array<{ hour: string; requests: number; tokens: number; priceUsd: number }>;
}

export interface CatalogModel {
  provider: string;
  providerName: string;
  id: string;
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
  contextWindow: number;
  maxOutputTokens: number | null;
  capabilities: string[];
}

function query(filters: Record<string, string | number | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(filters)) if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function downloadCsv(path: string, fileName: string): Promise<void> {
  const response = await fetch(path, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
  if (!response.ok) {
    const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
    throw new ApiError(response.status, body?.error?.code ?? 'HTTP_ERROR', body?.error?.message ?? `The download failed (${response.status}).`);
  }
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export const everydayApi = {
  activity: (workspaceId: string, filters: ActivityFilters & { cursor?: string | null; limit?: number }) => request<ActivityPage>('GET', `${ws(workspaceId)}/activity${query({ ...filters })}`),
  activityDetail: (workspaceId: string, eventId: string) => request<ActivityRow>('GET', `${ws(workspaceId)}/activity/${encodeURIComponent(eventId)}`),
  downloadActivityCsv: (workspaceId: string, filters: ActivityFilters) => downloadCsv(`${ws(workspaceId)}/activity/export.csv${query({ ...filters })}`, `agent-host-activity-${filters.from ?? ''}-${filters.to ?? ''}.csv`),

  apiKeys: (workspaceId: string, agentId: string) => request<NamedApiKey[]>('GET', `${ws(workspaceId)}/agents/${encodeURIComponent(agentId)}/api-keys`),
  createApiKey: (workspaceId: string, agentId: string, name: string) => request<NamedApiKey & { key: string }>('POST', `${ws(workspaceId)}/agents/${encodeURIComponent(agentId)}/api-keys`, name ? { name } : {}),
  renameApiKey: (workspaceId: string, agentId: string, keyId: string, name: string) =>
    request<NamedApiKey>('PATCH', `${ws(workspaceId)}/agents/${encodeURIComponent(agentId)}/api-keys/${encodeURIComponent(keyId)}`, { name }),

  invites: (workspaceId: string) => request<InviteSummary[]>('GET', `${ws(workspaceId)}/invites`),
  createInvite: (workspaceId: string, input: { email: string; role: string }) => request<InviteCreated>('POST', `${ws(workspaceId)}/invites`, input),
  revokeInvite: (workspaceId: string, inviteId: string) => request<void>('DELETE', `${ws(workspaceId)}/invites/${encodeURIComponent(inviteId)}`),
  previewInvite: (token: string) => request<InvitePreview>('POST', '/api/invites/preview', { token }, { auth: false }),
  acceptInvite: (token: string) => request<{ workspace: { id: string; name: string; role: Role } }>('POST', '/api/invites/accept', { token }),

  usageRange: (workspaceId: string, range: { from?: string; to?: string; agentId?: string }) => request<UsageRange>('GET', `${ws(workspaceId)}/usage/range${query(range)}`),
  usageToday: (workspaceId: string, agentId?: string) => request<UsageToday>('GET', `${ws(workspaceId)}/usage/today${query({ agentId })}`),
  models: () => request<CatalogModel[]>('GET', '/api/models', undefined, { auth: false }),
};

/** A UTC day (YYYY-MM-DD) `offset` days before today. */
export function utcDay(offsetDays = 0): string {
  return new Date(Date.now() - offsetDays * 86_400_000).toISOString().slice(0, 10);
}
