// The operator's view of closed statements: what each workspace owes and what its managed calls cost the platform.
// Never served over HTTP (customer exports are statement-views.ts); used by `npm run statements:operator-export`.
import type { StatementDocument } from './statement.models';

export function operatorStatementCsv(statements: readonly StatementDocument[]): string {
  const header = ['number', 'workspaceId', 'month', 'closedAt', 'agentId', 'agentName', 'amountDueUsd', 'managedProviderCostUsd', 'marginUsd'];
  const usd = (micros: number) => (micros / 1_000_000).toFixed(6);
  const rows: string[][] = [];
  for (const statement of statements) {
    const costs = new Map((statement.operator?.byAgent ?? []).map((entry) => [entry.agentId, entry.managedProviderCostMicros]));
    for (const agent of statement.agents) {
      const cost = costs.get(agent.agentId) ?? 0;
      rows.push([statement.number, statement.workspaceId.toString(), statement.month, new Date(statement.closedAt).toISOString(), agent.agentId, agent.name, usd(agent.amountDueMicros), usd(cost), usd(agent.amountDueMicros - cost)]);
    }
    const total = statement.operator?.managedProviderCostMicros ?? 0;
    rows.push([statement.number, statement.workspaceId.toString(), statement.month, new Date(statement.closedAt).toISOString(), '', 'total', usd(statement.totals.amountDueMicros), usd(total), usd(statement.totals.amountDueMicros - total)]);
  }
  const cell = (value: string) => (/[",\r\n]/.test(value) || /^[=+\-@\t\r]/.test(value) ? `"${(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value).replace(/"/g, '""')}"` : value);
  return [header, ...rows].map((row) => row.map(cell).join(',')).join('\r\n') + '\r\n';
}
