// The playground's side-by-side comparison: one question to two or three AI settings at once, the answers next to
// each other with their tokens, price and time. Each answer is a normal, billed call.
import { request } from '../../api';
import { h, mount } from '../../dom';
import { errorMessage, field, formMessage, select, withBusy } from '../../forms';
import { formatInteger, formatUsdPrecise } from '../../format';
import { feedbackButtons } from './feedback-buttons';
import { currentOptionValue, settingOptions } from './setting-options';
import type { Context } from './tab-context';

interface CompareResult {
  label: string;
  ok: boolean;
  requestId: string;
  content?: string;
  usage?: { inputTokens: number; outputTokens: number };
  latencyMs: number;
  priceMicros?: number;
  costMicros?: number;
  error?: { code: string; message: string };
}

/** A managed plan's answer in the plan's words (price and time; tokens inside "Details"); an own-key answer with its tokens. */
function resultLine(result: CompareResult, mode: 'managed' | 'byok'): Array<Node | string> {
  const price = formatUsdPrecise((result.priceMicros ?? 0) / 1_000_000);
  const tokens = (result.usage?.inputTokens ?? 0) + (result.usage?.outputTokens ?? 0);
  if (mode === 'managed') {
    return [`${price} · ${formatInteger(result.latencyMs)} ms · `, h('details', null, h('summary', null, 'Details'), ` ${formatInteger(tokens)} tokens · ${formatInteger(result.usage?.inputTokens ?? 0)} in, ${formatInteger(result.usage?.outputTokens ?? 0)} out`)];
  }
  return [`${formatInteger(tokens)} tokens · ${price} · ${formatInteger(result.latencyMs)} ms`];
}

export function renderComparePanel(context: Context): HTMLElement {
  const options = settingOptions(context);
  const textarea = h('textarea', { class: 'input', name: 'compareMessage', rows: 2, maxLength: 20000, placeholder: 'A question to ask every setting' });
  const current = currentOptionValue(context);
  const pickers = [0, 1, 2].map((index) => {
    const picker = select([...(index === 2 ? [{ value: '', label: '— none —' }] : []), ...options.map((option) => ({ value: option.value, label: option.label }))], { name: `compareSetting${index}` });
    const others = options.filter((option) => option.value !== current);
    picker.value = index === 0 ? current : index === 1 ? others[0]?.value ?? current : '';
    return picker;
  });
  const message = formMessage();
  const run = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Compare');
  const results = h('div', { class: 'compare-results' });
  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-label': 'Compare settings' },
    field('Question', textarea).element,
    h('div', { class: 'compare-pickers' }, pickers.map((picker, index) => field(`Setting ${index + 1}`, picker).element)),
    h('div', { class: 'form-actions' }, message.element, run),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.show(null);
    const content = textarea.value.trim();
    if (!content) return message.show('Type a question first.');
    const settings = pickers
      .map((picker) => options.find((option) => option.value === picker.value))
      .filter((option): option is NonNullable<typeof option> => option !== undefined)
      .map((option) => ({ label: option.label, llm: option.llm }));
    try {
      const response = await withBusy(run, 'Asking…', () =>
        request<{ results: CompareResult[] }>('POST', `/api/workspaces/${encodeURIComponent(context.workspace)}/agents/${encodeURIComponent(context.agent.id)}/compare`, { messages: [{ role: 'user', content }], settings }),
      );
      mount(
        results,
        response.results.map((result) =>
          h(
            'article',
            { class: `card compare-card${result.ok ? '' : ' compare-error'}`, dataset: { requestId: result.requestId } },
            h('h3', { class: 'section-title' }, result.label),
            h('p', { class: 'bubble-text' }, result.ok ? result.content ?? '' : result.error?.message ?? 'No answer.'),
            result.ok && result.usage ? h('p', { class: 'bubble-meta' }, ...resultLine(result, settings.find((setting) => setting.label === result.label)?.llm.mode ?? context.agent.llm.mode)) : null,
            result.ok ? feedbackButtons(context.workspace, result.requestId) : null,
          ),
        ),
      );
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  return h(
    'section',
    { class: 'card section compare' },
    h('h2', { class: 'section-title' }, 'Compare settings side by side'),
    h('p', { class: 'muted small' }, 'Ask two or three AI settings the same question. Each answer is billed like any other call; the price shown is what that answer costs on that setting.'),
    form,
    results,
  );
}
