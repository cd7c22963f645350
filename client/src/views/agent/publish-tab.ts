// The agent page's Publish tab: the public share link (publish, unpublish, new link), how the chat looks, the sites
// that may embed it and its one-line snippet, conversation retention, the per-visitor cap, and visitors' usage.
import { ApiError, api } from '../../api';
import { copyTextButton } from '../../components/copy-button';
import { h, mount } from '../../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../../forms';
import { formatDateTime, formatInteger, formatUsdPrecise } from '../../format';
import { publishApi, type PublishingSettings } from '../../publish-api';
import { can } from '../../session';
import type { Context } from './tab-context';
import { conversationsForTokens, conversationsIn, tokensForConversations } from '../../components/plain-usage';

const lines = (text: string) => text.split('\n').map((line) => line.trim()).filter(Boolean);

export async function renderPublish(target: HTMLElement, context: Context): Promise<void> {
  mount(target, h('div', { class: 'card section' }, h('p', { class: 'muted' }, 'Loading…')));
  let settings: PublishingSettings;
  try {
    settings = await publishApi.settings(context.workspace, context.agent.id);
  } catch (error) {
    mount(target, h('div', { class: 'card callout callout-error', role: 'alert' }, errorMessage(error)));
    return;
  }
  const editable = can('admin');
  const statusBox = h('section', { class: 'card section publish-status', 'aria-labelledby': 'publish-status-title' });
  const visitorsBox = h('section', { class: 'card section', 'aria-labelledby': 'visitors-title' });

  function shareUrl(): string {
    return settings.sharePath ? `${location.origin}${settings.sharePath}` : '';
  }
  function snippet(): string {
    return `<script src="${location.origin}/widget.js" data-agent="${settings.slug ?? ''}" async></script>`;
  }

  function renderStatus(): void {
    const message = formMessage();
    const publish = h('button', { type: 'button', class: 'btn btn-primary' }, 'Publish');
    const unpublish = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Unpublish');
    const rotate = h('button', { type: 'button', class: 'btn btn-secondary' }, 'New link');
    const run = (button: HTMLButtonElement, label: string, action: () => Promise<PublishingSettings>, done: string) =>
      button.addEventListener('click', async () => {
        try {
          settings = await withBusy(button, label, action);
          renderStatus();
          statusBox.querySelector<HTMLElement>('.form-message')?.focus();
          announceResult(done);
        } catch (error) {
          message.show(errorMessage(error));
        }
      });
    const announceResult = (text: string) => {
      const result = statusBox.querySelector('.publish-result');
      if (result) result.textContent = text;
    };
    run(publish, 'Publishing…', () => publishApi.publish(context.workspace, context.agent.id), 'Published. Anyone with the link can chat now.');
    run(unpublish, 'Unpublishing…', () => publishApi.unpublish(context.workspace, context.agent.id), 'Unpublished. The link and every embed stopped working.');
    rotate.addEventListener('click', async () => {
      if (!window.confirm('Make a new link? The current link and every embed snippet stop working at once.')) return;
      try {
        settings = await withBusy(rotate, 'Making a new link…', () => publishApi.rotate(context.workspace, context.agent.id));
        renderStatus();
        announceResult('New link made. Update the snippet on your sites.');
      } catch (error) {
        message.show(errorMessage(error));
      }
    });
    mount(
      statusBox,
      h('div', { class: 'section-head' }, h('h2', { class: 'section-title', id: 'publish-status-title' }, 'Share link'), h('span', { class: `badge ${settings.enabled ? 'badge-success' : 'badge-neutral'}`, dataset: { testid: 'publish-state' } }, settings.enabled ? 'Published' : 'Not published')),
      settings.enabled
        ? h(
            'div',
            { class: 'stack' },
            h('p', { class: 'muted' }, 'Anyone with this link can chat with the agent, without an account. Its prompt and settings stay private.'),
            h('div', { class: 'copy-row' }, h('a', { href: shareUrl(), target: '_blank', rel: 'noopener', class: 'share-link', dataset: { testid: 'share-link' } }, shareUrl()), copyTextButton(shareUrl, 'Copy link')),
            h('h3', { class: 'subsection-title' }, 'Add it to your website'),
            h('p', { class: 'muted' }, 'Paste this line before </body>. It shows a chat bubble, only on the sites listed below.'),
            h('div', { class: 'copy-row end' }, copyTextButton(snippet, 'Copy snippet')),
            h('pre', { class: 'code-block', tabindex: '0' }, h('code', { dataset: { testid: 'embed-snippet' } }, snippet())),
          )
        : h('p', { class: 'muted' }, 'Publish to get a public chat page for your customers, and a snippet to put the chat on your own website.'),
      h('p', { class: 'publish-result', role: 'status' }),
      editable ? h('div', { class: 'row' }, settings.enabled ? [rotate, unpublish] : publish) : h('p', { class: 'muted' }, 'Only admins and owners can publish.'),
      message.element,
    );
  }

  const displayName = field('Name shown to visitors', input({ name: 'displayName', value: settings.displayName, maxLength: 80 }), { required: true });
  const greeting = field('Greeting', h('textarea', { class: 'input', name: 'greeting', rows: 2, maxLength: 500 }), { hint: 'The first message visitors see.' });
  greeting.control.value = settings.greeting;
  const questions = field('Suggested first questions', h('textarea', { class: 'input', name: 'suggestedQuestions', rows: 3 }), { hint: 'One per line, up to six.' });
  questions.control.value = settings.suggestedQuestions.join('\n');
  const accent = field('Accent colour', input({ type: 'color', name: 'accentColor', value: settings.accentColor, class: 'input input-color' }));
  const origins = field('Websites that may embed the chat', h('textarea', { class: 'input', name: 'allowedOrigins', rows: 3, placeholder: 'https://www.example.com' }), {
    hint: 'One per line, as scheme and host (https://shop.example.com). The chat refuses every other site.',
  });
  origins.control.value = settings.allowedOrigins.join('\n');
  const retention = field('Keep conversations for (days)', input({ type: 'number', name: 'retentionDays', min: 0, max: 365, value: String(settings.retentionDays) }), {
    hint: `0 keeps nothing: each message is passed through and forgotten. ${context.agent.llm.mode === 'byok' ? 'Agents on your own key keep nothing unless you choose a number of days.' : 'Plans keep 30 days unless you choose otherwise.'} Kept conversations are deleted automatically when their time is up.`,
  });
  // A managed agent's per-visitor cap in the plan's unit (conversations of about 1,000 tokens, #18); own keys keep tokens.
  const managed = context.agent.llm.mode === 'managed';
  const savedCap = context.agent.limits.endUserMonthlyTokenCap ?? null;
  const capField = field(
    managed ? 'Monthly conversations per visitor' : 'Monthly tokens per visitor',
    input({ type: 'number', name: 'endUserMonthlyTokenCap', min: 1, value: savedCap ? String(managed ? Math.max(1, conversationsForTokens(savedCap)) : savedCap) : '', placeholder: 'No limit' }),
    { hint: 'A visitor who reaches it is told kindly to come back next month. Applies to every end user of this agent, including the API’s `user`.' },
  );
  /** The cap as the API stores it (tokens); a managed owner's unchanged number keeps the stored value exactly. */
  const capTokens = (typed: number | null): number | null => {
    if (typed === null || !managed) return typed;
    if (savedCap !== null && Math.max(1, conversationsForTokens(savedCap)) === typed) return savedCap;
    return tokensForConversations(typed);
  };
  const fields = { displayName, greeting, suggestedQuestions: questions, accentColor: accent, allowedOrigins: origins, retentionDays: retention, endUserMonthlyTokenCap: capField };
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
  const saveMessage = formMessage();
  const form = h(
    'form',
    { class: 'card section stack', novalidate: true, 'aria-labelledby': 'publish-look-title' },
    h('h2', { class: 'section-title', id: 'publish-look-title' }, 'How the chat looks and behaves'),
    h('div', { class: 'form-grid' }, displayName.element, accent.element),
    greeting.element,
    questions.element,
    origins.element,
    h('div', { class: 'form-grid' }, retention.element, can('owner') ? capField.element : null),
    editable ? h('div', { class: 'form-actions' }, saveMessage.element, save) : null,
  );
  if (!editable) for (const control of form.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input, textarea')) control.disabled = true;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    for (const entry of Object.values(fields)) entry.setError(null);
    saveMessage.show(null);
    const retentionDays = Number(retention.control.value);
    const cap = capTokens(capField.control.value.trim() ? Number(capField.control.value) : null);
    try {
      settings = await withBusy(save, 'Saving…', async () => {
        const saved = await publishApi.update(context.workspace, context.agent.id, {
          displayName: displayName.control.value.trim(),
          greeting: greeting.control.value.trim(),
          suggestedQuestions: lines(questions.control.value),
          accentColor: accent.control.value,
          allowedOrigins: lines(origins.control.value).map((origin) => origin.replace(/\/+$/, '')),
          retentionDays: Number.isFinite(retentionDays) ? retentionDays : 0,
        });
        if (can('owner') && cap !== (context.agent.limits.endUserMonthlyTokenCap ?? null)) {
          context.setAgent(await api.patchAgent(context.workspace, context.agent.id, { limits: { endUserMonthlyTokenCap: cap } }));
        }
        return saved;
      });
      saveMessage.show('Saved.', 'success');
      renderStatus();
    } catch (error) {
      if (error instanceof ApiError && error.code === 'VALIDATION_FAILED') {
        const issue = error.details?.issues?.[0];
        const key = issue?.field.split('.')[0] as keyof typeof fields | undefined;
        const target = key && key in fields ? fields[key] : capField;
        target.setError(`${issue?.message ?? error.message}.`);
        target.control.focus();
        return;
      }
      saveMessage.show(errorMessage(error));
    }
  });

  async function renderVisitors(): Promise<void> {
    mount(visitorsBox, h('h2', { class: 'section-title', id: 'visitors-title' }, 'Visitors this month'), h('p', { class: 'muted' }, 'Loading…'));
    try {
      const usage = await publishApi.endUsers(context.workspace, context.agent.id);
      mount(
        visitorsBox,
        h('div', { class: 'section-head' }, h('h2', { class: 'section-title', id: 'visitors-title' }, 'Visitors this month'), h('span', { class: 'muted', dataset: { testid: 'visitor-count' } }, `${formatInteger(usage.endUsers)} ${usage.endUsers === 1 ? 'visitor' : 'visitors'}`)),
        usage.top.length
          ? h('div', { class: 'table-scroll' }, h(
              'table',
              { class: 'table compact table-cards', dataset: { testid: 'visitor-usage' } },
              h('caption', { class: 'visually-hidden' }, managed ? 'Usage per visitor, most used first' : 'Usage per visitor, most tokens first'),
              h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Visitor'), h('th', { scope: 'col', class: 'num' }, 'Messages'), h('th', { scope: 'col', class: 'num' }, managed ? 'Conversations' : 'Tokens'), h('th', { scope: 'col', class: 'num' }, managed ? 'Billed' : 'Est. cost'), h('th', { scope: 'col' }, 'Last seen'))),
              h(
                'tbody',
                null,
                usage.top.map((row) =>
                  h(
                    'tr',
                    null,
                    h('td', { 'data-label': 'Visitor' }, h('a', { href: `#/agents/${context.agent.id}?tab=conversations&visitor=${encodeURIComponent(row.endUser)}`, class: 'mono' }, row.endUser)),
                    h('td', { class: 'num', 'data-label': 'Messages' }, formatInteger(row.requests)),
                    h('td', { class: 'num', 'data-label': managed ? 'Conversations' : 'Tokens' }, managed ? conversationsIn(row.tokens) : formatInteger(row.tokens)),
                    h('td', { class: 'num', 'data-label': managed ? 'Billed' : 'Est. cost' }, formatUsdPrecise(managed ? row.priceUsd : row.costUsd ?? 0)),
                    h('td', { 'data-label': 'Last seen' }, row.lastSeenAt ? formatDateTime(row.lastSeenAt) : '—'),
                  ),
                ),
              ),
            ))
          : h('p', { class: 'muted' }, 'No visitor has chatted yet this month.'),
      );
    } catch (error) {
      mount(visitorsBox, h('p', { class: 'callout callout-error', role: 'alert' }, errorMessage(error)));
    }
  }

  renderStatus();
  mount(target, h('div', { class: 'stack-lg' }, statusBox, form, visitorsBox));
  await renderVisitors();
}
