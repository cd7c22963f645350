// A managed agent's month as conversations per day (the plan's unit), for the Usage tab.
import type { Chart as ChartType } from 'chart.js';
import { daysOf, loadChart } from './charts';
import type { AgentUsage } from '../types';

export async function dailyConversationsChart(canvas: HTMLCanvasElement, usage: AgentUsage): Promise<ChartType> {
  const { Chart } = await loadChart();
  const days = daysOf(usage.month);
  const byDate = new Map(usage.daily.map((day) => [day.date, day]));
  const conversations = (day: string) => {
    const entry = byDate.get(day);
    return entry ? Math.round(((entry.tokensInput + entry.tokensOutput) / 1000) * 10) / 10 : 0;
  };
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels: days.map((day) => String(Number(day.slice(8)))),
      datasets: [{ label: 'Conversations (about)', data: days.map(conversations), backgroundColor: '#4c6ef5', borderRadius: 3 }],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      scales: { x: { grid: { display: false } }, y: { beginAtZero: true } },
      plugins: {
        legend: { display: false },
        tooltip: { callbacks: { title: (items) => `Day ${items[0]?.label ?? ''}`, label: (item) => `About ${item.raw} conversations` } },
      },
    },
  });
}
