// The API of alert thresholds, webhooks (with their delivery log) and key health, for the screens that show them.
import type { WebhookDelivery, WebhookEndpoint } from '../../shared/webhook-answers';
import { request } from './api';

export type { WebhookDelivery, WebhookEndpoint };

export interface AlertSettings {
  thresholds: number[];
  isDefault: boolean;
}

export interface KeyStatusChange {
  status: string;
  previousStatus: string | null;
  source: 'call' | 'background_check' | 'connection_test';
  keyMask: string | null;
  at: string;
}

const ws = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}`;

export const alertsApi = {
  settings: (workspaceId: string) => request<AlertSettings>('GET', `${ws(workspaceId)}/alert-settings`),
  saveSettings: (workspaceId: string, thresholds: number[] | null) => request<AlertSettings>('PUT', `${ws(workspaceId)}/alert-settings`, { thresholds }),
  webhooks: (workspaceId: string) => request<WebhookEndpoint[]>('GET', `${ws(workspaceId)}/webhooks`),
  createWebhook: (workspaceId: string, input: { url: string; description?: string }) => request<WebhookEndpoint & { secret: string }>('POST', `${ws(workspaceId)}/webhooks`, input),
  deleteWebhook: (workspaceId: string, webhookId: string) => request<void>('DELETE', `${ws(workspaceId)}/webhooks/${encodeURIComponent(webhookId)}`),
  testWebhook: (workspaceId: string, webhookId: string) => request<WebhookDelivery>('POST', `${ws(workspaceId)}/webhooks/${encodeURIComponent(webhookId)}/test`),
  deliveries: (workspaceId: string, webhookId: string) => request<WebhookDelivery[]>('GET', `${ws(workspaceId)}/webhooks/${encodeURIComponent(webhookId)}/deliveries`),
  keyHealth: (workspaceId: string, agentId: string) => request<{ history: KeyStatusChange[] }>('GET', `${ws(workspaceId)}/agents/${encodeURIComponent(agentId)}/key-health`),
};

/** "80, 100" → [80, 100]; undefined when it is not a list of whole percentages from 1 to 100. */
export function parseThresholds(text: string): number[] | undefined {
  const parts = text.split(/[\s,;%]+/).filter(Boolean);
  if (parts.length === 0 || parts.length > 5) return undefined;
  const values = parts.map(Number);
  if (values.some((value) => !Number.isInteger(value) || value < 1 || value > 100)) return undefined;
  return [...new Set(values)].sort((a, b) => a - b);
}

export const THRESHOLDS_HINT = 'Whole percentages from 1 to 100, separated by commas (at most 5). 100 means the limit is reached.';
