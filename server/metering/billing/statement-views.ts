// A statement as its customer sees it: line items (one list, rendered as JSON, CSV and a printable HTML page). The
// operator-only figures (the platform's provider cost, credentials, key pools) are never part of any of them.
import { microsToUsd } from '../../catalog/catalog.service';
import { neutralizeFormula } from '../usage.service';
import type { StatementDocument } from './statement.models';

export type StatementLineType = 'plan_fee' | 'allowance_minimum' | 'byok_time' | 'paused_time' | 'included_usage' | 'overage' | 'byok_usage' | 'adjustment';

export interface StatementLine {
  type: StatementLineType;
  agentId: string;
  agentName: string;
  description: string;
  from: string | null;
  to: string | null;
  quantity: number | null;
  /** A plan's usage is counted in conversations (1 conversation = 1,000 tokens, as the plan picker says); own-key usage in tokens. */
  unit: 'days' | 'conversations' | 'tokens' | null;
  unitPriceUsd: number | null;
  amountMicros: number;
  /** BYOK only: what the customer's own provider charges, for information (not due here). */
  infoProviderCostMicros: number | null;
}

const DAY_MS = 24 * 3600_000;
// Made on first use (memory, #20): the first Intl.DateTimeFormat of a process reads ~6 MiB of ICU locale and time-zone
// data into memory, which an idle server does not need.
let dateFormat: Intl.DateTimeFormat | undefined;
let monthFormat: Intl.DateTimeFormat | undefined;

function when(date: Date): string {
  dateFormat ??= new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: 'UTC' });
  return `${dateFormat.format(date)} UTC`;
}

export function monthLabel(month: string): string {
  monthFormat ??= new Intl.DateTimeFormat('en-US', { month: 'long', year: 'numeric', timeZone: 'UTC' });
  return monthFormat.format(new Date(`${month}-01T00:00:00Z`));
}

function days(from: Date, to: Date): number {
  return Math.round(((to.getTime() - from.getTime()) / DAY_MS) * 100) / 100;
}

/** Plans are sold in conversations (about 1,000 tokens each): the statement counts a plan's usage in them too (#18). */
const TOKENS_PER_CONVERSATION = 1000;

/** Exact conversations in a number of tokens (1,234,567 tokens = 1,234.567 conversations). */
function conversations(tokens: number): number {
  return tokens / TOKENS_PER_CONVERSATION;
}

/** "no conversations", "under 1 conversation", "about 1,235 conversations": the same rounding as the app's usage screens. */
function conversationsText(tokens: number): string {
  if (tokens <= 0) return 'no conversations';
  if (tokens < TOKENS_PER_CONVERSATION) return 'under 1 conversation';
  const count = Math.round(tokens / TOKENS_PER_CONVERSATION);
  return `about ${count.toLocaleString('en-US')} ${count === 1 ? 'conversation' : 'conversations'}`;
}

/** Cents, except an amount under a cent that is not zero, which shows its first digits rather than "$0.00". */
function usdText(micros: number, digits = 2): string {
  const usd = micros / 1_000_000;
  const places = micros !== 0 && Math.abs(micros) < 10_000 ? Math.max(digits, 4) : digits;
  return `${usd < 0 ? '-' : ''}$${Math.abs(usd).toFixed(places)}`;
}

export function statementLines(statement: StatementDocument): StatementLine[] {
  const lines: StatementLine[] = [];
  const base = { from: null, to: null, quantity: null, unit: null, unitPriceUsd: null, infoProviderCostMicros: null } as const;
  for (const agent of statement.agents) {
    const who = { agentId: agent.agentId, agentName: agent.name };
    for (const segment of agent.segments) {
      const from = new Date(segment.from);
      const to = new Date(segment.to);
      const span = { from: from.toISOString(), to: to.toISOString(), quantity: days(from, to), unit: 'days' as const };
      if (segment.kind === 'plan') {
        lines.push({ ...base, ...who, ...span, type: 'plan_fee', description: `${segment.planName} plan, ${when(from)} – ${when(to)} (fee prorated by time)`, amountMicros: segment.feeMicros });
      } else {
        lines.push({ ...base, ...who, ...span, type: segment.kind === 'byok' ? 'byok_time' : 'paused_time', description: segment.kind === 'byok' ? `Your own provider key, ${when(from)} – ${when(to)} (no plan fee)` : `Paused, ${when(from)} – ${when(to)} (no plan fee)`, amountMicros: 0 });
      }
    }
    for (const minimum of agent.allowanceMinimums) {
      lines.push({
        ...base,
        ...who,
        type: 'allowance_minimum',
        description: `${minimum.planName} allowance used: ${conversationsText(minimum.includedUsedTokens)} of ${Math.round(conversations(minimum.includedTokens)).toLocaleString('en-US')}, so at least ${usdText(minimum.minimumMicros)} of its fee (time-based fee was ${usdText(minimum.segmentFeesMicros)})`,
        quantity: conversations(minimum.includedUsedTokens),
        unit: 'conversations',
        amountMicros: minimum.topUpMicros,
      });
    }
    for (const usage of agent.planUsage) {
      lines.push({ ...base, ...who, type: 'included_usage', description: `${usage.planName} included usage: ${conversationsText(usage.includedUsedTokens)}`, quantity: conversations(usage.includedUsedTokens), unit: 'conversations', amountMicros: 0 });
      if (usage.overageTokens > 0 || usage.overageMicros !== 0) {
        lines.push({
          ...base,
          ...who,
          type: 'overage',
          description: `${usage.planName} extra usage: ${conversationsText(usage.overageTokens)} × $${usage.overageUsdPerMillion} per 1,000 conversations`,
          quantity: conversations(usage.overageTokens),
          unit: 'conversations',
          unitPriceUsd: usage.overageUsdPerMillion / 1_000,
          amountMicros: usage.overageMicros,
        });
      }
    }
    if (agent.otherOverageMicros !== 0) lines.push({ ...base, ...who, type: 'overage', description: 'Overage (before per-plan records)', amountMicros: agent.otherOverageMicros });
    if (agent.byok.tokens > 0) {
      lines.push({ ...base, ...who, type: 'byok_usage', description: 'Tokens on your own provider key (your provider bills these; cost shown for information)', quantity: agent.byok.tokens, unit: 'tokens', amountMicros: 0, infoProviderCostMicros: agent.byok.providerCostMicros });
    }
  }
  for (const adjustment of statement.adjustments) {
    lines.push({ ...base, agentId: adjustment.agentId, agentName: adjustment.name, type: 'adjustment', description: `Adjustment: ${adjustment.description}`, quantity: conversations(adjustment.tokens), unit: 'conversations', amountMicros: adjustment.amountMicros });
  }
  return lines;
}

/** The customer JSON (API and download): line items, per-agent subtotals and totals; no operator figures. */
export function statementJson(statement: StatementDocument) {
  const usd = microsToUsd;
  return {
    id: statement._id.toString(),
    number: statement.number,
    workspaceId: statement.workspaceId.toString(),
    month: statement.month,
    closedAt: new Date(statement.closedAt).toISOString(),
    currency: statement.currency,
    agents: statement.agents.map((agent) => ({
      agentId: agent.agentId,
      name: agent.name,
      planFeesUsd: usd(agent.planFeesMicros),
      overageUsd: usd(agent.overageMicros),
      amountDueUsd: usd(agent.amountDueMicros),
      amountDueMicros: agent.amountDueMicros,
      byokProviderCostUsd: usd(agent.byok.providerCostMicros),
    })),
    lines: statementLines(statement).map(({ amountMicros, infoProviderCostMicros, ...line }) => ({
      ...line,
      amountUsd: usd(amountMicros),
      amountMicros,
      infoProviderCostUsd: infoProviderCostMicros === null ? null : usd(infoProviderCostMicros),
    })),
    adjustments: statement.adjustments.map((line) => ({ ...line, amountUsd: usd(line.amountMicros) })),
    totals: {
      planFeesUsd: usd(statement.totals.planFeesMicros),
      overageUsd: usd(statement.totals.overageMicros),
      adjustmentsUsd: usd(statement.totals.adjustmentsMicros),
      amountDueUsd: usd(statement.totals.amountDueMicros),
      amountDueMicros: statement.totals.amountDueMicros,
      byokProviderCostUsd: usd(statement.totals.byokProviderCostMicros),
    },
  };
}

export function statementSummary(statement: Pick<StatementDocument, '_id' | 'number' | 'month' | 'closedAt' | 'totals'>) {
  return {
    id: statement._id.toString(),
    number: statement.number,
    month: statement.month,
    closedAt: new Date(statement.closedAt).toISOString(),
    amountDueUsd: microsToUsd(statement.totals.amountDueMicros),
    planFeesUsd: microsToUsd(statement.totals.planFeesMicros),
    overageUsd: microsToUsd(statement.totals.overageMicros),
    adjustmentsUsd: microsToUsd(statement.totals.adjustmentsMicros),
  };
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = typeof value === 'number' ? String(value) : neutralizeFormula(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One row per line item, then the total; amounts in USD with 6 decimals (exact micro-dollars). */
export function statementCsv(statement: StatementDocument): string {
  const header = ['statement', 'month', 'agent', 'agentId', 'line', 'description', 'from', 'to', 'quantity', 'unit', 'unitPriceUsd', 'amountUsd', 'providerCostUsdForInformation'];
  const rows = statementLines(statement).map((line) => [
    statement.number, statement.month, line.agentName, line.agentId, line.type, line.description, line.from, line.to, line.quantity, line.unit, line.unitPriceUsd,
    (line.amountMicros / 1_000_000).toFixed(6), line.infoProviderCostMicros === null ? null : (line.infoProviderCostMicros / 1_000_000).toFixed(6),
  ]);
  rows.push([statement.number, statement.month, '', '', 'total', 'Amount due', null, null, null, null, null, (statement.totals.amountDueMicros / 1_000_000).toFixed(6), null]);
  return [header, ...rows].map((row) => row.map((cell) => csvCell(cell as string | number | null)).join(',')).join('\r\n') + '\r\n';
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[character]!);
}

/** A self-contained printable page (inline styles only; no scripts). */
export function statementHtml(statement: StatementDocument, workspaceName: string): string {
  const lines = statementLines(statement);
  const byAgent = new Map<string, typeof lines>();
  for (const line of lines.filter((candidate) => candidate.type !== 'adjustment')) {
    byAgent.set(line.agentId, [...(byAgent.get(line.agentId) ?? []), line]);
  }
  // The "Your provider" column only when an own-key agent has something in it (a plan-only statement has no such column).
  const providerColumn = lines.some((line) => line.infoProviderCostMicros !== null);
  const providerCell = (line: (typeof lines)[number]) => (providerColumn ? `<td class="num">${line.infoProviderCostMicros !== null ? `<span class="info">${usdText(line.infoProviderCostMicros, 4)} (info)</span>` : ''}</td>` : '');
  const row = (line: (typeof lines)[number]) =>
    `<tr><td>${escapeHtml(line.description)}</td><td class="num qty">${line.quantity === null ? '' : line.unit === 'conversations' ? escapeHtml(conversationsText(line.quantity * TOKENS_PER_CONVERSATION)) : `${line.quantity.toLocaleString('en-US')} ${line.unit ?? ''}`}</td>${providerCell(line)}<td class="num">${usdText(line.amountMicros)}</td></tr>`;
  const head = (providerTitle: string) => `<thead><tr><th>Item</th><th class="num qty">Quantity</th>${providerColumn ? `<th class="num">${providerTitle}</th>` : ''}<th class="num">Amount</th></tr></thead>`;
  const agentSections = statement.agents
    .map((agent) => `<section><h2>${escapeHtml(agent.name)}</h2><table>${head('Your provider')}<tbody>${(byAgent.get(agent.agentId) ?? []).map(row).join('')}</tbody><tfoot><tr><td colspan="${providerColumn ? 3 : 2}">Subtotal</td><td class="num">${usdText(agent.amountDueMicros)}</td></tr></tfoot></table></section>`)
    .join('');
  const adjustments = lines.filter((line) => line.type === 'adjustment');
  const adjustmentSection = adjustments.length
    ? `<section><h2>Adjustments</h2><table>${head('')}<tbody>${adjustments.map((line) => row({ ...line, description: `${line.agentName}: ${line.description}` })).join('')}</tbody></table></section>`
    : '';
  const totals = statement.totals;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Statement ${escapeHtml(statement.number)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1f2b;margin:32px auto;max-width:860px;padding:0 24px}
header{display:flex;justify-content:space-between;align-items:flex-start;border-bottom:2px solid #1a1f2b;padding-bottom:12px;margin-bottom:20px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555;margin:0}table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #dde1e8;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#555}.num{text-align:right;white-space:nowrap}tfoot td{font-weight:600}
.info{color:#666}.totals{margin-top:28px;margin-left:auto;width:320px}.totals td{border:none;padding:4px 8px}.totals tr.due td{font-size:18px;font-weight:700;border-top:2px solid #1a1f2b}
.note{color:#555;font-size:12px;margin-top:28px}@media print{body{margin:0;max-width:none}a{color:inherit}}
@media (max-width:560px){body{margin:16px auto;padding:0 12px}header{flex-direction:column;gap:8px}th,td{padding:6px 4px}.num.qty{white-space:normal;text-align:right}.totals{width:100%}}
</style></head><body>
<header><div><h1>Statement ${escapeHtml(statement.number)}</h1><p class="meta">${escapeHtml(workspaceName)} · ${escapeHtml(monthLabel(statement.month))}</p></div>
<div><p class="meta">Closed ${escapeHtml(when(new Date(statement.closedAt)))}</p><p class="meta">Currency: USD</p></div></header>
${agentSections || '<p>No agents were billed this month.</p>'}
${adjustmentSection}
<table class="totals"><tbody>
<tr><td>Plan fees</td><td class="num">${usdText(totals.planFeesMicros)}</td></tr>
<tr><td>Overage</td><td class="num">${usdText(totals.overageMicros)}</td></tr>
${totals.adjustmentsMicros ? `<tr><td>Adjustments</td><td class="num">${usdText(totals.adjustmentsMicros)}</td></tr>` : ''}
<tr class="due"><td>Amount due</td><td class="num">${usdText(totals.amountDueMicros)}</td></tr>
</tbody></table>
<p class="note">Plan fees are prorated by the time each agent spent on each plan; time on your own provider key or paused is free. A plan's fee is at least the share of its allowance used on it. Overage is priced when each call is recorded. A plan's usage is counted in conversations, as on the plan page. Amounts are rounded to the cent and conversations to whole ones here; the CSV and JSON downloads carry exact micro-dollars and conversations to a thousandth.</p>
</body></html>`;
}
