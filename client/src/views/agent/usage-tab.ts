// The agent page's Usage tab: this month's meter, totals and charts, refreshed by live usage updates.
import type { Chart } from 'chart.js';
import { api } from '../../api';
import { dailyChart, modelChart } from '../../components/charts';
import { h, mount } from '../../dom';
import { errorMessage } from '../../forms';
import { formatCompact, formatInteger, formatMonth, formatUsd, formatUsdPrecise } from '../../format';
import { onUsageUpdate } from '../../realtime';
import { meterBar, summaryItem, tokensOf, usageBar } from '../common';
import type { Context } from './tab-context';
import { managedUsageView } from './managed-usage';
import { dailyConversationsChart } from '../../components/plain-charts';
import type { AgentUsage } from '../../types';

/** When the month has more than one setting: which plan (or own key, or paused) for which days, and what each cost. */
function planSegmentsLine(usage: AgentUsage): HTMLElement | null {
  const segments = usage.planSegments ?? [];
  if (segments.length < 2) return null;
  const day = (iso: string) => new Date(iso).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
  const label = (segment: (typeof segments)[number]) => (segment.kind === 'plan' ? `${segment.plan ? segment.plan[0]!.toUpperCase() + segment.plan.slice(1) : 'Plan'} ${formatUsd(segment.feeUsd)}` : segment.kind === 'byok' ? 'own key, free' : 'paused, free');
  const parts = segments.map((segment) => `${day(segment.from)}–${day(segment.to)}: ${label(segment)}`);
  const minimum = usage.allowanceMinimumUsd ? ` · plus ${formatUsdPrecise(usage.allowanceMinimumUsd)} for allowance used beyond the time on its plan` : '';
  return h('p', { class: 'muted plan-segments' }, `This month: ${parts.join(' · ')}${minimum}.`);
}

/** The plan advisor, in plain words (managed agents, this month). */
function planAdviceLine(advice: AgentUsage['planAdvice']): HTMLElement | null {
  if (!advice || advice.status === 'not_managed') return null;
  const kind = advice.status === 'cheaper_plan' ? 'callout-info' : 'callout-success';
  return h('p', { class: `callout ${advice.status === 'not_enough_data' ? '' : kind} plan-advice`, dataset: { advice: advice.status } }, h('strong', null, 'Plan advisor: '), advice.message);
}

export async function renderUsage(target: HTMLElement, context: Context): Promise<() => void> {
  const charts: Chart[] = [];
  const month = new Date().toISOString().slice(0, 7);
  mount(target, h('div', { class: 'card section' }, h('p', { class: 'muted' }, 'Loading usage…')));
  let disposed = false;
  async function load(): Promise<void> {
    let usage;
    try {
      usage = await api.agentUsage(context.workspace, context.agent.id, month);
    } catch (error) {
      mount(target, h('div', { class: 'card callout callout-error', role: 'alert' }, errorMessage(error)));
      return;
    }
    if (disposed) return;
    for (const chart of charts.splice(0)) chart.destroy();
    const isByok = usage.mode === 'byok';
    const dailyCanvas = h('canvas', { role: 'img', 'aria-label': `Daily tokens in ${formatMonth(month)}` });
    const modelCanvas = h('canvas', { role: 'img', 'aria-label': 'Tokens by model' });
    const due = usage.planFeeUsd + usage.overageUsd;
    if (!isByok) {
      // experience (#18): a managed agent's usage in the plan's own words (views/agent/managed-usage.ts).
      dailyCanvas.setAttribute('aria-label', `Conversations per day in ${formatMonth(month)}`);
      mount(target, managedUsageView(usage, month, dailyCanvas, [planSegmentsLine(usage), planAdviceLine(usage.planAdvice)]));
      charts.push(await dailyConversationsChart(dailyCanvas, usage));
      if (disposed) for (const chart of charts.splice(0)) chart.destroy();
      return;
    }
    mount(
      target,
      h(
        'div',
        { class: 'stack-lg' },
        h(
          'section',
          { class: 'card section' },
          h('h2', { class: 'section-title' }, formatMonth(month)),
          isByok ? meterBar(usage.costUsd ?? 0, usage.budgetUsd ?? null, 'Provider cost against budget', usage.budgetUsd ? `${formatUsdPrecise(usage.costUsd ?? 0)} of ${formatUsd(usage.budgetUsd)}` : 'No budget set') : usageBar(usage, 'Usage of included allowance'),
          h('p', { class: 'usage-tokens' }, isByok ? `${formatCompact(usage.tokens)} tokens${usage.budgetUsd ? ` · budget ${formatUsd(usage.budgetUsd)}` : ''}` : tokensOf(usage)),
          h(
            'div',
            { class: 'summary-grid' },
            summaryItem('Requests', formatInteger(usage.requests), usage.errors ? `${formatInteger(usage.errors)} failed` : undefined),
            summaryItem('Tokens', formatInteger(usage.tokens), `${formatInteger(usage.tokensInput)} in · ${formatInteger(usage.tokensOutput)} out`),
            isByok ? summaryItem('Est. provider cost', formatUsdPrecise(usage.costUsd ?? 0), 'Billed by your provider') : summaryItem('Due this month', formatUsd(due), usage.overageUsd ? `incl. overage ${formatUsd(usage.overageUsd)}` : 'Plan fee, no overage'),
            usage.projectedTokens !== undefined ? summaryItem('Projected month-end', `${formatCompact(usage.projectedTokens)} tokens`, isByok ? undefined : `≈ ${formatUsd(usage.projectedAmountUsd ?? due)}`) : null,
          ),
          planSegmentsLine(usage),
          planAdviceLine(usage.planAdvice),
        ),
        h(
          'div',
          { class: 'chart-grid' },
          h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Daily usage'), h('div', { class: 'chart-box' }, dailyCanvas)),
          h(
            'section',
            { class: 'card section' },
            h('h2', { class: 'section-title' }, 'By model'),
            usage.byModel.length ? h('div', { class: 'chart-box' }, modelCanvas) : h('p', { class: 'muted' }, 'No calls yet this month.'),
            usage.byModel.length
              ? h(
                  'table',
                  { class: 'table compact' },
                  h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Model'), h('th', { scope: 'col', class: 'num' }, 'Tokens'), h('th', { scope: 'col', class: 'num' }, 'Cost'))),
                  h('tbody', null, usage.byModel.map((entry) => h('tr', null, h('td', null, entry.model), h('td', { class: 'num' }, formatCompact(entry.tokens)), h('td', { class: 'num' }, formatUsdPrecise(entry.costUsd))))),
                )
              : null,
          ),
        ),
      ),
    );
    charts.push(await dailyChart(dailyCanvas, usage));
    if (usage.byModel.length) charts.push(await modelChart(modelCanvas, usage));
    if (disposed) for (const chart of charts.splice(0)) chart.destroy();
  }
  await load();
  let pending: number | null = null;
  const unsubscribe = onUsageUpdate((update) => {
    if (update.month !== month || !update.agents.some((row) => row.agentId === context.agent.id) || pending !== null) return;
    pending = window.setTimeout(() => {
      pending = null;
      void load();
    }, 300);
  });
  return () => {
    disposed = true;
    unsubscribe();
    if (pending !== null) window.clearTimeout(pending);
    for (const chart of charts.splice(0)) chart.destroy();
  };
}
