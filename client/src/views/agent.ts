// #/agents/:id: playground, AI setting (plan ↔ own key, test connection), usage charts, API access, settings.
import type { Chart } from 'chart.js';
import { api, ApiError, streamChat } from '../api';
import { catalog } from '../catalog';
import { dailyChart, modelChart } from '../components/charts';
import { llmChoice } from '../components/llm-choice';
import { announce, h, icon, mount, type IconName } from '../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy, type Field } from '../forms';
import { formatCompact, formatDate, formatDateTime, formatInteger, formatMonth, formatPrice, formatUsd, formatUsdPrecise, conversationsFor } from '../format';
import { navigate, type Route } from '../router';
import { onUsageUpdate } from '../realtime';
import { can, workspaceId } from '../session';
import type { Agent, KeyStatus, Plan, Provider, Template } from '../types';
import { llmLabel, meterBar, pageHeader, renderLoadError, sandboxBadge, tokensOf, usageBar } from './common';

interface Context {
  workspace: string;
  agent: Agent;
  plans: Plan[];
  providers: Provider[];
  template: Template | undefined;
  setAgent(agent: Agent): void;
  cleanups: Array<() => void>;
}

type TabId = 'playground' | 'setting' | 'usage' | 'api' | 'settings';
const TABS: Array<{ id: TabId; label: string; icon: IconName }> = [
  { id: 'playground', label: 'Playground', icon: 'send' },
  { id: 'setting', label: 'AI setting', icon: 'bolt' },
  { id: 'usage', label: 'Usage', icon: 'chart' },
  { id: 'api', label: 'API access', icon: 'key' },
  { id: 'settings', label: 'Settings', icon: 'robot' },
];

export const KEY_STATUS_WORDS: Record<KeyStatus, { label: string; tone: 'success' | 'danger' | 'warning' | 'neutral' }> = {
  valid: { label: 'Valid', tone: 'success' },
  invalid: { label: 'Invalid key', tone: 'danger' },
  rate_limited: { label: 'Rate limited', tone: 'warning' },
  quota_exceeded: { label: 'Out of credit', tone: 'danger' },
  unreachable: { label: 'Unreachable', tone: 'warning' },
  unchecked: { label: 'Not tested yet', tone: 'neutral' },
};

export async function renderAgent(main: HTMLElement, route: Route): Promise<() => void> {
  const workspace = workspaceId();
  const agentId = route.params.agentId!;
  mount(main, pageHeader('Agent', 'Loading…'));
  let agent: Agent;
  let plans: Plan[];
  let providers: Provider[];
  let templates: Template[];
  try {
    [agent, plans, providers, templates] = await Promise.all([api.agent(workspace, agentId), catalog.plans(), catalog.providers(), catalog.templates()]);
  } catch (error) {
    renderLoadError(main, error instanceof ApiError && error.status === 404 ? 'Agent not found' : 'Agent', error);
    return () => undefined;
  }
  document.title = `${agent.name} · Agent Host`;

  const header = h('div', null);
  const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Agent sections' });
  const panel = h('div', { class: 'tab-panel', role: 'tabpanel', tabindex: '0' });
  let activeTab: TabId = (TABS.some((tab) => tab.id === route.params.tab) ? route.params.tab : 'playground') as TabId;
  let panelCleanups: Array<() => void> = [];

  const context: Context = {
    workspace,
    agent,
    plans,
    providers,
    template: templates.find((template) => template.id === agent.templateId),
    setAgent(updated) {
      context.agent = updated;
      renderHeader();
    },
    cleanups: [],
  };
  const providerName = (id: string) => providers.find((provider) => provider.id === id)?.name ?? id;

  function renderHeader(): void {
    const current = context.agent;
    const status = h('span', { class: `badge ${current.status === 'paused' ? 'badge-warning' : 'badge-success'}` }, current.status === 'paused' ? 'Paused' : 'Active');
    mount(
      header,
      pageHeader(
        current.name,
        h(
          'span',
          { class: 'badges' },
          h('span', { class: `badge ${current.llm.mode === 'byok' ? 'badge-byok' : 'badge-plan'}` }, llmLabel(current.llm, plans, providerName)),
          status,
          current.sandbox ? sandboxBadge() : null,
          h('span', { class: 'muted' }, context.template ? `From the ${context.template.name} template` : ''),
        ),
        h('a', { class: 'btn btn-secondary', href: '#/dashboard' }, icon('arrowLeft'), 'Dashboard'),
      ),
    );
  }

  const tabButtons = TABS.map((tab) => {
    const button = h('button', { type: 'button', class: 'tab', role: 'tab', id: `tab-${tab.id}`, 'aria-controls': 'agent-tab-panel', dataset: { tab: tab.id } }, icon(tab.icon, 16), h('span', null, tab.label));
    button.addEventListener('click', () => selectTab(tab.id, true));
    button.addEventListener('keydown', (event) => {
      const index = TABS.findIndex((candidate) => candidate.id === tab.id);
      let next = -1;
      if (event.key === 'ArrowRight') next = (index + 1) % TABS.length;
      else if (event.key === 'ArrowLeft') next = (index - 1 + TABS.length) % TABS.length;
      else if (event.key === 'Home') next = 0;
      else if (event.key === 'End') next = TABS.length - 1;
      if (next < 0) return;
      event.preventDefault();
      selectTab(TABS[next]!.id, true);
      tabButtons[next]!.focus();
    });
    return button;
  });
  mount(tabList, tabButtons);
  panel.id = 'agent-tab-panel';

  function selectTab(id: TabId, fromUser: boolean): void {
    activeTab = id;
    for (const button of tabButtons) {
      const selected = button.dataset.tab === id;
      button.setAttribute('aria-selected', String(selected));
      button.tabIndex = selected ? 0 : -1;
    }
    panel.setAttribute('aria-labelledby', `tab-${id}`);
    if (fromUser) history.replaceState(null, '', `#/agents/${agentId}${id === 'playground' ? '' : `?tab=${id}`}`);
    for (const cleanup of panelCleanups) cleanup();
    panelCleanups = [];
    const renderers: Record<TabId, (target: HTMLElement, ctx: Context) => void | (() => void) | Promise<void | (() => void)>> = {
      playground: renderPlayground,
      setting: renderSetting,
      usage: renderUsage,
      api: renderApiAccess,
      settings: renderSettings,
    };
    panel.replaceChildren();
    void Promise.resolve(renderers[id](panel, context)).then((cleanup) => {
      if (typeof cleanup === 'function') {
        if (activeTab === id) panelCleanups.push(cleanup);
        else cleanup();
      }
    });
  }

  renderHeader();
  mount(main, header, tabList, panel);
  selectTab(activeTab, false);
  return () => {
    for (const cleanup of panelCleanups) cleanup();
  };
}

/* ---------- Playground ---------- */

function renderPlayground(target: HTMLElement, context: Context): () => void {
  if (!can('builder')) {
    mount(target, h('div', { class: 'card empty' }, h('p', null, 'Chatting with agents needs the builder role. You can still see this agent’s setting and usage.')));
    return () => undefined;
  }
  const history: Array<{ role: 'user' | 'assistant'; content: string }> = [];
  const log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const emptyHint = h('p', { class: 'chat-empty muted' }, `Say hello to ${context.agent.name}. Replies stream in as they are written, with the usage of each one underneath.`);
  log.appendChild(emptyHint);
  const textarea = h('textarea', { class: 'input chat-input', name: 'message', rows: 2, placeholder: 'Type a message… (Enter to send, Shift+Enter for a new line)', maxLength: 20000 });
  const message = field('Message', textarea);
  message.element.querySelector('label')!.classList.add('visually-hidden');
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('send'), 'Send');
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'New conversation');
  const status = formMessage();
  const controller = { current: null as AbortController | null };

  const form = h('form', { class: 'composer' }, message.element, h('div', { class: 'composer-actions' }, clear, send));
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  clear.addEventListener('click', () => {
    controller.current?.abort();
    history.length = 0;
    mount(log, emptyHint);
    status.show(null);
    textarea.focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = textarea.value.trim();
    if (!content || send.disabled) return;
    status.show(null);
    emptyHint.remove();
    history.push({ role: 'user', content });
    log.appendChild(h('div', { class: 'bubble bubble-user' }, h('p', { class: 'bubble-text' }, content)));
    textarea.value = '';
    const text = h('p', { class: 'bubble-text' });
    const meta = h('p', { class: 'bubble-meta' }, h('span', { class: 'typing' }, 'Writing…'));
    const bubble = h('div', { class: 'bubble bubble-assistant', 'aria-busy': 'true' }, text, meta);
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    send.disabled = true;
    controller.current = new AbortController();
    let reply = '';
    try {
      await streamChat(
        context.workspace,
        context.agent.id,
        history,
        {
          onDelta(delta) {
            reply += delta;
            text.textContent = reply;
            log.scrollTop = log.scrollHeight;
          },
          onEnd(end) {
            const total = end.usage.inputTokens + end.usage.outputTokens;
            mount(
              meta,
              h('span', { class: 'usage-chip', dataset: { tokens: String(total) } }, `${formatInteger(total)} tokens`),
              ` · ${formatInteger(end.usage.inputTokens)} in, ${formatInteger(end.usage.outputTokens)} out`,
            );
            bubble.dataset.usage = String(total);
          },
        },
        controller.current.signal,
      );
      history.push({ role: 'assistant', content: reply });
      announce('Reply finished.');
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      history.pop();
      bubble.classList.add('bubble-error');
      text.textContent = reply || 'No reply.';
      mount(meta, h('span', { class: 'text-danger' }, errorMessage(error)));
      status.show(errorMessage(error));
    } finally {
      bubble.removeAttribute('aria-busy');
      send.disabled = false;
      controller.current = null;
      textarea.focus();
    }
  });

  mount(target, h('div', { class: 'card playground' }, log, form, status.element));
  textarea.focus();
  return () => controller.current?.abort();
}

/* ---------- AI setting: plan or own key, test connection ---------- */

function renderSetting(target: HTMLElement, context: Context): void {
  const { plans, providers } = context;
  const summary = h('div', null);
  const testResult = h('div', { class: 'connection-result', role: 'status', 'aria-live': 'polite' });
  const testMessage = formMessage();

  function renderSummary(): void {
    const llm = context.agent.llm;
    if (llm.mode === 'managed') {
      const plan = plans.find((candidate) => candidate.id === llm.plan);
      mount(
        summary,
        h(
          'div',
          { class: 'summary-grid' },
          summaryItem('Plan', plan?.name ?? llm.plan),
          summaryItem('Price', plan ? `${formatPrice(plan.priceUsd)} / month` : '—'),
          summaryItem('Included usage', plan ? `About ${conversationsFor(plan.includedTokens)} conversations a month` : '—'),
          summaryItem('Runs on', context.agent.sandbox ? 'Sandbox simulator (no charges)' : 'Agent Host’s managed AI'),
        ),
      );
      testResult.replaceChildren();
      return;
    }
    const provider = providers.find((candidate) => candidate.id === llm.provider);
    const model = provider?.models.find((candidate) => candidate.id === llm.model);
    const test = h('button', { type: 'button', class: 'btn btn-secondary' }, icon('check'), 'Test connection');
    test.addEventListener('click', async () => {
      testMessage.show(null);
      try {
        const result = await withBusy(test, 'Testing…', () => api.testConnection(context.workspace, context.agent.id));
        showTestResult(result.status, result.message, result.latencyMs);
        if (context.agent.llm.mode === 'byok') context.setAgent({ ...context.agent, llm: { ...context.agent.llm, key: { ...context.agent.llm.key, status: result.status, checkedAt: new Date().toISOString() } } });
        renderKeyStatus();
      } catch (error) {
        testMessage.show(errorMessage(error));
      }
    });
    const keyStatus = h('span', { class: 'key-status-slot' });
    function renderKeyStatus(): void {
      const current = context.agent.llm;
      if (current.mode !== 'byok') return;
      mount(keyStatus, statusPill(current.key.status), current.key.checkedAt ? h('span', { class: 'muted small' }, ` checked ${formatDateTime(current.key.checkedAt)}`) : null);
    }
    renderKeyStatus();
    mount(
      summary,
      h(
        'div',
        { class: 'summary-grid' },
        summaryItem('Provider', provider?.name ?? llm.provider),
        summaryItem('Model', llm.model, model ? `${formatPrice(model.inputUsdPerMillion)} in / ${formatPrice(model.outputUsdPerMillion)} out per 1M tokens` : undefined),
        summaryItem('Key', h('code', { class: 'key-mask' }, llm.key.mask)),
        summaryItem('Key status', keyStatus),
        llm.baseUrl ? summaryItem('Base URL', h('code', null, llm.baseUrl)) : null,
      ),
      can('builder') ? h('div', { class: 'row' }, test, testMessage.element) : null,
    );
  }

  function showTestResult(status: KeyStatus, message: string, latencyMs?: number): void {
    const words = KEY_STATUS_WORDS[status] ?? { label: status, tone: 'neutral' };
    mount(
      testResult,
      h(
        'div',
        { class: `callout callout-${words.tone === 'success' ? 'success' : words.tone === 'danger' ? 'error' : words.tone === 'warning' ? 'warning' : 'info'}`, dataset: { testid: 'connection-status', status } },
        h('p', { class: 'callout-title' }, words.label),
        h('p', null, message, latencyMs !== undefined && status === 'valid' ? ` (${latencyMs} ms)` : ''),
      ),
    );
  }

  renderSummary();
  const children: Array<Node | null> = [h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Current setting'), summary, testResult)];

  if (can('builder')) {
    const choice = llmChoice(plans, providers, { current: context.agent.llm, recommended: context.template?.recommendedPlan ?? null });
    const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save setting');
    const message = formMessage();
    const form = h('form', { class: 'stack', novalidate: true }, choice.element, h('div', { class: 'form-actions' }, message.element, save));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = choice.byok.fields as Record<string, Field<HTMLInputElement | HTMLSelectElement> | undefined>;
      clearFieldErrors(fields);
      choice.plan.setError(null);
      message.show(null);
      let llm;
      if (choice.mode() === 'managed') {
        const plan = choice.plan.value();
        if (!plan) return choice.plan.setError('Pick one of the three plans.');
        llm = { mode: 'managed' as const, plan };
      } else {
        const currentProvider = context.agent.llm.mode === 'byok' ? context.agent.llm.provider : null;
        // A stored key only carries over within the same provider.
        if (!choice.byok.validate()) return;
        llm = choice.byok.value();
        if (!llm.apiKey && currentProvider !== llm.provider && llm.provider !== 'custom') return fields.apiKey?.setError('Paste the API key for this provider.');
      }
      try {
        const updated = await withBusy(save, 'Saving…', () => api.setLlm(context.workspace, context.agent.id, llm));
        choice.byok.clearKey();
        context.setAgent(updated);
        // Re-render the whole tab so the form shows the stored mask, never the key just typed.
        renderSetting(target, context);
        const note = target.querySelector('.save-note');
        if (note) {
          note.textContent = updated.llm.mode === 'byok' ? 'Saved. Run “Test connection” to check the key.' : 'Saved. The agent now runs on this plan.';
          (note as HTMLElement).hidden = false;
        }
        announce('Setting saved.');
      } catch (error) {
        if (error instanceof ApiError && error.code === 'UNKNOWN_PLAN') return choice.plan.setError(error.message);
        if (!showFieldError(error, fields)) message.show(errorMessage(error));
      }
    });
    children.push(
      h(
        'section',
        { class: 'card section' },
        h('h2', { class: 'section-title' }, 'Change how it runs'),
        h('p', { class: 'muted section-lead' }, 'Switch between a plan and your own key here. Usage so far this month stays on record.'),
        h('p', { class: 'form-message form-message-success save-note', role: 'status', hidden: true }),
        form,
      ),
    );
  }
  mount(target, h('div', { class: 'stack-lg' }, children));
}

function summaryItem(label: string, value: string | Node, note?: string): HTMLElement {
  return h('div', { class: 'summary-item' }, h('p', { class: 'summary-label' }, label), h('div', { class: 'summary-value' }, value), note ? h('p', { class: 'summary-note' }, note) : null);
}

function statusPill(status: KeyStatus): HTMLElement {
  const words = KEY_STATUS_WORDS[status] ?? { label: status, tone: 'neutral' };
  return h('span', { class: `badge badge-${words.tone}`, dataset: { keyStatus: status } }, words.label);
}

/* ---------- Usage ---------- */

async function renderUsage(target: HTMLElement, context: Context): Promise<() => void> {
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
    mount(
      target,
      h(
        'div',
        { class: 'stack-lg' },
        h(
          'section',
          { class: 'card section' },
          h('h2', { class: 'section-title' }, formatMonth(month)),
          isByok ? meterBar(usage.costUsd, usage.budgetUsd ?? null, 'Provider cost against budget', usage.budgetUsd ? `${formatUsdPrecise(usage.costUsd)} of ${formatUsd(usage.budgetUsd)}` : 'No budget set') : usageBar(usage, 'Usage of included allowance'),
          h('p', { class: 'usage-tokens' }, isByok ? `${formatCompact(usage.tokens)} tokens${usage.budgetUsd ? ` · budget ${formatUsd(usage.budgetUsd)}` : ''}` : tokensOf(usage)),
          h(
            'div',
            { class: 'summary-grid' },
            summaryItem('Requests', formatInteger(usage.requests), usage.errors ? `${formatInteger(usage.errors)} failed` : undefined),
            summaryItem('Tokens', formatInteger(usage.tokens), `${formatInteger(usage.tokensInput)} in · ${formatInteger(usage.tokensOutput)} out`),
            isByok ? summaryItem('Est. provider cost', formatUsdPrecise(usage.costUsd), 'Billed by your provider') : summaryItem('Due this month', formatUsd(due), usage.overageUsd ? `incl. overage ${formatUsd(usage.overageUsd)}` : 'Plan fee, no overage'),
            usage.projectedTokens !== undefined ? summaryItem('Projected month-end', `${formatCompact(usage.projectedTokens)} tokens`, isByok ? undefined : `≈ ${formatUsd(usage.projectedAmountUsd ?? due)}`) : null,
          ),
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

/* ---------- API access ---------- */

async function renderApiAccess(target: HTMLElement, context: Context): Promise<void> {
  const list = h('div', null);
  const created = h('div', null);
  const message = formMessage();
  const base = `${location.origin}/v1`;

  async function loadKeys(): Promise<void> {
    try {
      const keys = await api.apiKeys(context.workspace, context.agent.id);
      if (keys.length === 0) {
        mount(list, h('p', { class: 'muted' }, 'No API keys yet.'));
        return;
      }
      mount(
        list,
        h(
          'table',
          { class: 'table' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Last used'), can('admin') ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null)),
          h(
            'tbody',
            null,
            keys.map((key) => {
              const revoke = h('button', { type: 'button', class: 'btn btn-danger-ghost btn-small', 'aria-label': `Revoke key ${key.prefix}…` }, 'Revoke');
              revoke.addEventListener('click', async () => {
                if (!window.confirm(`Revoke ${key.prefix}…? Apps using it stop working at once.`)) return;
                try {
                  await withBusy(revoke, 'Revoking…', () => api.revokeApiKey(context.workspace, context.agent.id, key.id));
                  message.show('Key revoked.', 'success');
                  await loadKeys();
                } catch (error) {
                  message.show(errorMessage(error));
                }
              });
              return h(
                'tr',
                { dataset: { keyId: key.id } },
                h('td', null, h('code', null, `${key.prefix}…`)),
                h('td', null, formatDate(key.createdAt)),
                h('td', null, key.lastUsedAt ? formatDateTime(key.lastUsedAt) : 'Never'),
                can('admin') ? h('td', { class: 'num' }, revoke) : null,
              );
            }),
          ),
        ),
      );
    } catch (error) {
      mount(list, h('p', { class: 'field-error' }, errorMessage(error)));
    }
  }

  const createButton = h('button', { type: 'button', class: 'btn btn-primary' }, icon('plus'), 'Create API key');
  createButton.addEventListener('click', async () => {
    message.show(null);
    try {
      const key = await withBusy(createButton, 'Creating…', () => api.createApiKey(context.workspace, context.agent.id));
      const done = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, 'Done, I saved it');
      done.addEventListener('click', () => created.replaceChildren());
      mount(
        created,
        h(
          'div',
          { class: 'callout callout-warning new-key' },
          h('p', { class: 'callout-title' }, 'Copy your new key now — it will not be shown again.'),
          h('div', { class: 'copy-row' }, h('code', { class: 'secret', dataset: { testid: 'new-api-key' } }, key.key), copyButton(() => key.key, 'Copy key')),
          done,
        ),
      );
      await loadKeys();
    } catch (error) {
      message.show(errorMessage(error));
    }
  });

  const snippet = `import OpenAI from "openai";

const client = new OpenAI({
  baseURL: "${base}",
  apiKey: process.env.AGENT_HOST_API_KEY, // the ak_… key above
});

const reply = await client.chat.completions.create({
  model: "${context.agent.id}",
  messages: [{ role: "user", content: "Hello!" }],
});
console.log(reply.choices[0].message.content);`;
  const python = `from openai import OpenAI
import os

client = OpenAI(base_url="${base}", api_key=os.environ["AGENT_HOST_API_KEY"])
reply = client.chat.completions.create(
    model="${context.agent.id}",
    messages=[{"role": "user", "content": "Hello!"}],
)
print(reply.choices[0].message.content)`;

  mount(
    target,
    h(
      'div',
      { class: 'stack-lg' },
      h(
        'section',
        { class: 'card section' },
        h('div', { class: 'section-head' }, h('h2', { class: 'section-title' }, 'API keys'), can('admin') ? createButton : null),
        h('p', { class: 'muted section-lead' }, 'Call this agent from your own code with an OpenAI-compatible API. Each key works for this agent only.'),
        message.element,
        created,
        list,
        can('admin') ? null : h('p', { class: 'muted small' }, 'Creating and revoking keys needs the admin role.'),
      ),
      h(
        'section',
        { class: 'card section' },
        h('div', { class: 'section-head' }, h('h2', { class: 'section-title' }, 'Quick start (Node.js)'), copyButton(() => snippet, 'Copy snippet')),
        h('p', { class: 'muted section-lead' }, 'npm install openai, set AGENT_HOST_API_KEY, and paste:'),
        h('pre', { class: 'code-block', tabindex: '0' }, h('code', null, snippet)),
        h('details', { class: 'details' }, h('summary', null, 'Python'), h('div', { class: 'copy-row end' }, copyButton(() => python, 'Copy Python snippet')), h('pre', { class: 'code-block', tabindex: '0' }, h('code', null, python))),
      ),
    ),
  );
  await loadKeys();
}

function copyButton(text: () => string, label: string): HTMLButtonElement {
  const button = h('button', { type: 'button', class: 'btn btn-secondary btn-small' }, icon('copy', 16), h('span', null, label));
  button.addEventListener('click', async () => {
    const value = text();
    let copied = false;
    try {
      await navigator.clipboard.writeText(value);
      copied = true;
    } catch {
      // Fallback for non-secure origins: select a hidden textarea and use execCommand.
      const area = h('textarea', { class: 'visually-hidden', 'aria-hidden': 'true' });
      area.value = value;
      document.body.appendChild(area);
      area.select();
      copied = document.execCommand('copy');
      area.remove();
    }
    const labelElement = button.querySelector('span')!;
    labelElement.textContent = copied ? 'Copied' : 'Press Ctrl+C';
    announce(copied ? 'Copied to the clipboard.' : 'Copy failed.');
    window.setTimeout(() => (labelElement.textContent = label), 1600);
  });
  return button;
}

/* ---------- Settings ---------- */

function renderSettings(target: HTMLElement, context: Context): void {
  const agent = context.agent;
  const editable = can('builder');
  const sections: HTMLElement[] = [];

  // Name and template variables.
  const name = field('Agent name', input({ name: 'agentName', value: agent.name, maxLength: 100, readOnly: !editable }), { required: true });
  const variableFields: Record<string, Field<HTMLInputElement | HTMLTextAreaElement>> = {};
  const variables = context.template?.variables ?? Object.keys(agent.variables).map((key) => ({ name: key, label: key, required: false, default: null }));
  for (const variable of variables) {
    const long = variable.name === 'facts';
    const control = long ? h('textarea', { class: 'input', name: variable.name, rows: 3, readOnly: !editable }) : input({ name: variable.name, readOnly: !editable });
    control.value = agent.variables[variable.name] ?? '';
    variableFields[variable.name] = field(variable.label, control, { required: variable.required });
  }
  const detailsMessage = formMessage();
  const saveDetails = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save changes');
  const detailsForm = h(
    'form',
    { class: 'stack', novalidate: true },
    name.element,
    Object.values(variableFields).map((built) => built.element),
    editable ? h('div', { class: 'form-actions' }, detailsMessage.element, saveDetails) : null,
  );
  detailsForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const fields = { name, ...variableFields } as Record<string, Field<any>>;
    clearFieldErrors(fields);
    detailsMessage.show(null);
    if (!name.control.value.trim()) return name.setError('Give your agent a name.');
    try {
      const updated = await withBusy(saveDetails, 'Saving…', () =>
        api.patchAgent(context.workspace, agent.id, { name: name.control.value.trim(), variables: Object.fromEntries(Object.entries(variableFields).map(([key, built]) => [key, built.control.value])) }),
      );
      context.setAgent(updated);
      detailsMessage.show('Saved.', 'success');
    } catch (error) {
      if (!showFieldError(error, fields)) detailsMessage.show(errorMessage(error));
    }
  });
  sections.push(h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Details'), detailsForm));

  // Limits: owners only.
  const isByok = agent.llm.mode === 'byok';
  const limitInput = input({ type: 'number', name: isByok ? 'monthlyBudgetUsd' : 'monthlyTokenCap', min: isByok ? '1' : '1000', step: isByok ? '1' : '1000', inputMode: 'decimal', readOnly: !can('owner') });
  const current = isByok ? agent.limits.monthlyBudgetUsd : agent.limits.monthlyTokenCap;
  limitInput.value = current === null ? '' : String(current);
  const limit = field(isByok ? 'Monthly budget (USD)' : 'Hard monthly token cap', limitInput, {
    hint: isByok ? 'Calls stop when the estimated provider cost reaches this. Empty = no budget.' : 'Calls stop at this many tokens in a month, so there is no overage beyond it. Empty = no cap.',
  });
  const limitMessage = formMessage();
  const saveLimit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save limit');
  const limitForm = h('form', { class: 'stack', novalidate: true }, limit.element, can('owner') ? h('div', { class: 'form-actions' }, limitMessage.element, saveLimit) : h('p', { class: 'muted small' }, 'Only workspace owners can change limits.'));
  limitForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    limit.setError(null);
    limitMessage.show(null);
    const raw = limitInput.value.trim();
    const value = raw === '' ? null : Number(raw);
    if (value !== null && (!Number.isFinite(value) || value <= 0)) return limit.setError('Enter a positive number, or leave it empty for no limit.');
    try {
      const updated = await withBusy(saveLimit, 'Saving…', () => api.patchAgent(context.workspace, agent.id, { limits: isByok ? { monthlyBudgetUsd: value } : { monthlyTokenCap: value === null ? null : Math.round(value) } }));
      context.setAgent(updated);
      limitMessage.show('Limit saved.', 'success');
    } catch (error) {
      if (error instanceof ApiError) limit.setError(error.message);
      else limitMessage.show(errorMessage(error));
    }
  });
  sections.push(h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Limits'), limitForm));

  if (editable) {
    const statusMessage = formMessage();
    const paused = agent.status === 'paused';
    const toggle = h('button', { type: 'button', class: 'btn btn-secondary' }, paused ? 'Resume agent' : 'Pause agent');
    toggle.addEventListener('click', async () => {
      statusMessage.show(null);
      try {
        const updated = await withBusy(toggle, 'Saving…', () => api.patchAgent(context.workspace, agent.id, { status: context.agent.status === 'paused' ? 'active' : 'paused' }));
        context.setAgent(updated);
        renderSettings(target, context);
      } catch (error) {
        statusMessage.show(errorMessage(error));
      }
    });
    const remove = h('button', { type: 'button', class: 'btn btn-danger' }, icon('trash'), 'Delete agent');
    remove.addEventListener('click', async () => {
      if (!window.confirm(`Delete “${context.agent.name}”? Its API keys stop working. Usage already recorded stays on the dashboard.`)) return;
      try {
        await withBusy(remove, 'Deleting…', () => api.deleteAgent(context.workspace, agent.id));
        navigate('/dashboard');
      } catch (error) {
        statusMessage.show(errorMessage(error));
      }
    });
    sections.push(
      h(
        'section',
        { class: 'card section' },
        h('h2', { class: 'section-title' }, 'Status'),
        h('p', { class: 'muted section-lead' }, paused ? 'This agent is paused: calls are refused until you resume it.' : 'Pausing refuses new calls (playground and API) until you resume.'),
        h('div', { class: 'row' }, toggle, remove),
        statusMessage.element,
      ),
    );
  }
  mount(target, h('div', { class: 'stack-lg' }, sections));
}
