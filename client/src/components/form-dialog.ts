// A modal form: title, the given fields, Cancel and a submit button; removed from the page when it closes.
import { h } from '../dom';

export function formDialog(title: string, submitLabel: string, ...content: Node[]): { dialog: HTMLDialogElement; form: HTMLFormElement; submit: HTMLButtonElement } {
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, submitLabel);
  const cancel = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Cancel');
  const form = h('form', { class: 'stack', novalidate: true }, h('h2', { class: 'dialog-title' }, title), ...content, h('div', { class: 'row-end' }, cancel, submit));
  const dialog = h('dialog', { class: 'dialog', 'aria-label': title }, form);
  document.body.appendChild(dialog);
  cancel.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => dialog.remove());
  return { dialog, form, submit };
}
