// The API client of publishing: share link / embed settings, visitors' usage, conversations, workspace templates.
import { ApiError, getToken, request } from './api';
import type { Template } from './types';
import type { EndUserUsageRow } from '../../shared/end-user-usage-answers';

export interface PublishingSettings {
  agentId: string;
  enabled: boolean;
  slug: string | null;
  sharePath: string | null;
  displayName: string;
  greeting: string;
  suggestedQuestions: string[];
  accentColor: string;
  allowedOrigins: string[];
  publishedAt: string | null;
  retentionDays: number;
  retentionIsDefault: boolean;
}

export interface ConversationSummary {
  id: string;
  source: 'published' | 'playground';
  visitorId: string | null;
  title: string;
  messageCount: number;
  lastMessage: string;
  createdAt: string;
  updatedAt: string;
  expiresAt: string;
}

export interface ConversationFull extends ConversationSummary {
  messages: Array<{ role: 'user' | 'assistant'; content: string; at: string }>;
}

export interface WorkspaceTemplate extends Template {
  workspaceTemplate: true;
  systemPrompt: string;
}

const agentPath = (workspaceId: string, agentId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/agents/${encodeURIComponent(agentId)}`;
const templatesPath = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/templates`;
const query = (values: Record<string, string | undefined>) => {
  const entries = Object.entries(values).filter((entry): entry is [string, string] => Boolean(entry[1]));
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
};

export const publishApi = {
  settings: (workspaceId: string, agentId: string) => request<PublishingSettings>('GET', `${agentPath(workspaceId, agentId)}/publishing`),
  update: (workspaceId: string, agentId: string, input: Partial<Omit<PublishingSettings, 'agentId' | 'enabled' | 'slug' | 'sharePath' | 'publishedAt' | 'retentionIsDefault'>>) =>
    request<PublishingSettings>('PATCH', `${agentPath(workspaceId, agentId)}/publishing`, input),
  publish: (workspaceId: string, agentId: string) => request<PublishingSettings>('POST', `${agentPath(workspaceId, agentId)}/publishing/publish`),
  rotate: (workspaceId: string, agentId: string) => request<PublishingSettings>('POST', `${agentPath(workspaceId, agentId)}/publishing/rotate`),
  unpublish: (workspaceId: string, agentId: string) => request<PublishingSettings>('POST', `${agentPath(workspaceId, agentId)}/publishing/unpublish`),
  endUsers: (workspaceId: string, agentId: string, month?: string) =>
    request<{ month: string; endUsers: number; endUserMonthlyTokenCap: number | null; top: EndUserUsageRow[] }>('GET', `${agentPath(workspaceId, agentId)}/usage/end-users${query({ month })}`),
  conversations: (workspaceId: string, agentId: string, filter: { q?: string; visitorId?: string; source?: string }) =>
    request<{ total: number; conversations: ConversationSummary[] }>('GET', `${agentPath(workspaceId, agentId)}/conversations${query(filter)}`),
  conversation: (workspaceId: string, agentId: string, id: string) => request<ConversationFull>('GET', `${agentPath(workspaceId, agentId)}/conversations/${encodeURIComponent(id)}`),
  deleteConversation: (workspaceId: string, agentId: string, id: string) => request<void>('DELETE', `${agentPath(workspaceId, agentId)}/conversations/${encodeURIComponent(id)}`),
  deleteConversations: (workspaceId: string, agentId: string, filter: { visitorId?: string; source?: string }) =>
    request<{ deleted: number }>('DELETE', `${agentPath(workspaceId, agentId)}/conversations${query(filter)}`),
  async downloadConversations(workspaceId: string, agentId: string, filter: { q?: string; visitorId?: string; source?: string }): Promise<void> {
    const response = await fetch(`${agentPath(workspaceId, agentId)}/conversations/export${query(filter)}`, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
    if (!response.ok) throw new ApiError(response.status, 'EXPORT_FAILED', 'The export failed. Please try again.');
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = `conversations-${agentId}.json`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  },

  recordPlayground: (workspaceId: string, agentId: string, input: { conversationId?: string; user: string; assistant: string }) =>
    request<{ conversationId: string | null }>('POST', `${agentPath(workspaceId, agentId)}/conversations/record`, input),

  templates: (workspaceId: string) => request<WorkspaceTemplate[]>('GET', templatesPath(workspaceId)),
  createTemplate: (workspaceId: string, input: Record<string, unknown>) => request<WorkspaceTemplate>('POST', templatesPath(workspaceId), input),
  updateTemplate: (workspaceId: string, id: string, input: Record<string, unknown>) => request<WorkspaceTemplate>('PATCH', `${templatesPath(workspaceId)}/${encodeURIComponent(id)}`, input),
  deleteTemplate: (workspaceId: string, id: string) => request<void>('DELETE', `${templatesPath(workspaceId)}/${encodeURIComponent(id)}`),
};
