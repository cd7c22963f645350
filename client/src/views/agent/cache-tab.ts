// The agent page's "Answer cache" tab: repeat questions answered from saved answers (off by default), in plain words.
import { ApiError, request } from '../../api';
import { h, mount } from '../../dom';
import { errorMessage, field, formMessage, input, select, withBusy } from '../../forms';
import { formatInteger } from '../../format';
import { can } from '../../session';
import type { Context } from './tab-context';

interface CacheView {
  setting: { mode: 'off' | 'exact' | 'semantic'; ttlSeconds: number; similarityThreshold: number; maxTemperature: number; allowAnyTemperature: boolean };
  semanticAvailable: boolean;
  embeddings: { provider: string; model: string } | null;
  vectorIndex: 'atlas' | 'in-process' | null;
  entries: number;
  hits: number;
}

const path = (context: Context) => `/api/workspaces/${encodeURIComponent(context.workspace)}/agents/${encodeURIComponent(context.agent.id)}/cache`;

export async function renderCache(target: HTMLElement, context: Context): Promise<void> {
  let view: CacheView;
  try {
    view = await request<CacheView>('GET', path(context));
  } catch (error) {
    mount(target, h('div', { class: 'card empty' }, h('p', { class: 'text-danger' }, errorMessage(error))));
    return;
  }
  const editable = can('builder');
  const mode = select(
    [
      { value: 'off', label: 'Off — every question goes to the AI (default)' },
      { value: 'exact', label: 'Same question — reuse the answer when a question is asked again word for word' },
      { value: 'semantic', label: view.semanticAvailable ? 'Similar question — also reuse it for questions that mean the same' : 'Similar question — not available for this agent' },
    ],
    { name: 'cacheMode', disabled: !editable },
  );
  mode.value = view.setting.mode;
  const semanticOption = mode.querySelector('option[value="semantic"]') as HTMLOptionElement;
  semanticOption.disabled = !view.semanticAvailable && view.setting.mode !== 'semantic';
  const threshold = input({ type: 'number', name: 'similarityThreshold', min: '0.5', max: '1', step: '0.01', value: String(view.setting.similarityThreshold), readOnly: !editable });
  const hours = input({ type: 'number', name: 'ttlHours', min: '0.1', max: '720', step: '0.5', value: String(Math.round((view.setting.ttlSeconds / 3600) * 10) / 10), readOnly: !editable });
  const maxTemperature = input({ type: 'number', name: 'maxTemperature', min: '0', max: '2', step: '0.1', value: String(view.setting.maxTemperature), readOnly: !editable });
  const anyTemperature = h('input', { type: 'checkbox', name: 'allowAnyTemperature', checked: view.setting.allowAnyTemperature, disabled: !editable });
  const thresholdField = field('How similar a question must be (0.5 – 1)', threshold, { hint: '0.95 reuses answers only for near-identical wording. Lower values save more but risk a wrong answer.' });
  const hoursField = field('Keep answers for (hours)', hours, { hint: 'After this, the question goes to the AI again and the fresh answer is kept.' });
  const temperatureField = field('Cache only when creativity (temperature) is at most', maxTemperature, { hint: 'Creative requests should vary, so they are not reused.' });
  const message = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
  const showThreshold = () => (thresholdField.element.hidden = mode.value !== 'semantic');
  mode.addEventListener('change', showThreshold);
  showThreshold();

  const form = h(
    'form',
    { class: 'stack', novalidate: true, 'aria-label': 'Answer cache setting' },
    field('Reuse answers', mode).element,
    thresholdField.element,
    hoursField.element,
    temperatureField.element,
    h('label', { class: 'checkbox' }, anyTemperature, ' Reuse answers whatever the creativity'),
    editable ? h('div', { class: 'form-actions' }, message.element, save) : h('p', { class: 'muted small' }, 'Changing this needs the builder role.'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.show(null);
    thresholdField.setError(null);
    const body: Record<string, unknown> = {
      mode: mode.value,
      ttlSeconds: Math.round(Number(hours.value) * 3600),
      maxTemperature: Number(maxTemperature.value),
      allowAnyTemperature: anyTemperature.checked,
    };
    if (mode.value === 'semantic') body.similarityThreshold = Number(threshold.value);
    try {
      view = await withBusy(save, 'Saving…', () => request<CacheView>('PUT', path(context), body));
      message.show(view.setting.mode === 'off' ? 'Saved. Every question goes to the AI.' : 'Saved. Repeat questions are now answered from saved answers, free of charge.', 'success');
      renderStats();
    } catch (error) {
      if (error instanceof ApiError && error.fieldMessage('similarityThreshold')) thresholdField.setError('Choose a value above 0 and at most 1.');
      else message.show(errorMessage(error));
    }
  });

  const stats = h('div', { class: 'summary-grid' });
  const clear = h('button', { type: 'button', class: 'btn btn-secondary' }, 'Forget saved answers');
  clear.addEventListener('click', async () => {
    try {
      const result = await withBusy(clear, 'Forgetting…', () => request<{ removed: number }>('DELETE', `${path(context)}/entries`));
      view = { ...view, entries: 0, hits: 0 };
      renderStats();
      message.show(`${formatInteger(result.removed)} saved answers forgotten.`, 'success');
    } catch (error) {
      message.show(errorMessage(error));
    }
  });
  const managed = context.agent.llm.mode === 'managed';
  const embeddingsName = () => context.providers.find((provider) => provider.id === view.embeddings?.provider)?.name ?? view.embeddings?.provider ?? '';
  function renderStats(): void {
    mount(
      stats,
      h('p', null, h('strong', null, formatInteger(view.entries)), ' saved answers · ', h('strong', null, formatInteger(view.hits)), ' questions answered from them'),
      h(
        'p',
        { class: 'muted small' },
        view.semanticAvailable
          ? managed
            ? // A plan in its own words: the lookup counts in the plan's usage like any message; the embeddings model for builders in Details.
              [`Similar questions are recognised by their meaning; each lookup counts a little in the plan’s usage. The search runs ${view.vectorIndex === 'atlas' ? 'in MongoDB Atlas' : 'inside Agent Host'}. `, h('details', { class: 'inline-details' }, h('summary', null, 'Details'), ` ${embeddingsName()} embeddings (${view.embeddings?.model ?? ''}).`)]
            : `Similar questions are recognised with ${embeddingsName()} embeddings (${view.embeddings?.model ?? ''}), billed at the provider’s price; the search runs ${view.vectorIndex === 'atlas' ? 'in MongoDB Atlas' : 'inside Agent Host'}.`
          : 'Similar-question matching needs an OpenAI or Mistral key (this agent’s own, or the platform’s); this agent can reuse answers to the same question.',
      ),
    );
  }
  renderStats();

  mount(
    target,
    h(
      'section',
      { class: 'card section' },
      h('h2', { class: 'section-title' }, 'Answer cache'),
      h('p', { class: 'muted' }, `When a customer asks something this agent has already answered, the saved answer is sent again instantly. ${managed ? 'Reused answers are free: they do not count in the plan’s usage.' : 'Reused answers use no tokens and cost nothing.'} Changing the AI setting or the agent’s details starts afresh. Requests that use tools are never reused.`),
      form,
    ),
    h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Saved answers'), stats, editable ? clear : null),
  );
}
