// The agent page's AI setting tab: the current plan or own key, a connection test, and the form that changes it.
import { api, ApiError } from '../../api';
import { llmChoice } from '../../components/llm-choice';
import { announce, h, icon, mount } from '../../dom';
import { clearFieldErrors, errorMessage, formMessage, showFieldError, withBusy, type Field } from '../../forms';
import { conversationsFor, formatDateTime, formatPrice } from '../../format';
import { can } from '../../session';
import type { KeyStatus } from '../../types';
import { summaryItem } from '../common';
import type { Context } from './tab-context';
import { keyHealthLine } from './key-health-line';
import { renderRoutingPanel } from './routing-panel';

/** The routing section's live subscription per tab panel, ended when the tab is drawn again or left (#14). */
const routingCleanups = new WeakMap<HTMLElement, () => void>();

export const KEY_STATUS_WORDS: Record<KeyStatus, { label: string; tone: 'success' | 'danger' | 'warning' | 'neutral' }> = {
  valid: { label: 'Valid', tone: 'success' },
  invalid: { label: 'Invalid key', tone: 'danger' },
  rate_limited: { label: 'Rate limited', tone: 'warning' },
  quota_exceeded: { label: 'Out of credit', tone: 'danger' },
  unreachable: { label: 'Unreachable', tone: 'warning' },
  unchecked: { label: 'Not tested yet', tone: 'neutral' },
};

export function renderSetting(target: HTMLElement, context: Context): () => void {
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
          summaryItem('Runs on', context.agent.sandbox ? 'Sandbox simulator (billing simulated)' : 'Agent Host’s managed AI'),
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
        void context.refreshAgent?.();
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
        context.agent.sandbox ? summaryItem('Runs on', 'Sandbox simulator (sandbox key, billing simulated)') : null,
      ),
      keyHealthLine(context.workspace, context.agent.id),
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
    const choice = llmChoice(plans, providers, { current: context.agent.llm, recommended: context.template?.recommendedPlan ?? null, workspaceId: context.workspace });
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
  // Smart routing (#14): its own component, below the setting.
  const routingTarget = h('div', null);
  children.push(routingTarget);
  mount(target, h('div', { class: 'stack-lg' }, children));
  routingCleanups.get(target)?.();
  const cleanup = renderRoutingPanel(routingTarget, context);
  routingCleanups.set(target, cleanup);
  return () => {
    cleanup();
    routingCleanups.delete(target);
  };
}

function statusPill(status: KeyStatus): HTMLElement {
  const words = KEY_STATUS_WORDS[status] ?? { label: status, tone: 'neutral' };
  return h('span', { class: `badge badge-${words.tone}`, dataset: { keyStatus: status } }, words.label);
}
