// The agent's Settings tab, "Alerts and spending": this agent's own alert thresholds (admins and owners) and, on a
// managed plan, a cap on what overage may cost in a month (owners).
import { api, ApiError } from '../../api';
import { parseThresholds, THRESHOLDS_HINT } from '../../alerts-api';
import { h } from '../../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../../forms';
import { can } from '../../session';
import type { Context } from './tab-context';

export function alertSection(context: Context): HTMLElement {
  const agent = context.agent;
  const children: Array<HTMLElement | null> = [];

  const thresholdInput = input({ name: 'agentAlertThresholds', value: agent.alertThresholds?.join(', ') ?? '', placeholder: 'Same as the workspace', readOnly: !can('admin'), inputMode: 'numeric' });
  const thresholds = field('Alert at these percentages of the included usage or budget', thresholdInput, { hint: `${THRESHOLDS_HINT} Empty: the workspace's thresholds (see Alerts).` });
  const thresholdMessage = formMessage();
  const saveThresholds = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save thresholds');
  const thresholdForm = h(
    'form',
    { class: 'stack', novalidate: true },
    thresholds.element,
    can('admin') ? h('div', { class: 'form-actions' }, thresholdMessage.element, saveThresholds) : h('p', { class: 'muted small' }, 'Only workspace admins and owners can change alert thresholds.'),
  );
  thresholdForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    thresholds.setError(null);
    thresholdMessage.show(null);
    const raw = thresholdInput.value.trim();
    const values = raw === '' ? null : parseThresholds(raw);
    if (values === undefined) return thresholds.setError(THRESHOLDS_HINT);
    try {
      const updated = await withBusy(saveThresholds, 'Saving…', () => api.patchAgent(context.workspace, agent.id, { alertThresholds: values }));
      context.setAgent(updated);
      thresholdInput.value = updated.alertThresholds?.join(', ') ?? '';
      thresholdMessage.show(values === null ? "This agent now uses the workspace's thresholds." : 'Thresholds saved.', 'success');
    } catch (error) {
      thresholdMessage.show(errorMessage(error));
    }
  });
  children.push(thresholdForm);

  if (agent.llm.mode === 'managed') {
    const budgetInput = input({ type: 'number', name: 'monthlyOverageBudgetUsd', min: '0', step: '0.01', inputMode: 'decimal', readOnly: !can('owner') });
    const current = agent.limits.monthlyOverageBudgetUsd ?? null;
    budgetInput.value = current === null ? '' : String(current);
    const budget = field('Most overage may cost per month (USD)', budgetInput, {
      hint: 'Usage past the plan\'s included tokens is billed as overage. Near this amount answers get shorter to fit; then calls stop until next month. 0 = no overage at all. Empty = no limit.',
    });
    const budgetMessage = formMessage();
    const saveBudget = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save overage limit');
    const budgetForm = h('form', { class: 'stack', novalidate: true }, budget.element, can('owner') ? h('div', { class: 'form-actions' }, budgetMessage.element, saveBudget) : h('p', { class: 'muted small' }, 'Only workspace owners can change limits.'));
    budgetForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      budget.setError(null);
      budgetMessage.show(null);
      const raw = budgetInput.value.trim();
      const value = raw === '' ? null : Number(raw);
      if (value !== null && (!Number.isFinite(value) || value < 0 || (value > 0 && value < 0.000001))) return budget.setError('Enter an amount of at least $0.000001, 0 for no overage, or leave it empty for no limit.');
      try {
        const updated = await withBusy(saveBudget, 'Saving…', () => api.patchAgent(context.workspace, agent.id, { limits: { monthlyOverageBudgetUsd: value } }));
        context.setAgent(updated);
        budgetMessage.show('Overage limit saved.', 'success');
      } catch (error) {
        if (error instanceof ApiError) budget.setError(error.message);
        else budgetMessage.show(errorMessage(error));
      }
    });
    children.push(budgetForm);
  }
  return h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Alerts and spending'), h('div', { class: 'stack-lg' }, ...children));
}
