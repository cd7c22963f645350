// Pieces shared by the screens: page header, load errors, badges, usage bars, summary items.
import { h, mount } from '../dom';
import { errorMessage } from '../forms';
import { formatCompact, formatInteger } from '../format';
import type { Agent, Plan, UsageRow } from '../types';

export function pageHeader(title: string, subtitle?: string | Node | null, ...actions: Array<Node | null | false>): HTMLElement {
  return h(
    'div',
    { class: 'page-header' },
    h('div', { class: 'page-heading' }, h('h1', { class: 'page-title' }, title), subtitle ? h('p', { class: 'page-subtitle' }, subtitle) : null),
    actions.some(Boolean) ? h('div', { class: 'page-actions' }, ...actions) : null,
  );
}

export function renderLoadError(main: HTMLElement, title: string, error: unknown): void {
  mount(main, pageHeader(title), h('div', { class: 'card callout callout-error', role: 'alert' }, h('p', null, errorMessage(error)), h('button', { type: 'button', class: 'btn btn-secondary', onClick: () => location.reload() }, 'Try again')));
}

export function llmLabel(llm: Agent['llm'] | { mode: 'managed' | 'byok'; plan?: string | null }, plans: Plan[], providerName?: (id: string) => string): string {
  if (llm.mode === 'managed') {
    const plan = plans.find((candidate) => candidate.id === llm.plan);
    return `${plan?.name ?? llm.plan ?? 'Managed'} plan`;
  }
  if ('provider' in llm) return `Own key · ${providerName ? providerName(llm.provider) : llm.provider}`;
  return 'Own key';
}

export function sandboxBadge(): HTMLElement {
  return h('span', { class: 'badge badge-sandbox', title: 'Runs against the built-in provider simulator: no real model is called, and billing is simulated.' }, 'Sandbox');
}

/** A bar of a value against its limit; past 80% it turns amber, past 100% the warning colour. */
export function meterBar(value: number, limit: number | null, label: string, valueText: string): HTMLElement {
  const ratio = limit && limit > 0 ? value / limit : 0;
  const percent = Math.min(100, ratio * 100);
  const level = ratio >= 1 ? 'over' : ratio >= 0.8 ? 'warn' : 'ok';
  const fill = h('span', { class: `bar-fill bar-${level}`, style: { width: `${value > 0 ? Math.max(percent, 1.5) : 0}%` } });
  return h(
    'div',
    {
      class: 'bar bar-usage',
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(Math.round(percent)),
      'aria-valuetext': valueText,
    },
    fill,
  );
}

export function usageBar(row: Pick<UsageRow, 'tokens' | 'includedTokens'>, label: string): HTMLElement {
  const included = row.includedTokens ?? 0;
  const text = included > 0 ? `${formatInteger(row.tokens)} of ${formatInteger(included)} tokens (${Math.round((row.tokens / included) * 100)}%)` : `${formatInteger(row.tokens)} tokens`;
  return meterBar(row.tokens, included, label, text);
}

export function tokensOf(row: Pick<UsageRow, 'tokens' | 'includedTokens'>): string {
  return row.includedTokens ? `${formatCompact(row.tokens)} of ${formatCompact(row.includedTokens)} tokens` : `${formatCompact(row.tokens)} tokens`;
}

export function summaryItem(label: string, value: string | Node, note?: string): HTMLElement {
  return h('div', { class: 'summary-item' }, h('p', { class: 'summary-label' }, label), h('div', { class: 'summary-value' }, value), note ? h('p', { class: 'summary-note' }, note) : null);
}
