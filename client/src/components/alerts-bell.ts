// The alerts bell: unread count, a panel with the workspace's alerts, new ones arriving over Socket.IO.
import { api } from '../api';
import { announce, h, icon, mount } from '../dom';
import { formatDateTime } from '../format';
import { onAlert } from '../realtime';
import { attachPopover } from './popover';
import type { Alert } from '../types';

const ALERT_TITLES: Record<string, string> = {
  allowance_80: '80% of included usage',
  allowance_100: 'Included usage used up',
  budget_reached: 'Budget reached',
  key_invalid: 'Provider key rejected',
  provider_quota_exceeded: 'Provider out of credit',
  // alerts: limits, thresholds, rate limits
  budget_80: '80% of budget',
  cap_reached: 'Usage cap reached',
  overage_budget_reached: 'Overage limit reached',
  key_rate_limited: 'Provider key rate limited',
  // Cost-aware routing (#14)
  routing_degraded: 'Moved to the light model near the limit',
  byok_fallback: 'Answered from the fallback plan',
};
const titleOf = (alert: Alert) =>
  alert.type === 'allowance_threshold' ? `${alert.threshold}% of included usage` : alert.type === 'budget_threshold' ? `${alert.threshold}% of budget` : ALERT_TITLES[alert.type] ?? 'Alert';

export function alertsBell(workspaceId: string): { element: HTMLElement; dispose(): void } {
  let alerts: Alert[] = [];
  const count = h('span', { class: 'bell-count', hidden: true });
  const button = h('button', { type: 'button', class: 'icon-button bell', 'aria-haspopup': 'true', 'aria-expanded': 'false', 'aria-label': 'Alerts' }, icon('bell', 20), count);
  const list = h('ul', { class: 'alert-list' });
  const markAll = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Mark all read');
  // alerts: thresholds and webhooks live on #/alerts, reached from here (the main navigation is full).
  const settingsLink = h('a', { class: 'btn btn-ghost btn-small', href: '#/alerts' }, 'Alert settings');
  const panel = h('div', { class: 'popover alerts-panel', role: 'region', 'aria-label': 'Alerts', hidden: true }, h('div', { class: 'popover-header' }, h('h2', { class: 'popover-title' }, 'Alerts'), markAll, settingsLink), list);
  const element = h('div', { class: 'bell-wrap' }, button, panel);

  const unread = () => alerts.filter((alert) => !alert.readAt).length;
  function render(): void {
    const unreadCount = unread();
    count.textContent = unreadCount > 99 ? '99+' : String(unreadCount);
    count.hidden = unreadCount === 0;
    button.setAttribute('aria-label', unreadCount ? `Alerts, ${unreadCount} unread` : 'Alerts');
    markAll.hidden = unreadCount === 0;
    mount(
      list,
      alerts.length === 0
        ? h('li', { class: 'alert-empty' }, 'No alerts. We will tell you here when an agent nears its allowance or a key stops working.')
        : alerts.slice(0, 30).map((alert) =>
            h(
              'li',
              { class: `alert-item${alert.readAt ? '' : ' unread'}`, dataset: { alertType: alert.type } },
              h('p', { class: 'alert-title' }, titleOf(alert)),
              h('p', { class: 'alert-message' }, alert.message),
              h(
                'p',
                { class: 'alert-meta' },
                formatDateTime(alert.createdAt),
                alert.resolvedAt ? ' · Resolved' : null,
                alert.agentId ? [' · ', h('a', { href: `#/agents/${alert.agentId}`, onClick: () => close() }, 'Open agent')] : null,
              ),
            ),
          ),
    );
  }

  const { close } = attachPopover(element, button, panel);
  markAll.addEventListener('click', async () => {
    try {
      await api.markAllAlertsRead(workspaceId);
      const now = new Date().toISOString();
      alerts = alerts.map((alert) => ({ ...alert, readAt: alert.readAt ?? now }));
      render();
    } catch {
      // The bell stays as it was; nothing else depends on it.
    }
  });

  render();
  api
    .alerts(workspaceId)
    .then((loaded) => {
      const live = alerts.filter((alert) => !loaded.some((candidate) => candidate.id === alert.id));
      alerts = [...live, ...loaded];
      render();
    })
    .catch(() => undefined);

  const unsubscribe = onAlert((alert) => {
    if (alerts.some((existing) => existing.id === alert.id)) return;
    alerts = [{ ...alert, readAt: null }, ...alerts];
    render();
    button.classList.remove('ring');
    void button.offsetWidth;
    button.classList.add('ring');
    announce(`New alert: ${alert.message}`);
  });

  return {
    element,
    dispose() {
      unsubscribe();
      close();
    },
  };
}
