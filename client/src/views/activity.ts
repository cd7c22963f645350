// #/activity: every call of the workspace's agents, newest first — filters, "Load more" pages, one call's details,
// and the CSV of what the filters show. Token counts and models are folded into "Show technical details" (off by default).
import { api } from '../api';
import { h, icon, mount } from '../dom';
import { everydayApi, utcDay, type ActivityFilters, type NamedApiKey } from '../everyday-api';
import type { ActivityRow } from '../../../shared/activity-answers';
import { errorMessage, formMessage, input, select, withBusy } from '../forms';
import { formatInteger, formatUsdPrecise } from '../format';
import { can, workspaceId } from '../session';
import type { Agent } from '../types';
import { pageHeader, renderLoadError } from './common';
import { aboutConversations } from '../components/plain-usage';

const STATUS_LABELS: Record<ActivityRow['status'], string> = { ok: 'Answered', error: 'Failed', partial: 'Cut short', timeout: 'Timed out' };
const PLAN_NAMES: Record<string, string> = { starter: 'Starter plan', pro: 'Pro plan', ultra: 'Ultra plan' };
const TECHNICAL_KEY = 'agentHost.activity.technical';

function timeLabel(iso: string): string {
  return new Date(iso).toLocaleString('en-US', { month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', second: '2-digit' });
}

function keyLabel(row: ActivityRow): string {
  if (!row.apiKey) return 'Playground';
  return row.apiKey.name ?? (row.apiKey.prefix ? `${row.apiKey.prefix}…` : 'Deleted key');
}

function aiLabel(row: ActivityRow, technical: boolean): string {
  if (row.mode === 'managed') return PLAN_NAMES[row.plan ?? ''] ?? 'Managed plan';
  return technical && row.model ? `Own key · ${row.model}` : 'Own key';
}

function statusBadge(row: ActivityRow): HTMLElement {
  const kind = row.status === 'ok' ? 'badge-success' : row.status === 'error' ? 'badge-danger' : 'badge-warning';
  return h('span', { class: `badge ${kind}` }, STATUS_LABELS[row.status]);
}

/** Routing and cache decisions, when the call has them. */
function decisionBadges(row: ActivityRow): Array<HTMLElement | null> {
  return [
    row.routing ? h('span', { class: 'badge badge-neutral', title: row.routing.reason ?? '' }, row.routing.tier === 'light' ? 'Light model' : 'Strong model') : null,
    row.cacheHit === true ? h('span', { class: 'badge badge-neutral' }, 'From cache') : null,
  ];
}

const tokensLine = (row: ActivityRow) => `${formatInteger(row.tokens)} tokens (${formatInteger(row.tokensInput)} in, ${formatInteger(row.tokensOutput)} out${row.usageSource === 'estimated' ? ', estimated' : ''})`;

function detailDialog(row: ActivityRow): void {
  const item = (label: string, value: string | Node | null) => (value === null ? null : [h('dt', null, label), h('dd', null, value)]);
  const dialog = h(
    'dialog',
    { class: 'dialog activity-detail', 'aria-label': 'Call details' },
    h('h2', { class: 'dialog-title' }, 'Call details'),
    h(
      'dl',
      { class: 'detail-list' },
      item('Time', new Date(row.timestamp).toLocaleString('en-US')),
      item('Agent', row.agentName),
      item('API key', keyLabel(row)),
      item('End user', row.endUser ?? '—'),
      item('AI', aiLabel(row, true)),
      item('Status', statusBadge(row)),
      item('Price', formatUsdPrecise(row.priceUsd)),
      row.providerCostUsd !== null ? item('Your provider’s charge', formatUsdPrecise(row.providerCostUsd)) : null,
      item('Latency', `${formatInteger(row.latencyMs)} ms`),
      // A plan's call in the plan's unit, tokens inside "Details" (#18); an own-key call keeps its tokens.
      row.mode === 'managed'
        ? item('Usage', h('span', null, `${aboutConversations(row.tokens)} · `, h('details', { class: 'inline-details' }, h('summary', null, 'Details'), ` ${tokensLine(row)}`)))
        : item('Tokens', tokensLine(row)),
      row.routing ? item('Routing', `${row.routing.tier}${row.routing.forced ? ' (forced)' : ''}${row.routing.reason ? ` — ${row.routing.reason}` : ''}`) : null,
      row.cacheHit !== null ? item('Cache', row.cacheHit ? `Answered from cache${row.savedPriceUsd ? `, saved ${formatUsdPrecise(row.savedPriceUsd)}` : ''}` : 'Not cached') : null,
      item('Kind', row.requestType === 'stream' ? 'Streamed reply' : row.requestType === 'chat' ? 'Reply' : row.requestType),
      row.attempt > 1 ? item('Attempt', String(row.attempt)) : null,
      row.sandbox ? item('Billing', 'Simulated (sandbox)') : null,
      item('Request id', h('code', null, row.requestId)),
    ),
    h('div', { class: 'row-end' }, h('button', { type: 'button', class: 'btn btn-primary', onClick: () => dialog.close() }, 'Close')),
  );
  document.body.appendChild(dialog);
  dialog.addEventListener('close', () => dialog.remove());
  dialog.showModal();
}

export async function renderActivity(main: HTMLElement): Promise<void> {
  document.title = 'Activity · Agent Host';
  const workspace = workspaceId();
  mount(main, pageHeader('Activity', 'Loading…'));
  let agents: Agent[];
  try {
    agents = await api.agents(workspace);
  } catch (error) {
    renderLoadError(main, 'Activity', error);
    return;
  }
  let technical = can('builder') && localStorage.getItem(TECHNICAL_KEY) === 'on';
  const agentSelect = select([{ value: '', label: 'All agents' }, ...agents.map((agent) => ({ value: agent.id, label: agent.name }))], { name: 'agentId', 'aria-label': 'Agent' });
  const statusSelect = select([{ value: '', label: 'Any status' }, ...Object.entries(STATUS_LABELS).map(([value, label]) => ({ value, label }))], { name: 'status', 'aria-label': 'Status' });
  const keySelect = select([{ value: '', label: 'Any API key' }], { name: 'apiKeyId', 'aria-label': 'API key', disabled: true });
  const endUserInput = input({ name: 'endUser', placeholder: 'End user id', 'aria-label': 'End user', maxLength: 256, autocomplete: 'off' });
  const fromInput = input({ type: 'date', name: 'from', 'aria-label': 'From', value: utcDay(29) });
  const toInput = input({ type: 'date', name: 'to', 'aria-label': 'To', value: utcDay(0) });
  const technicalToggle = h('input', { type: 'checkbox', name: 'technical', checked: technical });
  const message = formMessage();
  const tbody = h('tbody', null);
  const more = h('button', { type: 'button', class: 'btn btn-secondary', hidden: true }, 'Load more');
  const summary = h('p', { class: 'muted small', role: 'status' });
  const download = h('button', { type: 'button', class: 'btn btn-secondary' }, icon('download'), 'Download CSV');
  let cursor: string | null = null;
  let shown = 0;
  let loadToken = 0;

  const filters = (): ActivityFilters => ({
    agentId: agentSelect.value || undefined,
    status: statusSelect.value || undefined,
    apiKeyId: keySelect.value || undefined,
    endUser: endUserInput.value.trim() || undefined,
    from: fromInput.value || undefined,
    to: toInput.value || undefined,
  });

  const headRow = h('tr', null);
  function renderHead(): void {
    mount(
      headRow,
      ['Time', 'Agent', 'API key', 'End user', 'AI', technical ? 'Tokens' : null, 'Price', 'Latency', 'Status'].filter(Boolean).map((label) => h('th', { scope: 'col', class: ['Tokens', 'Price', 'Latency'].includes(label!) ? 'num' : undefined }, label)),
    );
  }

  function rowOf(row: ActivityRow): HTMLElement {
    const cell = (label: string, content: string | Node | Array<Node | string | null>, className?: string) => h('td', { 'data-label': label, class: className }, content);
    return h(
      'tr',
      { dataset: { eventId: row.id } },
      cell('Time', h('button', { type: 'button', class: 'link-button', onClick: () => detailDialog(row), 'aria-label': `Details of the call at ${timeLabel(row.timestamp)}` }, timeLabel(row.timestamp))),
      cell('Agent', row.agentName),
      cell('API key', keyLabel(row)),
      cell('End user', row.endUser ?? '—'),
      cell('AI', aiLabel(row, technical)),
      technical ? cell('Tokens', formatInteger(row.tokens), 'num') : null,
      cell('Price', formatUsdPrecise(row.priceUsd), 'num'),
      cell('Latency', `${formatInteger(row.latencyMs)} ms`, 'num'),
      cell('Status', h('span', { class: 'badges' }, statusBadge(row), ...decisionBadges(row))),
    );
  }

  async function load(reset: boolean): Promise<void> {
    const token = ++loadToken;
    message.show(null);
    if (reset) {
      cursor = null;
      shown = 0;
      tbody.replaceChildren();
    }
    try {
      const page = await everydayApi.activity(workspace, { ...filters(), cursor, limit: 50 });
      if (token !== loadToken) return;
      for (const row of page.items) tbody.appendChild(rowOf(row));
      shown += page.items.length;
      cursor = page.nextCursor;
      more.hidden = !cursor;
      summary.textContent = shown === 0 ? 'No calls match these filters.' : `${formatInteger(shown)} ${shown === 1 ? 'call' : 'calls'} shown${cursor ? ' · more below' : ''}`;
    } catch (error) {
      if (token === loadToken) message.show(errorMessage(error));
    }
  }

  async function loadKeys(): Promise<void> {
    const agentId = agentSelect.value;
    keySelect.replaceChildren(h('option', { value: '' }, 'Any API key'));
    keySelect.disabled = !agentId;
    if (!agentId) return;
    const keys: NamedApiKey[] = await everydayApi.apiKeys(workspace, agentId).catch(() => []);
    for (const key of keys) keySelect.appendChild(h('option', { value: key.id }, key.name ?? `${key.prefix}…`));
  }

  for (const control of [statusSelect, keySelect, fromInput, toInput]) control.addEventListener('change', () => void load(true));
  agentSelect.addEventListener('change', async () => {
    await loadKeys();
    await load(true);
  });
  const filterForm = h(
    'form',
    { class: 'activity-filters', role: 'search', 'aria-label': 'Filter activity' },
    agentSelect,
    statusSelect,
    keySelect,
    endUserInput,
    h('label', { class: 'date-field' }, h('span', null, 'From'), fromInput),
    h('label', { class: 'date-field' }, h('span', null, 'To'), toInput),
    h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
  );
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    void load(true);
  });
  technicalToggle.addEventListener('change', () => {
    technical = technicalToggle.checked;
    localStorage.setItem(TECHNICAL_KEY, technical ? 'on' : 'off');
    renderHead();
    void load(true);
  });
  more.addEventListener('click', () => void withBusy(more, 'Loading…', () => load(false)));
  download.addEventListener('click', async () => {
    message.show(null);
    try {
      await withBusy(download, 'Preparing…', () => everydayApi.downloadActivityCsv(workspace, filters()));
    } catch (error) {
      message.show(errorMessage(error));
    }
  });

  renderHead();
  mount(
    main,
    pageHeader('Activity', 'Every call of your agents, newest first. Open a call for its details.', h('a', { class: 'btn btn-secondary', href: '#/usage' }, 'Usage over time'), download),
    h(
      'section',
      { class: 'card section stack' },
      filterForm,
      can('builder') ? h('label', { class: 'checkbox-row' }, technicalToggle, h('span', { title: 'Adds the raw usage counts and your own-key models to the list' }, 'Show technical details')) : null,
      message.element,
      h('div', { class: 'activity-table-wrap' }, h('table', { class: 'table table-cards activity-table' }, h('thead', null, headRow), tbody)),
      summary,
      h('div', { class: 'row-center' }, more),
    ),
  );
  await load(true);
}
