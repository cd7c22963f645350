// #/usage: the workspace's usage over a date range (calls per day), today by hour, and totals — for every role.
import type { Chart as ChartType } from 'chart.js';
import { api } from '../api';
import { h, mount } from '../dom';
import { everydayApi, utcDay, type UsageRange, type UsageToday } from '../everyday-api';
import { errorMessage, formMessage, input, select } from '../forms';
import { formatInteger } from '../format';
import { workspaceId } from '../session';
import type { Agent } from '../types';
import { barChart } from '../components/usage-range-charts';
import { pageHeader, renderLoadError, summaryItem } from './common';

const PRESETS = [
  { id: '7', label: '7 days', days: 7 },
  { id: '30', label: '30 days', days: 30 },
  { id: '90', label: '90 days', days: 90 },
] as const;

function dayLabel(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
}

export async function renderUsageOverview(main: HTMLElement): Promise<() => void> {
  document.title = 'Usage over time · Agent Host';
  const workspace = workspaceId();
  mount(main, pageHeader('Usage over time', 'Loading…'));
  let agents: Agent[];
  try {
    agents = await api.agents(workspace);
  } catch (error) {
    renderLoadError(main, 'Usage over time', error);
    return () => undefined;
  }
  const charts: ChartType[] = [];
  const destroyCharts = () => charts.splice(0).forEach((chart) => chart.destroy());
  const agentSelect = select([{ value: '', label: 'Whole workspace' }, ...agents.map((agent) => ({ value: agent.id, label: agent.name }))], { name: 'agentId', 'aria-label': 'Agent' });
  const fromInput = input({ type: 'date', name: 'from', 'aria-label': 'From', value: utcDay(29) });
  const toInput = input({ type: 'date', name: 'to', 'aria-label': 'To', value: utcDay(0) });
  const presetButtons = PRESETS.map((preset) =>
    h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-pressed': String(preset.days === 30), dataset: { days: String(preset.days) } }, preset.label),
  );
  const message = formMessage();
  const totals = h('div', { class: 'summary-grid' });
  const rangeCanvas = h('canvas', { 'aria-label': 'Calls per day', role: 'img' });
  const todayCanvas = h('canvas', { 'aria-label': 'Calls per hour today', role: 'img' });
  const rangeTitle = h('h2', { class: 'section-title' }, 'Calls per day');
  const rangeTable = h('div', { class: 'visually-hidden' });
  let token = 0;

  async function load(): Promise<void> {
    const mine = ++token;
    message.show(null);
    try {
      const agentId = agentSelect.value || undefined;
      const [range, today]: [UsageRange, UsageToday] = await Promise.all([
        everydayApi.usageRange(workspace, { from: fromInput.value, to: toInput.value, agentId }),
        everydayApi.usageToday(workspace, agentId),
      ]);
      if (mine !== token) return;
      destroyCharts();
      const todayCalls = today.hours.reduce((sum, hour) => sum + hour.requests, 0);
      const busiest = range.days.reduce((best, day) => (day.requests > best.requests ? day : best), range.days[0] ?? { date: range.from, requests: 0 });
      mount(
        totals,
        summaryItem('Calls in range', formatInteger(range.totals.requests), `${dayLabel(range.from)} – ${dayLabel(range.to)}`),
        summaryItem('Calls today', formatInteger(todayCalls), 'UTC day so far'),
        summaryItem('Busiest day', busiest.requests > 0 ? dayLabel(busiest.date) : '—', busiest.requests > 0 ? `${formatInteger(busiest.requests)} calls` : undefined),
      );
      rangeTitle.textContent = `Calls per day · ${dayLabel(range.from)} – ${dayLabel(range.to)}`;
      mount(rangeTable, h('table', null, h('caption', null, 'Calls per day'), h('tbody', null, range.days.map((day) => h('tr', null, h('th', null, day.date), h('td', null, String(day.requests)))))));
      charts.push(await barChart(rangeCanvas, range.days.map((day) => ({ label: dayLabel(day.date), value: day.requests, title: day.date })), 'Calls'));
      charts.push(await barChart(todayCanvas, today.hours.map((hour) => ({ label: hour.hour, value: hour.requests, title: `${hour.hour}:00–${hour.hour}:59 UTC` })), 'Calls'));
    } catch (error) {
      if (mine === token) message.show(errorMessage(error));
    }
  }

  for (const button of presetButtons) {
    button.addEventListener('click', () => {
      const days = Number(button.dataset.days);
      fromInput.value = utcDay(days - 1);
      toInput.value = utcDay(0);
      for (const other of presetButtons) other.setAttribute('aria-pressed', String(other === button));
      void load();
    });
  }
  for (const control of [fromInput, toInput]) {
    control.addEventListener('change', () => {
      for (const other of presetButtons) other.setAttribute('aria-pressed', 'false');
      void load();
    });
  }
  agentSelect.addEventListener('change', () => void load());

  mount(
    main,
    pageHeader('Usage over time', 'How much your agents are used, over any dates.', h('a', { class: 'btn btn-secondary', href: '#/activity' }, 'See every call')),
    h(
      'div',
      { class: 'stack-lg' },
      h('section', { class: 'card section usage-controls' }, h('div', { class: 'preset-row', role: 'group', 'aria-label': 'Date range' }, ...presetButtons), h('label', { class: 'date-field' }, h('span', null, 'From'), fromInput), h('label', { class: 'date-field' }, h('span', null, 'To'), toInput), agentSelect),
      message.element,
      totals,
      h('section', { class: 'card section' }, rangeTitle, h('div', { class: 'chart-box' }, rangeCanvas), rangeTable),
      h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Today by hour (UTC)'), h('div', { class: 'chart-box' }, todayCanvas)),
    ),
  );
  await load();
  return destroyCharts;
}
