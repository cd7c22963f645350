// Monthly statements and plan advice: the API calls and shapes (docs/API-EXTENSIONS.md, "Billing and statements").
import { getToken, request } from './api';

export interface StatementSummary {
  id: string;
  number: string;
  month: string;
  closedAt: string;
  amountDueUsd: number;
  planFeesUsd: number;
  overageUsd: number;
  adjustmentsUsd: number;
}

export interface StatementLine {
  type: string;
  agentId: string;
  agentName: string;
  description: string;
  amountUsd: number;
  amountMicros: number;
}

export interface StatementView {
  id: string | null;
  number: string;
  month: string;
  closedAt: string | null;
  preview?: boolean;
  agents: Array<{ agentId: string; name: string; planFeesUsd: number; overageUsd: number; amountDueUsd: number }>;
  lines: StatementLine[];
  totals: { planFeesUsd: number; overageUsd: number; adjustmentsUsd: number; amountDueUsd: number; byokProviderCostUsd: number };
}

const base = (workspaceId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/statements`;

async function fetchWithToken(path: string): Promise<Response> {
  const response = await fetch(path, { headers: { authorization: `Bearer ${getToken() ?? ''}` } });
  if (!response.ok) throw new Error(response.status === 404 ? 'This statement does not exist.' : `The statement could not be loaded (${response.status}).`);
  return response;
}

export const statementsApi = {
  list: (workspaceId: string) => request<StatementSummary[]>('GET', base(workspaceId)),
  preview: (workspaceId: string) => request<StatementView>('GET', `${base(workspaceId)}/preview`),
  get: (workspaceId: string, month: string) => request<StatementView>('GET', `${base(workspaceId)}/${encodeURIComponent(month)}`),
  /** The printable page (self-contained HTML), fetched with the auth header. */
  async html(workspaceId: string, month: string): Promise<string> {
    return (await fetchWithToken(`${base(workspaceId)}/${encodeURIComponent(month)}/statement.html`)).text();
  },
  /** CSV or JSON download, handed to the browser as a blob (the download needs the auth header). */
  async download(workspaceId: string, month: string, format: 'csv' | 'json', number: string): Promise<void> {
    const blob = await (await fetchWithToken(`${base(workspaceId)}/${encodeURIComponent(month)}/statement.${format}`)).blob();
    const url = URL.createObjectURL(blob);
    const link = document.createElement('a');
    link.href = url;
    link.download = `statement-${number}.${format}`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    window.setTimeout(() => URL.revokeObjectURL(url), 1000);
  },
};
