// The new-agent page's "Your workspace templates": edit (name, description, variables, prompt, suggested plan and
// usage) or delete the templates this workspace saved. A prompt that does not compile, or that uses a variable not
// declared, is refused by the server with the variable's name, shown under the prompt.
import { ApiError } from '../api';
import { formDialog } from '../components/form-dialog';
import { h, mount } from '../dom';
import { errorMessage, field, formMessage, input, select, withBusy } from '../forms';
import { publishApi, type WorkspaceTemplate } from '../publish-api';
import { can } from '../session';

/** Variables as lines "name | label | default" (a "*" after the name marks it required). */
function variablesToText(template: WorkspaceTemplate): string {
  return template.variables.map((variable) => `${variable.name}${variable.required ? '*' : ''} | ${variable.label} | ${variable.default ?? ''}`).join('\n');
}

function textToVariables(text: string) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const [rawName = '', label = '', ...rest] = line.split('|').map((part) => part.trim());
      const required = rawName.endsWith('*');
      const name = required ? rawName.slice(0, -1).trim() : rawName;
      const fallback = rest.join('|').trim();
      return { name, label: label || name, required, ...(fallback ? { default: fallback } : {}) };
    });
}

export function workspaceTemplatesSection(workspaceId: string, templates: WorkspaceTemplate[], onChanged: () => void): HTMLElement | null {
  if (templates.length === 0) return null;
  const section = h('section', { class: 'card section', 'aria-labelledby': 'ws-templates-title' });
  mount(
    section,
    h('h2', { class: 'section-title', id: 'ws-templates-title' }, 'Your workspace templates'),
    h(
      'ul',
      { class: 'ws-template-list' },
      templates.map((template) => {
        const edit = h('button', { type: 'button', class: 'btn btn-secondary btn-small', 'aria-label': `Edit template ${template.name}` }, 'Edit');
        const remove = h('button', { type: 'button', class: 'btn btn-danger-ghost btn-small', 'aria-label': `Delete template ${template.name}` }, 'Delete');
        edit.addEventListener('click', () => openEditor(workspaceId, template, onChanged));
        remove.addEventListener('click', async () => {
          if (!window.confirm(`Delete the template “${template.name}”? Agents made from it keep working.`)) return;
          await publishApi.deleteTemplate(workspaceId, template.id);
          onChanged();
        });
        return h('li', { class: 'ws-template-row' }, h('span', null, h('strong', null, template.name), h('span', { class: 'muted small' }, ` · ${template.description}`)), can('builder') ? h('span', { class: 'row' }, edit, remove) : null);
      }),
    ),
  );
  return section;
}

function openEditor(workspaceId: string, template: WorkspaceTemplate, onChanged: () => void): void {
  const name = field('Name', input({ name: 'name', value: template.name, maxLength: 80 }), { required: true });
  const description = field('Description', h('textarea', { class: 'input', name: 'description', rows: 2, maxLength: 500 }));
  description.control.value = template.description;
  const variables = field('Variables', h('textarea', { class: 'input mono', name: 'variables', rows: 4 }), { hint: 'One per line: name | label | default. Put * after the name of a required one.' });
  variables.control.value = variablesToText(template);
  const prompt = field('Prompt (Handlebars)', h('textarea', { class: 'input mono', name: 'systemPrompt', rows: 8 }), { hint: 'Use {{variableName}} for a variable, {{#if name}}…{{/if}} for optional parts.' });
  prompt.control.value = template.systemPrompt;
  const plan = field('Suggested plan', select([{ value: 'starter', label: 'Starter' }, { value: 'pro', label: 'Pro' }, { value: 'ultra', label: 'Ultra' }], { name: 'recommendedPlan' }));
  plan.control.value = template.recommendedPlan;
  const monthly = field('Typical tokens per month', input({ type: 'number', name: 'estimatedMonthlyTokens', min: 0, value: String(template.estimatedMonthlyTokens.input + template.estimatedMonthlyTokens.output) }));
  const message = formMessage();
  const { dialog, form, submit } = formDialog('Edit template', 'Save', name.element, description.element, variables.element, prompt.element, h('div', { class: 'form-grid' }, plan.element, monthly.element), message.element);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const entry of [name, variables, prompt]) entry.setError(null);
    const total = Math.max(0, Math.round(Number(monthly.control.value) || 0));
    try {
      await withBusy(submit, 'Saving…', () =>
        publishApi.updateTemplate(workspaceId, template.id, {
          name: name.control.value.trim(),
          description: description.control.value.trim(),
          variables: textToVariables(variables.control.value),
          systemPrompt: prompt.control.value,
          recommendedPlan: plan.control.value,
          estimatedMonthlyTokens: { input: Math.round(total * 0.67), output: total - Math.round(total * 0.67) },
        }),
      );
      dialog.close();
      onChanged();
    } catch (error) {
      if (error instanceof ApiError && (error.code === 'TEMPLATE_INVALID' || error.code === 'TEMPLATE_VARIABLE_UNDECLARED')) {
        prompt.setError(error.message);
        prompt.control.focus();
        return;
      }
      if (error instanceof ApiError && error.code === 'VALIDATION_FAILED' && error.details?.issues?.[0]?.field.startsWith('variables')) {
        variables.setError(`${error.details.issues[0].message}.`);
        return;
      }
      message.show(errorMessage(error));
    }
  });
  dialog.showModal();
  name.control.focus();
}
