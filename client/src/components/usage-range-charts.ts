// Bar charts of the usage views: calls per day over a date range, and today's calls by hour.
import type { Chart as ChartType } from 'chart.js';
import { formatCompact, formatInteger } from '../format';
import { loadChart } from './charts';

const ACCENT = '#4c6ef5';

export async function barChart(canvas: HTMLCanvasElement, points: Array<{ label: string; value: number; title: string }>, seriesLabel: string): Promise<ChartType> {
  const { Chart } = await loadChart();
  return new Chart(canvas, {
    type: 'bar',
    data: { labels: points.map((point) => point.label), datasets: [{ label: seriesLabel, data: points.map((point) => point.value), backgroundColor: ACCENT, borderRadius: 3 }] },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: (items) => points[items[0]?.dataIndex ?? 0]?.title ?? '', label: (item) => `${seriesLabel}: ${formatInteger(Number(item.raw))}` } },
      },
      scales: {
        x: { grid: { display: false }, ticks: { autoSkip: true, maxRotation: 0 } },
        y: { beginAtZero: true, ticks: { precision: 0, callback: (value) => formatCompact(Number(value)) }, grid: { color: '#eef0f4' } },
      },
    },
  });
}
