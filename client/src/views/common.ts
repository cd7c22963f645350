// Pieces shared by the screens: page header, load errors, badges, usage bars.
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
  return h('span', { class: 'badge badge-sandbox', title: 'Runs against the built-in provider simulator: no real model is called and nothing is charged.' }, 'Sandbox');
}

/** A bar of usage against the allowance; past 100% the overflow shows in the warning colour. */
export function usageBar(row: Pick<UsageRow, 'tokens' | 'includedTokens'>, label: string): HTMLElement {
  const included = row.includedTokens ?? 0;
  const ratio = included > 0 ? row.tokens / included : 0;
  const percent = Math.min(100, ratio * 100);
  const level = ratio >= 1 ? 'over' : ratio >= 0.8 ? 'warn' : 'ok';
  const fill = h('span', { class: `bar-fill bar-${level}`, style: { width: `${row.tokens > 0 ? Math.max(percent, 1.5) : 0}%` } });
  return h(
    'div',
    {
      class: 'bar bar-usage',
      role: 'progressbar',
      'aria-label': label,
      'aria-valuemin': '0',
      'aria-valuemax': '100',
      'aria-valuenow': String(Math.round(Math.min(ratio * 100, 100))),
      'aria-valuetext': included > 0 ? `${formatInteger(row.tokens)} of ${formatInteger(included)} tokens (${Math.round(ratio * 100)}%)` : `${formatInteger(row.tokens)} tokens`,
    },
    fill,
  );
}

export function tokensOf(row: Pick<UsageRow, 'tokens' | 'includedTokens'>): string {
  return row.includedTokens ? `${formatCompact(row.tokens)} of ${formatCompact(row.includedTokens)} tokens` : `${formatCompact(row.tokens)} tokens`;
}
