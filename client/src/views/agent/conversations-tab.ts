// The agent page's Conversations tab: kept conversations (published chats and the playground) with search, a
// visitor filter, the full text of one (answers rendered as sanitized Markdown), export, and delete one or all.
import { h, mount } from '../../dom';
import { errorMessage, field, formMessage, input, select, withBusy } from '../../forms';
import { formatDateTime } from '../../format';
import { publishApi, type ConversationSummary } from '../../publish-api';
import { can } from '../../session';
import { renderMarkdown } from '../../widget/widget-markdown';
import type { Context } from './tab-context';

export async function renderConversations(target: HTMLElement, context: Context): Promise<void> {
  if (!can('admin')) {
    mount(target, h('div', { class: 'card empty' }, h('p', null, 'Reading conversations needs the admin role: they can hold what your customers wrote.')));
    return;
  }
  const initialVisitor = new URLSearchParams(location.hash.split('?')[1] ?? '').get('visitor') ?? '';
  const search = field('Search', input({ type: 'search', name: 'q', placeholder: 'Words from the conversation' }));
  const visitor = field('Visitor', input({ name: 'visitorId', placeholder: 'v_…', value: initialVisitor }));
  const source = field('Where', select([{ value: '', label: 'Everywhere' }, { value: 'published', label: 'Published chat' }, { value: 'playground', label: 'Playground' }], { name: 'source' }));
  const apply = h('button', { type: 'submit', class: 'btn btn-secondary' }, 'Search');
  const exportButton = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Export');
  const deleteAll = h('button', { type: 'button', class: 'btn btn-danger-ghost' }, 'Delete all');
  const message = formMessage();
  const list = h('div', { class: 'conversation-list', role: 'region', 'aria-label': 'Conversations', 'aria-live': 'polite' });
  const detail = h('section', { class: 'card section conversation-detail', 'aria-label': 'Conversation', hidden: true });
  const filter = () => ({ q: search.control.value.trim() || undefined, visitorId: visitor.control.value.trim() || undefined, source: source.control.value || undefined });

  const form = h('form', { class: 'card section conversation-filters', role: 'search' }, h('div', { class: 'form-grid three' }, search.element, visitor.element, source.element), h('div', { class: 'row' }, apply, exportButton, deleteAll), message.element);

  async function load(): Promise<void> {
    message.show(null);
    try {
      const result = await publishApi.conversations(context.workspace, context.agent.id, filter());
      mount(
        list,
        h('p', { class: 'muted', dataset: { testid: 'conversation-total' } }, `${result.total} ${result.total === 1 ? 'conversation' : 'conversations'}`),
        result.conversations.length
          ? h('ul', { class: 'conversation-items' }, result.conversations.map((conversation) => h('li', null, item(conversation))))
          : h('p', { class: 'muted' }, 'Nothing kept matches. Conversations are kept only while this agent’s retention is on (Publish tab).'),
      );
    } catch (error) {
      message.show(errorMessage(error));
    }
  }

  function item(conversation: ConversationSummary): HTMLElement {
    const open = h(
      'button',
      { type: 'button', class: 'conversation-item' },
      h('span', { class: 'conversation-title' }, conversation.title || '(no text)'),
      h('span', { class: 'muted small' }, `${conversation.source === 'published' ? conversation.visitorId ?? 'visitor' : 'Playground'} · ${conversation.messageCount} messages · ${formatDateTime(conversation.updatedAt)}`),
    );
    open.addEventListener('click', () => void show(conversation.id));
    return open;
  }

  async function show(id: string): Promise<void> {
    try {
      const conversation = await publishApi.conversation(context.workspace, context.agent.id, id);
      const remove = h('button', { type: 'button', class: 'btn btn-danger-ghost btn-small' }, 'Delete');
      remove.addEventListener('click', async () => {
        if (!window.confirm('Delete this conversation?')) return;
        await publishApi.deleteConversation(context.workspace, context.agent.id, id);
        detail.hidden = true;
        await load();
      });
      mount(
        detail,
        h('div', { class: 'section-head' }, h('h2', { class: 'section-title', tabindex: '-1' }, conversation.title || 'Conversation'), remove),
        h('p', { class: 'muted small' }, `${conversation.visitorId ?? 'Playground'} · kept until ${formatDateTime(conversation.expiresAt)}`),
        h(
          'ol',
          { class: 'transcript' },
          conversation.messages.map((entry) => {
            const body = h('div', { class: 'transcript-text' });
            if (entry.role === 'assistant') renderMarkdown(body, entry.content);
            else body.textContent = entry.content;
            return h('li', { class: `transcript-${entry.role}` }, h('span', { class: 'transcript-role' }, entry.role === 'user' ? 'Visitor' : context.agent.name), body);
          }),
        ),
      );
      detail.hidden = false;
      detail.querySelector<HTMLElement>('h2')?.focus();
    } catch (error) {
      message.show(errorMessage(error));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  exportButton.addEventListener('click', () => void withBusy(exportButton, 'Exporting…', () => publishApi.downloadConversations(context.workspace, context.agent.id, filter())).catch((error) => message.show(errorMessage(error))));
  deleteAll.addEventListener('click', async () => {
    const scope = filter();
    if (!window.confirm(scope.visitorId ? `Delete every conversation of ${scope.visitorId}?` : 'Delete every kept conversation of this agent?')) return;
    try {
      const { deleted } = await publishApi.deleteConversations(context.workspace, context.agent.id, { visitorId: scope.visitorId, source: scope.source });
      message.show(`${deleted} deleted.`, 'success');
      detail.hidden = true;
      await load();
    } catch (error) {
      message.show(errorMessage(error));
    }
  });

  mount(target, h('div', { class: 'stack-lg' }, form, h('div', { class: 'conversations-layout' }, h('div', { class: 'card section' }, list), detail)));
  await load();
}
