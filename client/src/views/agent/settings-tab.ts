// The agent page's Settings tab: name and template variables, the monthly limit, pause/resume and delete.
import { api } from '../../api';
import { h, icon, mount } from '../../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy, type Field } from '../../forms';
import { navigate } from '../../router';
import { can } from '../../session';
import type { Context } from './tab-context';
import { alertSection } from './alert-section';
import { limitSection } from './limit-form';

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

  // Limits: owners only, in the plan's own unit (views/agent/limit-form.ts).
  sections.push(limitSection(context, () => undefined));
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
