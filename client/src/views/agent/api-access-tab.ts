// The agent page's API access tab: the agent's API keys (create, revoke) and copyable quick-start snippets.
import { api } from '../../api';
import { announce, h, icon, mount } from '../../dom';
import { errorMessage, formMessage, withBusy } from '../../forms';
import { formatDate, formatDateTime } from '../../format';
import { can } from '../../session';
import type { Context } from './tab-context';
import { everydayApi, type NamedApiKey } from '../../everyday-api';
import { field, input } from '../../forms';
import { formDialog } from '../../components/form-dialog';

export async function renderApiAccess(target: HTMLElement, context: Context): Promise<void> {
  const list = h('div', { class: 'table-scroll' });
  const created = h('div', null);
  const message = formMessage();
  const base = `${location.origin}/v1`;

  async function loadKeys(): Promise<void> {
    try {
      const keys: NamedApiKey[] = await everydayApi.apiKeys(context.workspace, context.agent.id);
      if (keys.length === 0) {
        mount(list, h('p', { class: 'muted' }, 'No API keys yet.'));
        return;
      }
      mount(
        list,
        h(
          'table',
          { class: 'table table-cards' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Last used'), can('admin') ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null)),
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
              const rename = h('button', { type: 'button', class: 'btn btn-ghost btn-small', 'aria-label': `Rename key ${key.name ?? key.prefix}` }, 'Rename');
              rename.addEventListener('click', () => renameDialog(key, async (name) => {
                await everydayApi.renameApiKey(context.workspace, context.agent.id, key.id, name);
                message.show('Key renamed.', 'success');
                await loadKeys();
              }));
              return h(
                'tr',
                { dataset: { keyId: key.id } },
                h('td', { 'data-label': 'Name' }, key.name ?? h('span', { class: 'muted' }, 'Unnamed')),
                h('td', { 'data-label': 'Key' }, h('code', null, `${key.prefix}…`)),
                h('td', { 'data-label': 'Created' }, formatDate(key.createdAt)),
                h('td', { 'data-label': 'Last used' }, key.lastUsedAt ? formatDateTime(key.lastUsedAt) : 'Never'),
                can('admin') ? h('td', { class: 'num' }, rename, revoke) : null,
              );
            }),
          ),
        ),
      );
    } catch (error) {
      mount(list, h('p', { class: 'field-error' }, errorMessage(error)));
    }
  }

  const keyName = input({ name: 'apiKeyName', placeholder: 'Key name, e.g. Website widget', 'aria-label': 'Name of the new key', maxLength: 100, autocomplete: 'off' });
  const createButton = h('button', { type: 'button', class: 'btn btn-primary' }, icon('plus'), 'Create API key');
  createButton.addEventListener('click', async () => {
    message.show(null);
    try {
      const key = await withBusy(createButton, 'Creating…', () => everydayApi.createApiKey(context.workspace, context.agent.id, keyName.value.trim()));
      keyName.value = '';
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
        h('div', { class: 'section-head' }, h('h2', { class: 'section-title' }, 'API keys'), can('admin') ? h('div', { class: 'key-create' }, keyName, createButton) : null),
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

/** Rename one key in a small dialog (the name says where the key is used). */
function renameDialog(key: NamedApiKey, save: (name: string) => Promise<void>): void {
  const name = field('Key name', input({ name: 'renameApiKey', value: key.name ?? '', maxLength: 100, autocomplete: 'off' }), { required: true, hint: 'Where it is used, e.g. "Website widget" or "Zapier".' });
  const message = formMessage();
  const { dialog, form, submit } = formDialog(`Rename ${key.prefix}…`, 'Save', name.element, message.element);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) return name.setError('Give the key a name.');
    try {
      await withBusy(submit, 'Saving…', () => save(value));
      dialog.close();
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  dialog.showModal();
  name.control.focus();
}
