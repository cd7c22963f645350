// #/dashboard: the month at a glance: every agent's usage against its allowance, what is due, live over Socket.IO.
import { api } from '../api';
import { catalog } from '../catalog';
import { h, icon, mount } from '../dom';
import { errorMessage, formMessage, withBusy } from '../forms';
import { currentMonth, formatCompact, formatInteger, formatMonth, formatUsd, formatUsdPrecise, recentMonths } from '../format';
import { isRealtimeConnected, onRealtimeStatus, onUsageUpdate } from '../realtime';
import { can, session, workspaceId } from '../session';
import type { Agent, Plan, Provider, UsageRow, WorkspaceUsage } from '../types';
import { llmLabel, meterBar, pageHeader, renderLoadError, sandboxBadge } from './common';
import { healthBadge, healthOf } from '../components/agent-health';
import { conversationsIn, plainAllowance, plainUsageBar } from '../components/plain-usage';

export async function renderDashboard(main: HTMLElement): Promise<() => void> {
  document.title = 'Dashboard · Agent Host';
  const workspace = workspaceId();
  let month = currentMonth();
  let usage: WorkspaceUsage | null = null;
  let agents: Agent[] = [];
  let plans: Plan[] = [];
  let providers: Provider[] = [];
  const updatedAgents = new Set<string>();

  mount(main, pageHeader('Usage', 'Loading…'));
  try {
    [usage, agents, plans, providers] = await Promise.all([api.usage(workspace, month), api.agents(workspace), catalog.plans(), catalog.providers()]);
  } catch (error) {
    renderLoadError(main, 'Usage', error);
    return () => undefined;
  }

  const monthSelect = h(
    'select',
    { class: 'input input-compact', id: 'month-picker', name: 'month' },
    recentMonths(12).map((candidate) => h('option', { value: candidate, selected: candidate === month }, formatMonth(candidate))),
  );
  const exportMessage = formMessage();
  const exportButton = h('button', { type: 'button', class: 'btn btn-secondary' }, icon('download'), 'Export CSV');
  const live = h('span', { class: 'live', dataset: { live: String(isRealtimeConnected()) } }, h('span', { class: 'live-dot', 'aria-hidden': 'true' }), h('span', { class: 'live-text' }, 'Live'));
  const stats = h('div', { class: 'stats' });
  const list = h('div', { class: 'agent-usage-list', 'aria-live': 'off' });
  const subtitle = h('span', null);

  const providerName = (id: string) => providers.find((provider) => provider.id === id)?.name ?? id;

  function rowsToShow(): UsageRow[] {
    const rows = [...(usage?.agents ?? [])];
    if (month === currentMonth()) {
      // Agents without calls this month still appear, at zero.
      for (const agent of agents) {
        if (rows.some((row) => row.agentId === agent.id)) continue;
        const plan = agent.llm.mode === 'managed' ? plans.find((candidate) => candidate.id === (agent.llm as { plan: string }).plan) : undefined;
        rows.push({
          agentId: agent.id,
          name: agent.name,
          mode: agent.llm.mode,
          plan: agent.llm.mode === 'managed' ? agent.llm.plan : null,
          tokensInput: 0,
          tokensOutput: 0,
          tokens: 0,
          requests: 0,
          errors: 0,
          includedTokens: plan?.includedTokens ?? null,
          percentOfIncluded: 0,
          overageTokens: 0,
          overageUsd: 0,
          costUsd: 0,
          planFeeUsd: plan?.priceUsd ?? 0,
          projectedAmountUsd: plan?.priceUsd ?? 0,
          budgetUsd: agent.limits.monthlyBudgetUsd,
        });
      }
    }
    return rows.sort((a, b) => b.tokens - a.tokens || a.name.localeCompare(b.name));
  }

  function renderStats(): void {
    const totals = usage!.totals;
    const rows = rowsToShow();
    const byokCost = rows.filter((row) => row.mode === 'byok').reduce((sum, row) => sum + (row.costUsd ?? 0), 0);
    const projected = rows.filter((row) => row.mode === 'managed').reduce((sum, row) => sum + (row.projectedAmountUsd ?? row.planFeeUsd + row.overageUsd), 0);
    const isCurrent = month === currentMonth();
    const stat = (label: string, value: string, note: string, key: string) =>
      h('div', { class: 'stat card', dataset: { stat: key } }, h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value), h('p', { class: 'stat-note' }, note));
    mount(
      stats,
      stat('Amount due', formatUsd(totals.amountDueUsd), `Plans ${formatUsd(totals.planFeesUsd)} + extra usage ${formatUsd(totals.overageUsd)}${agents.some((agent) => agent.sandbox) ? ' · billing simulated (sandbox)' : ''}`, 'due'),
      stat(isCurrent ? 'Projected month-end' : 'Month total', formatUsd(isCurrent ? projected : totals.amountDueUsd), isCurrent ? 'If usage keeps its current pace' : 'Final for this month', 'projected'),
      stat('Usage', `${formatInteger(totals.requests)} ${totals.requests === 1 ? 'reply' : 'replies'}`, 'Across every agent this month', 'tokens'),
      rows.some((row) => row.mode === 'byok') ? stat('Own-key provider cost', formatUsdPrecise(byokCost), 'Estimated; billed by your providers', 'byok') : null,
    );
  }

  function renderRow(row: UsageRow): HTMLElement {
    const agent = agents.find((candidate) => candidate.id === row.agentId);
    const isByok = row.mode === 'byok';
    const due = row.planFeeUsd + row.overageUsd;
    const name = row.deleted || !agent ? h('span', { class: 'agent-name' }, row.name, row.deleted ? h('span', { class: 'muted' }, ' (deleted)') : null) : h('a', { class: 'agent-name', href: `#/agents/${row.agentId}` }, row.name);
    const llm = agent ? llmLabel(agent.llm, plans, providerName) : llmLabel({ mode: row.mode, plan: row.plan }, plans);
    let bar: HTMLElement;
    let barCaption: string;
    const cost = row.costUsd ?? 0;
    if (!isByok) {
      // A managed plan in its own unit (experience, #18): share of the included usage and conversations, no tokens.
      bar = plainUsageBar(row, `${row.name}: share of the included usage`);
      barCaption = plainAllowance(row);
    } else if (row.budgetUsd) {
      bar = meterBar(cost, row.budgetUsd, `${row.name}: provider cost against budget`, `${formatUsdPrecise(cost)} of ${formatUsd(row.budgetUsd)} budget`);
      barCaption = `${formatCompact(row.tokens)} tokens · ${formatUsdPrecise(cost)} of ${formatUsd(row.budgetUsd)} budget`;
    } else {
      bar = meterBar(0, null, `${row.name}: no allowance (own key)`, 'No allowance: billed by your provider');
      bar.classList.add('bar-none');
      barCaption = `${formatCompact(row.tokens)} tokens · no allowance, billed by your provider`;
    }
    const element = h(
      'article',
      { class: `usage-row card${updatedAgents.has(row.agentId) ? ' flash' : ''}`, dataset: { agentId: row.agentId, tokens: String(row.tokens) }, 'aria-label': row.name },
      h(
        'div',
        { class: 'usage-row-head' },
        h(
          'div',
          { class: 'usage-row-title' },
          name,
          h('span', { class: `badge ${isByok ? 'badge-byok' : 'badge-plan'}` }, llm),
          agent ? healthBadge(healthOf(agent)) : null,
          agent?.sandbox && healthOf(agent).state !== 'sandbox' ? sandboxBadge() : null,
        ),
        h(
          'div',
          { class: 'usage-row-amount' },
          isByok ? h('span', { class: 'amount-label' }, 'Est. provider cost') : h('span', { class: 'amount-label' }, 'Due'),
          h('span', { class: 'amount' }, isByok ? formatUsdPrecise(cost) : formatUsd(due)),
        ),
      ),
      bar,
      h(
        'div',
        { class: 'usage-row-foot' },
        h('span', { class: 'usage-tokens' }, barCaption),
        h(
          'span',
          { class: 'usage-extra' },
          `${formatInteger(row.requests)} ${row.requests === 1 ? 'reply' : 'replies'}`,
          row.errors ? ` · ${formatInteger(row.errors)} failed` : '',
          !isByok && row.overageTokens > 0 ? h('span', { class: 'overage' }, ` · Extra usage, about ${conversationsIn(row.overageTokens)} conversations = ${formatUsd(row.overageUsd)}`) : null,
          !isByok && month === currentMonth() && row.projectedAmountUsd !== undefined ? ` · Projected ${formatUsd(row.projectedAmountUsd)}` : null,
        ),
      ),
    );
    return element;
  }

  function renderList(): void {
    const rows = rowsToShow();
    subtitle.textContent = `${session.workspace!.name} · ${formatMonth(month)}`;
    if (rows.length === 0) {
      mount(
        list,
        h(
          'div',
          { class: 'card empty' },
          h('h2', { class: 'empty-title' }, month === currentMonth() ? 'No agents yet' : 'No usage in this month'),
          h('p', { class: 'muted' }, month === currentMonth() ? 'Create an agent from a template; its usage will appear here as it works.' : 'Pick another month to see its usage.'),
          month === currentMonth() && can('builder') ? h('a', { class: 'btn btn-primary', href: '#/agents/new' }, icon('plus'), 'Create your first agent') : null,
        ),
      );
      return;
    }
    mount(list, rows.map(renderRow));
  }

  function render(): void {
    renderStats();
    renderList();
  }

  async function loadMonth(): Promise<void> {
    list.setAttribute('aria-busy', 'true');
    try {
      usage = await api.usage(workspace, month);
      updatedAgents.clear();
      render();
    } catch (error) {
      mount(list, h('div', { class: 'card callout callout-error', role: 'alert' }, errorMessage(error)));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }

  monthSelect.addEventListener('change', () => {
    month = monthSelect.value;
    void loadMonth();
  });
  exportButton.addEventListener('click', async () => {
    exportMessage.show(null);
    try {
      await withBusy(exportButton, 'Preparing…', () => api.downloadUsageCsv(workspace, month));
      exportMessage.show(`Downloaded usage for ${formatMonth(month)}.`, 'success');
    } catch (error) {
      exportMessage.show(errorMessage(error));
    }
  });

  let healthTimer: number | null = null;
  function refreshHealthSoon(): void {
    if (healthTimer !== null) return;
    healthTimer = window.setTimeout(async () => {
      healthTimer = null;
      try {
        agents = await api.agents(workspace);
        render();
      } catch {
        // The badges stay as they were until the next update.
      }
    }, 500);
  }
  const unsubscribeUsage = onUsageUpdate((update) => {
    if (!usage || update.month !== month) return;
    const rows = [...usage.agents];
    // A new failure or a cap in reach may change an agent's health: reload the agents (with their health) once.
    if (update.agents.some((row) => {
      const before = rows.find((existing) => existing.agentId === row.agentId);
      return row.errors > (before?.errors ?? 0) || (row.monthlyTokenCap != null && row.tokens >= row.monthlyTokenCap);
    })) refreshHealthSoon();
    for (const row of update.agents) {
      const index = rows.findIndex((existing) => existing.agentId === row.agentId);
      if (index >= 0) rows[index] = { ...rows[index], ...row };
      else rows.push(row);
      updatedAgents.add(row.agentId);
    }
    usage = { ...usage, agents: rows, totals: update.totals };
    render();
    window.setTimeout(() => {
      for (const row of update.agents) updatedAgents.delete(row.agentId);
    }, 1200);
  });
  const unsubscribeStatus = onRealtimeStatus((connected) => {
    live.dataset.live = String(connected);
    live.title = connected ? 'Updates arrive as agents work' : 'Reconnecting…';
  });

  mount(
    main,
    pageHeader(
      'Usage',
      subtitle,
      live,
      h('div', { class: 'inline-field' }, h('label', { for: 'month-picker', class: 'inline-label' }, 'Month'), monthSelect),
      exportButton,
      h('a', { class: 'btn btn-secondary', href: '#/usage' }, 'Over time'),
      can('builder') ? h('a', { class: 'btn btn-primary', href: '#/agents/new' }, icon('plus'), 'New agent') : null,
    ),
    exportMessage.element,
    stats,
    h('h2', { class: 'section-heading' }, 'Agents'),
    list,
  );
  render();
  return () => {
    if (healthTimer !== null) window.clearTimeout(healthTimer);
    unsubscribeUsage();
    unsubscribeStatus();
  };
}
