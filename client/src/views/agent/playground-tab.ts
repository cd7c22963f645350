// The agent page's Playground tab: a streaming chat with the agent, with the usage of each reply.
import { streamChat, type ChatWireMessage } from '../../api';
import { createToolsPanel, renderReplyText, renderToolCalls, type PlaygroundToolCall } from './playground-tools';
import { announce, h, icon, mount } from '../../dom';
import { errorMessage, field, formMessage } from '../../forms';
import { can } from '../../session';
import type { Context } from './tab-context';
import { composerGate } from './playground-health';
import { replyUsage } from './plain-usage';
import { feedbackButtons } from './feedback-buttons';
import { renderComparePanel } from './compare-panel';
import { publishApi } from '../../publish-api';

/** A reply's price in words: the list price on BYOK, the overage part (or "in the plan") on a managed plan. */
function costWords(cost: NonNullable<Parameters<Parameters<typeof streamChat>[3]['onEnd']>[0]['cost']>): string {
  const usd = `$${(cost.priceMicros / 1_000_000).toFixed(6).replace(/0+$/, '').replace(/\.$/, '.00')}`;
  if (cost.basis === 'list_price') return `${usd} at the provider's list price`;
  return cost.fromAllowance ? 'included in the plan' : `${usd} overage`;
}

export function renderPlayground(target: HTMLElement, context: Context): () => void {
  if (!can('builder')) {
    mount(target, h('div', { class: 'card empty' }, h('p', null, 'Chatting with agents needs the builder role. You can still see this agent’s setting and usage.')));
    return () => undefined;
  }
  const history: ChatWireMessage[] = [];
  const toolsPanel = createToolsPanel();
  const log = h('div', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Conversation' });
  const emptyHint = h('p', { class: 'chat-empty muted' }, `Say hello to ${context.agent.name}. Replies stream in as they are written, with the usage of each one underneath.`);
  log.appendChild(emptyHint);
  const textarea = h('textarea', { class: 'input chat-input', name: 'message', rows: 2, placeholder: 'Type a message… (Enter to send, Shift+Enter for a new line)', maxLength: 20000 });
  const message = field('Message', textarea);
  message.element.querySelector('label')!.classList.add('visually-hidden');
  const send = h('button', { type: 'submit', class: 'btn btn-primary' }, icon('send'), 'Send');
  const clear = h('button', { type: 'button', class: 'btn btn-ghost' }, 'New conversation');
  const status = formMessage();
  const controller = { current: null as AbortController | null };
  // publish: each exchange is kept server-side while the agent's retention is on (Conversations tab)
  let conversationId: string | undefined;

  const form = h('form', { class: 'composer' }, message.element, h('div', { class: 'composer-actions' }, clear, send));
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  clear.addEventListener('click', () => {
    controller.current?.abort();
    history.length = 0;
    conversationId = undefined;
    mount(log, emptyHint);
    status.show(null);
    textarea.focus();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = textarea.value.trim();
    if (!content || send.disabled) return;
    try {
      toolsPanel.read();
    } catch (error) {
      status.show((error as Error).message);
      return;
    }
    status.show(null);
    emptyHint.remove();
    history.push({ role: 'user', content });
    log.appendChild(h('div', { class: 'bubble bubble-user' }, h('p', { class: 'bubble-text' }, content)));
    textarea.value = '';
    await runTurn(1);
  });

  /** One reply; a reply that calls tools waits for their results, then the next reply goes on from them. */
  async function runTurn(pushedMessages: number): Promise<void> {
    let options: ReturnType<typeof toolsPanel.read>;
    try {
      options = toolsPanel.read();
    } catch (error) {
      history.splice(history.length - pushedMessages, pushedMessages);
      status.show((error as Error).message);
      return;
    }
    const text = h('p', { class: 'bubble-text' });
    const meta = h('p', { class: 'bubble-meta' }, h('span', { class: 'typing' }, 'Writing…'));
    const bubble = h('div', { class: 'bubble bubble-assistant', 'aria-busy': 'true' }, text, meta);
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    send.disabled = true;
    controller.current = new AbortController();
    let reply = '';
    const toolCalls: PlaygroundToolCall[] = [];
    try {
      await streamChat(
        context.workspace,
        context.agent.id,
        history,
        {
          onDelta(delta) {
            reply += delta;
            text.textContent = reply;
            log.scrollTop = log.scrollHeight;
          },
          onToolCall(delta) {
            const call = (toolCalls[delta.index] ??= { id: delta.id ?? '', name: delta.name ?? '', arguments: '' });
            call.arguments += delta.arguments;
          },
          onEnd(end) {
            const total = end.usage.inputTokens + end.usage.outputTokens;
            mount(meta, replyUsage(context, end.usage, end.cost ? costWords(end.cost) : undefined), end.requestId ? feedbackButtons(context.workspace, end.requestId) : null);
            bubble.dataset.usage = String(total);
          },
        },
        controller.current.signal,
        options,
      );
      renderReplyText(text, reply);
      if (toolCalls.length > 0) {
        history.push({ role: 'assistant', content: reply || null, tool_calls: toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) });
        if (!reply) text.remove();
        bubble.insertBefore(
          renderToolCalls(toolCalls, (results) => {
            for (const result of results) history.push({ role: 'tool', tool_call_id: result.id, content: result.content });
            void runTurn(results.length);
          }),
          meta,
        );
        announce(`The agent calls ${toolCalls.map((call) => call.name).join(', ')}: paste the result to go on.`);
      } else {
        history.push({ role: 'assistant', content: reply });
        // publish: the exchange is kept server-side while the agent's retention is on (Conversations tab)
        const lastUser = [...history].reverse().find((entry) => entry.role === 'user');
        const userText = typeof lastUser?.content === 'string' ? lastUser.content : '';
        if (userText) void publishApi.recordPlayground(context.workspace, context.agent.id, { conversationId, user: userText, assistant: reply }).then((saved) => (conversationId = saved.conversationId ?? undefined), () => undefined);
        announce('Reply finished.');
      }
    } catch (error) {
      if ((error as Error).name === 'AbortError') return;
      history.splice(history.length - pushedMessages, pushedMessages);
      bubble.classList.add('bubble-error');
      text.textContent = reply || 'No reply.';
      mount(meta, h('span', { class: 'text-danger' }, errorMessage(error)));
      status.show(errorMessage(error));
      // The header now explains the cause and the composer links to the fix: no second copy of the error below.
      if (await gate.afterFailure(error)) status.show(null);
    } finally {
      bubble.removeAttribute('aria-busy');
      send.disabled = false;
      controller.current = null;
      textarea.focus();
    }
  }

  const gate = composerGate(context, form);
  gate.render();
  mount(target, h('div', { class: 'card playground' }, log, gate.element, toolsPanel.element, status.element), renderComparePanel(context));
  textarea.focus();
  return () => controller.current?.abort();
}
