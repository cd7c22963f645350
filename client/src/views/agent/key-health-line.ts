// The AI setting tab's line under an own key's status: how the status changed lately and what noticed it (a call, the
// background check that runs every few hours for keys in use, or a connection test).
import { alertsApi, type KeyStatusChange } from '../../alerts-api';
import { h, mount } from '../../dom';
import { formatDateTime } from '../../format';

const STATUS_WORDS: Record<string, string> = {
  valid: 'working',
  invalid: 'rejected by the provider',
  rate_limited: 'rate limited by the provider',
  quota_exceeded: 'out of credit',
  unreachable: 'provider unreachable',
  unchecked: 'not tested yet',
};
const SOURCE_WORDS: Record<KeyStatusChange['source'], string> = {
  call: 'during a call',
  background_check: 'by the background check',
  connection_test: 'by a connection test',
};

const describe = (change: KeyStatusChange) => `${STATUS_WORDS[change.status] ?? change.status} since ${formatDateTime(change.at)} (noticed ${SOURCE_WORDS[change.source] ?? change.source})`;

export function keyHealthLine(workspace: string, agentId: string): HTMLElement {
  const element = h('div', { class: 'key-health-line small', dataset: { testid: 'key-health-line' } }, h('span', { class: 'muted' }, 'Loading the key’s history…'));
  void alertsApi
    .keyHealth(workspace, agentId)
    .then(({ history }) => {
      if (history.length === 0) {
        mount(element, h('p', { class: 'muted' }, 'Key history: nothing noticed yet. Keys in use are checked in the background every few hours.'));
        return;
      }
      const [latest, ...earlier] = history;
      mount(
        element,
        h('p', null, h('strong', null, 'Key history: '), describe(latest!), '.'),
        earlier.length > 0
          ? h('details', null, h('summary', { class: 'muted' }, `Earlier (${earlier.length})`), h('ol', null, earlier.slice(0, 10).map((change) => h('li', null, describe(change)))))
          : null,
      );
    })
    .catch(() => mount(element, h('p', { class: 'muted' }, 'Key history is not available right now.')));
  return element;
}
