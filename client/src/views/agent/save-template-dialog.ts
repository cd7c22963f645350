// "Save as template": the agent's prompt and its current values become a workspace template, offered in the
// new-agent gallery next to the built-in ones.
import { h } from '../../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../../forms';
import { formDialog } from '../../components/form-dialog';
import { publishApi } from '../../publish-api';
import type { Agent } from '../../types';

export function openSaveTemplateDialog(workspaceId: string, agent: Agent): void {
  const name = field('Template name', input({ name: 'templateName', value: `${agent.name} template`, maxLength: 80 }), { required: true });
  const description = field('Description', h('textarea', { class: 'input', name: 'description', rows: 2, maxLength: 500 }), { hint: 'What the agent does, for your team.' });
  const message = formMessage();
  const { dialog, form, submit } = formDialog('Save as template', 'Save template', h('p', { class: 'muted' }, 'Your team can then create agents like this one from “Create an agent”. Its current details become the defaults.'), name.element, description.element, message.element);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!name.control.value.trim()) return name.setError('Give the template a name.');
    try {
      await withBusy(submit, 'Saving…', () =>
        publishApi.createTemplate(workspaceId, { fromAgentId: agent.id, name: name.control.value.trim(), ...(description.control.value.trim() ? { description: description.control.value.trim() } : {}) }),
      );
      message.show('Saved. It is in the template gallery now.', 'success');
      window.setTimeout(() => dialog.close(), 900);
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  dialog.showModal();
  name.control.focus();
}
