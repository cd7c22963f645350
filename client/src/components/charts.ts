// Chart.js charts for an agent's month: daily usage (stacked input/output) and the per-model split.
import type { Chart as ChartType } from 'chart.js';
import { formatCompact, formatInteger, formatUsdPrecise } from '../format';
import type { AgentUsage } from '../types';

let chartModule: Promise<typeof import('chart.js')> | null = null;

export async function loadChart(): Promise<typeof import('chart.js')> {
  chartModule ??= import('chart.js').then((module) => {
    const { Chart, BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Tooltip, Legend } = module;
    Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Tooltip, Legend);
    Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    Chart.defaults.color = '#4b5563';
    return module;
  });
  return chartModule;
}

const COLORS = { input: '#4c6ef5', output: '#9fb3fb', models: ['#4c6ef5', '#12b886', '#f59f00', '#e64980', '#7950f2', '#15aabf'] };

/** Every day of the month on the x axis, so a quiet day shows as a gap rather than disappearing. */
export function daysOf(month: string): string[] {
  const [year, monthNumber] = month.split('-').map(Number);
  const count = new Date(Date.UTC(year!, monthNumber!, 0)).getUTCDate();
  return Array.from({ length: count }, (_, index) => `${month}-${String(index + 1).padStart(2, '0')}`);
}

export async function dailyChart(canvas: HTMLCanvasElement, usage: AgentUsage): Promise<ChartType> {
  const { Chart } = await loadChart();
  const days = daysOf(usage.month);
  const byDate = new Map(usage.daily.map((day) => [day.date, day]));
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: days.map((day) => String(Number(day.slice(8)))),
      datasets: [
        { label: 'Input tokens', data: days.map((day) => byDate.get(day)?.tokensInput ?? 0), backgroundColor: COLORS.input, borderRadius: 3, stack: 'tokens' },
        { label: 'Output tokens', data: days.map((day) => byDate.get(day)?.tokensOutput ?? 0), backgroundColor: COLORS.output, borderRadius: 3, stack: 'tokens' },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
        tooltip: { callbacks: { title: (items) => `Day ${items[0]?.label ?? ''}`, label: (item) => `${item.dataset.label}: ${formatInteger(Number(item.raw))}` } },
      },
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
        y: { stacked: true, beginAtZero: true, ticks: { callback: (value) => formatCompact(Number(value)) }, grid: { color: '#eef0f4' } },
      },
    },
  });
}

export async function modelChart(canvas: HTMLCanvasElement, usage: AgentUsage): Promise<ChartType> {
  const { Chart } = await loadChart();
  return new Chart(canvas, {
    type: 'doughnut',
    data: {
      labels: usage.byModel.map((entry) => entry.model),
      datasets: [{ data: usage.byModel.map((entry) => entry.tokens), backgroundColor: usage.byModel.map((_, index) => COLORS.models[index % COLORS.models.length]!), borderWidth: 2, borderColor: '#ffffff' }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      cutout: '62%',
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12, boxHeight: 12 } },
        tooltip: {
          callbacks: {
            label: (item) => {
              const entry = usage.byModel[item.dataIndex]!;
              return `${entry.provider} · ${formatInteger(entry.tokens)} tokens · ${formatUsdPrecise(entry.costUsd)}`;
            },
          },
        },
      },
    },
  });
}
