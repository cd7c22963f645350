// The embeddable chat: one <script src=".../widget.js" data-agent="<slug>"> renders a chat bubble (or, with
// data-mode="page", the share link's full-page chat) inside a Shadow DOM, talks to the platform it was loaded from,
// streams replies over SSE, renders them as sanitized Markdown, and keeps an anonymous visitor id in localStorage.
import { readErrorAnswer } from '../error-answer';
import { eventStreamBlocks } from '../event-stream-blocks';
import { renderMarkdown } from './widget-markdown';
import { WIDGET_CSS } from './widget-styles';

interface PublicView {
  displayName: string;
  greeting: string;
  suggestedQuestions: string[];
  accentColor: string;
  keepsConversations: boolean;
}

type Turn = { role: 'user' | 'assistant'; content: string };

const script = document.currentScript as HTMLScriptElement | null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (text !== undefined) element.textContent = text;
  return element;
}

function storage(): Storage | undefined {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
}

function visitorId(): string {
  const key = 'agentHost.visitorId';
  const existing = storage()?.getItem(key);
  if (existing && /^v_[A-Za-z0-9_-]{16,64}$/.test(existing)) return existing;
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const id = `v_${btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')}`;
  storage()?.setItem(key, id);
  return id;
}

async function errorMessageOf(response: Response): Promise<string> {
  return (await readErrorAnswer(response))?.message || 'The assistant could not answer just now. Please try again in a moment.';
}

function start(): void {
  if (!script) return;
  const slug = script.dataset.agent ?? '';
  const mode = script.dataset.mode === 'page' ? 'page' : 'bubble';
  const base = new URL(script.src, location.href).origin;
  const api = `${base}/api/public/agents/${encodeURIComponent(slug)}`;

  const host = el('div', { id: `agent-host-chat-${slug.slice(0, 8)}`, 'data-agent-host-chat': '', 'data-state': 'loading' });
  if (mode === 'page') document.body.appendChild(host);
  else document.body.appendChild(host);
  const shadow = host.attachShadow({ mode: 'open' });
  const style = el('style');
  style.textContent = WIDGET_CSS;
  const root = el('div', { class: `root mode-${mode}` });
  shadow.append(style, root);

  void fetch(api, { headers: { accept: 'application/json' }, credentials: 'omit' })
    .then(async (response) => {
      if (!response.ok) throw new Error(await errorMessageOf(response));
      return (await response.json()) as PublicView;
    })
    .then((view) => build(view))
    .catch((error: Error) => {
      host.dataset.state = 'unavailable';
      console.warn(`Agent Host chat: this chat is not available here (${error.message})`);
      if (mode === 'page') root.append(el('div', { class: 'unavailable', role: 'alert' }, 'This chat is not available.'));
    });

  function build(view: PublicView): void {
    host.dataset.state = 'ready';
    root.style.setProperty('--accent', /^#[0-9a-fA-F]{6}$/.test(view.accentColor) ? view.accentColor : '#2563eb');
    const conversationKey = `agentHost.conversation.${slug}`;
    const history: Turn[] = [];
    let conversationId: string | undefined = view.keepsConversations ? storage()?.getItem(conversationKey) ?? undefined : undefined;
    const me = visitorId();

    const panel = el('section', { class: 'panel', role: mode === 'page' ? 'main' : 'dialog', 'aria-labelledby': 'ah-title', id: 'ah-panel' });
    const header = el('div', { class: 'header' });
    const title = el('h2', { class: 'title', id: 'ah-title' }, view.displayName);
    header.append(title);
    const log = el('div', { class: 'log', role: 'log', 'aria-live': 'polite', 'aria-label': `Conversation with ${view.displayName}`, tabindex: '0' });
    const suggestions = el('div', { class: 'suggestions', role: 'group', 'aria-label': 'Suggested questions' });
    const status = el('p', { class: 'status', role: 'status' });
    const form = el('form', { class: 'composer' });
    const label = el('label', { class: 'visually-hidden', for: 'ah-input' }, `Message to ${view.displayName}`);
    const input = el('textarea', { id: 'ah-input', rows: '1', maxlength: '4000', placeholder: 'Type your question…', 'aria-describedby': 'ah-hint' });
    const hint = el('span', { id: 'ah-hint', class: 'visually-hidden' }, 'Press Enter to send, Shift+Enter for a new line.');
    const send = el('button', { type: 'submit', class: 'send' }, 'Send');
    form.append(label, input, hint, send);
    const footer = el('p', { class: 'footer' }, view.keepsConversations ? 'Answers are written by AI. This conversation is kept for a while so the owner can improve the service.' : 'Answers are written by AI. This conversation is not stored.');
    panel.append(header, log, suggestions, status, form, footer);

    const addMessage = (role: 'user' | 'assistant', text: string): HTMLElement => {
      const message = el('div', { class: `message ${role}` });
      if (role === 'assistant') {
        message.setAttribute('aria-label', `${view.displayName} says`);
        renderMarkdown(message, text);
      } else {
        message.textContent = text;
      }
      log.append(message);
      log.scrollTop = log.scrollHeight;
      return message;
    };
    if (view.greeting) addMessage('assistant', view.greeting);
    for (const question of view.suggestedQuestions) {
      const button = el('button', { type: 'button', class: 'suggestion' }, question);
      button.addEventListener('click', () => void ask(question));
      suggestions.append(button);
    }

    let busy = false;
    async function ask(text: string): Promise<void> {
      const message = text.trim();
      if (!message || busy) return;
      busy = true;
      send.disabled = true;
      status.textContent = '';
      suggestions.hidden = true;
      addMessage('user', message);
      input.value = '';
      const reply = addMessage('assistant', '');
      reply.setAttribute('aria-busy', 'true');
      let content = '';
      let ended = false;
      try {
        const response = await fetch(`${api}/chat`, {
          method: 'POST',
          credentials: 'omit',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify({ visitorId: me, message, ...(conversationId ? { conversationId } : {}), ...(view.keepsConversations ? {} : { history: history.slice(-20) }) }),
        });
        if (!response.ok || !response.body) throw new Error(await errorMessageOf(response));
        for await (const block of eventStreamBlocks(response.body)) {
          if (!block.startsWith('data: ')) continue;
          const event = JSON.parse(block.slice(6)) as { type: string; content?: string; conversationId?: string | null; error?: { message?: string } };
          if (event.type === 'delta' && event.content) {
            content += event.content;
            renderMarkdown(reply, content);
            log.scrollTop = log.scrollHeight;
          } else if (event.type === 'end') {
            ended = true;
            if (event.conversationId) {
              conversationId = event.conversationId;
              storage()?.setItem(conversationKey, event.conversationId);
            }
          } else if (event.type === 'error') {
            throw new Error(event.error?.message ?? 'The reply stopped unexpectedly.');
          }
        }
        if (!ended) throw new Error('The reply stopped before it finished. Please try again.');
        history.push({ role: 'user', content: message }, { role: 'assistant', content });
      } catch (error) {
        if (!content) reply.remove();
        status.textContent = (error as Error).message;
      } finally {
        reply.removeAttribute('aria-busy');
        busy = false;
        send.disabled = false;
        input.focus();
      }
    }

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      void ask(input.value);
    });
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void ask(input.value);
      }
    });

    // A kept conversation comes back after a reload.
    if (conversationId) {
      void fetch(`${api}/conversations/${encodeURIComponent(conversationId)}?visitorId=${encodeURIComponent(me)}`, { credentials: 'omit' }).then(async (response) => {
        if (!response.ok) {
          storage()?.removeItem(conversationKey);
          conversationId = undefined;
          return;
        }
        const body = (await response.json()) as { messages: Turn[] };
        if (body.messages.length) suggestions.hidden = true;
        for (const turn of body.messages) addMessage(turn.role, turn.content);
      });
    }

    if (mode === 'page') {
      document.title = view.displayName;
      root.append(panel);
      input.focus();
      return;
    }
    const bubble = el('button', { type: 'button', class: 'bubble', 'aria-label': `Chat with ${view.displayName}`, 'aria-expanded': 'false', 'aria-controls': 'ah-panel' });
    bubble.innerHTML = '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><path d="M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"/></svg>';
    const close = el('button', { type: 'button', class: 'close', 'aria-label': 'Close chat' }, '×');
    header.append(close);
    panel.hidden = true;
    const setOpen = (open: boolean) => {
      panel.hidden = !open;
      bubble.setAttribute('aria-expanded', String(open));
      if (open) input.focus();
      else bubble.focus();
    };
    bubble.addEventListener('click', () => setOpen(panel.hidden));
    close.addEventListener('click', () => setOpen(false));
    panel.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation();
        setOpen(false);
      }
    });
    root.append(panel, bubble);
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
