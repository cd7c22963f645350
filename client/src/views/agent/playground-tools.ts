// The playground's tool calling: the tools the builder offers the agent (OpenAI's `tools` JSON), the tool calls a
// reply makes (name and arguments) with a box to paste each result back, and JSON answers shown formatted.
import { h } from '../../dom';

export interface PlaygroundToolCall {
  id: string;
  name: string;
  arguments: string;
}

const EXAMPLE_TOOLS = [
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'The current weather in a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

/** The "Tools" panel: a JSON array of function tools (empty: none), and whether to ask for JSON answers. */
export function createToolsPanel(): { element: HTMLElement; read(): { tools?: unknown[]; response_format?: unknown } } {
  const textarea = h('textarea', {
    class: 'input tools-json',
    name: 'tools',
    rows: 6,
    spellcheck: false,
    placeholder: 'A JSON array of tools, as in the OpenAI API: [{"type":"function","function":{"name":…,"parameters":{…}}}]',
    'aria-label': 'Tools (JSON)',
  });
  const example = h('button', { type: 'button', class: 'btn btn-ghost btn-small' }, 'Insert an example tool');
  example.addEventListener('click', () => {
    textarea.value = JSON.stringify(EXAMPLE_TOOLS, null, 2);
    textarea.focus();
  });
  const json = h('input', { type: 'checkbox', name: 'json-answers' });
  const element = h(
    'details',
    { class: 'playground-tools' },
    h('summary', null, 'Tools and JSON answers'),
    h('p', { class: 'muted' }, 'Offer the agent tools to call. When it calls one, paste what the tool returned and send it back.'),
    textarea,
    h('div', { class: 'playground-tools-actions' }, example, h('label', { class: 'checkbox' }, json, ' Ask for JSON answers')),
  );
  return {
    element,
    read() {
      const text = textarea.value.trim();
      const options: { tools?: unknown[]; response_format?: unknown } = {};
      if (text) {
        let tools: unknown;
        try {
          tools = JSON.parse(text);
        } catch {
          throw new Error('The tools are not valid JSON.');
        }
        if (!Array.isArray(tools)) throw new Error('The tools must be a JSON array.');
        if (tools.length > 0) options.tools = tools;
      }
      if (json.checked) options.response_format = { type: 'json_object' };
      return options;
    },
  };
}

function prettyJson(text: string): string | undefined {
  const trimmed = text.trim();
  if (!(trimmed.startsWith('{') || trimmed.startsWith('['))) return undefined;
  try {
    return JSON.stringify(JSON.parse(trimmed), null, 2);
  } catch {
    return undefined;
  }
}

/** A finished reply's text: JSON documents formatted, anything else as written. */
export function renderReplyText(target: HTMLElement, text: string): void {
  const pretty = prettyJson(text);
  if (pretty === undefined) {
    target.textContent = text;
    return;
  }
  target.textContent = '';
  target.appendChild(h('pre', { class: 'json-answer', 'aria-label': 'JSON answer' }, pretty));
}

/** The tool calls of a reply, each with its arguments and a box for its result; `onSend` gets one result per call. */
export function renderToolCalls(calls: PlaygroundToolCall[], onSend: (results: Array<{ id: string; content: string }>) => void): HTMLElement {
  const boxes = calls.map((call) => {
    const result = h('textarea', { class: 'input tool-result', rows: 2, 'aria-label': `Result of ${call.name}`, placeholder: `What ${call.name} returned…` });
    const card = h(
      'div',
      { class: 'tool-call', dataset: { toolCall: call.name } },
      h('p', { class: 'tool-call-title' }, 'Calls tool ', h('code', null, call.name)),
      h('pre', { class: 'tool-call-arguments', 'aria-label': `Arguments of ${call.name}` }, prettyJson(call.arguments) ?? call.arguments),
      result,
    );
    return { call, result, card };
  });
  const send = h('button', { type: 'button', class: 'btn btn-primary btn-small' }, calls.length > 1 ? 'Send tool results' : 'Send tool result');
  const element = h('div', { class: 'tool-calls' }, ...boxes.map((box) => box.card), send);
  send.addEventListener('click', () => {
    send.disabled = true;
    for (const box of boxes) box.result.disabled = true;
    onSend(boxes.map((box) => ({ id: box.call.id, content: box.result.value })));
  });
  return element;
}
