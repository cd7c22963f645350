// The agent page's Settings tab: name and template variables, the monthly limit, pause/resume and delete.
import { api, ApiError } from '../../api';
import { h, icon, mount } from '../../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy, type Field } from '../../forms';
import { navigate } from '../../router';
import { can } from '../../session';
import type { Context } from './tab-context';
import { alertSection } from './alert-section';

export function renderSettings(target: HTMLElement, context: Context): void {
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
    hint: isByok
      ? 'Near this amount answers get shorter to fit what is left; then calls stop until next month. Empty = no budget.'
      : 'Near this many tokens in a month answers get shorter to fit; then calls stop, so there is no overage beyond it. Empty = no cap.',
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
  sections.push(alertSection(context));

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
