// The Usage tab of a managed agent, in the plan's own words: share of the included usage, conversations, what is
// due. No models and no platform cost; tokens only inside "Details" (experience, #18).
import { h } from '../../dom';
import { formatInteger, formatMonth, formatUsd } from '../../format';
import { aboutConversations, conversationsIn, percentOfIncluded, plainAllowance, plainUsageBar, usageDetails } from '../../components/plain-usage';
import type { AgentUsage } from '../../types';
import { summaryItem } from '../common';

/** `notes`: lines other capabilities add under the summary (the month's plan segments, the plan advisor). */
export function managedUsageView(usage: AgentUsage, month: string, dailyCanvas: HTMLCanvasElement, notes: Array<HTMLElement | null> = []): HTMLElement {
  const due = usage.planFeeUsd + usage.overageUsd;
  const extra = usage.overageTokens > 0 ? `incl. about ${conversationsIn(usage.overageTokens)} extra conversations: ${formatUsd(usage.overageUsd)}` : 'Plan fee, nothing extra';
  return h(
    'div',
    { class: 'stack-lg' },
    h(
      'section',
      { class: 'card section' },
      h('h2', { class: 'section-title' }, formatMonth(month)),
      plainUsageBar(usage, 'Share of the included usage'),
      h('p', { class: 'usage-tokens' }, plainAllowance(usage)),
      h(
        'div',
        { class: 'summary-grid' },
        summaryItem('Included usage used', `${percentOfIncluded(usage)}%`, aboutConversations(usage.tokens)),
        summaryItem('Replies', formatInteger(usage.requests), usage.errors ? `${formatInteger(usage.errors)} failed` : undefined),
        summaryItem('Due this month', formatUsd(due), extra),
        usage.projectedTokens !== undefined
          ? summaryItem('Projected month-end', `≈ ${formatUsd(usage.projectedAmountUsd ?? due)}`, `${aboutConversations(usage.projectedTokens)} at this pace`)
          : null,
      ),
      ...notes,
      usageDetails(usage),
    ),
    h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Conversations per day'), h('div', { class: 'chart-box' }, dailyCanvas)),
  );
}
