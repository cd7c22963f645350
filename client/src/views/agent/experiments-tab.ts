// The agent page's "Experiments" tab: try two or three versions of the agent on real traffic (A/B tests), see which
// costs less, answers faster and is rated better, and make the winner the agent's setting.
import { request } from '../../api';
import { h, mount } from '../../dom';
import { errorMessage, field, formMessage, input, select, withBusy } from '../../forms';
import { formatInteger, formatUsdPrecise } from '../../format';
import { can } from '../../session';
import { conversationsIn } from '../../components/plain-usage';
import { currentOptionValue, settingOptions } from './setting-options';
import type { Context } from './tab-context';

interface Experiment {
  id: string;
  name: string;
  status: 'draft' | 'running' | 'paused' | 'stopped';
  assignBy: 'user' | 'conversation' | 'request';
  variants: Array<{ key: string; name: string; weight: number; llm: unknown; temperature: number | null; variables: Record<string, string> | null }>;
  promotedVariant: string | null;
}

interface Results {
  experiment: Experiment;
  variants: Array<{ key: string; name: string; calls: number; tokens: number; priceMicros: number; costMicros?: number; latencyP50Ms: number; latencyP95Ms: number; errorRate: number; ratingsUp: number; ratingsDown: number; feedbackRate: number; thumbsUpRate: number | null; cacheHits: number }>;
  minimumSample: { callsPerVariant: number; ratingsPerVariant: number };
  verdict: string;
}

const STATUS_WORDS: Record<Experiment['status'], string> = { draft: 'Not started', running: 'Running', paused: 'Paused', stopped: 'Finished' };
const UNIT_WORDS: Record<Experiment['assignBy'], string> = { user: 'each customer (the API’s user field)', conversation: 'each conversation', request: 'each message' };

export async function renderExperiments(target: HTMLElement, context: Context): Promise<void> {
  const base = `/api/workspaces/${encodeURIComponent(context.workspace)}/agents/${encodeURIComponent(context.agent.id)}/experiments`;
  const editable = can('builder');
  const managed = context.agent.llm.mode === 'managed';
  /** Whether a version runs on a plan or on the agent's own key (no `llm`: the agent's current setting). */
  const variantMode = (experiment: Experiment, key: string): 'managed' | 'byok' =>
    (experiment.variants.find((variant) => variant.key === key)?.llm as { mode?: 'managed' | 'byok' } | null | undefined)?.mode ?? context.agent.llm.mode;
  const list = h('div', { class: 'stack' });
  const message = formMessage();

  async function refresh(): Promise<void> {
    let experiments: Experiment[];
    try {
      experiments = await request<Experiment[]>('GET', base);
    } catch (error) {
      mount(list, h('p', { class: 'text-danger' }, errorMessage(error)));
      return;
    }
    if (experiments.length === 0) {
      mount(list, h('p', { class: 'muted' }, 'No experiments yet. Create one below to compare versions of this agent on real traffic.'));
      return;
    }
    mount(list, await Promise.all(experiments.map(renderExperiment)));
  }

  async function renderExperiment(experiment: Experiment): Promise<HTMLElement> {
    const results = await request<Results>('GET', `${base}/${experiment.id}`).catch(() => undefined);
    const actions = h('div', { class: 'form-actions' });
    const act = (label: string, run: () => Promise<unknown>, kind = 'btn-secondary') => {
      const button = h('button', { type: 'button', class: `btn ${kind}` }, label);
      button.addEventListener('click', async () => {
        message.show(null);
        try {
          await withBusy(button, 'Saving…', run);
          await refresh();
        } catch (error) {
          message.show(errorMessage(error));
        }
      });
      return button;
    };
    if (editable && experiment.status !== 'stopped') {
      if (experiment.status !== 'running') actions.append(act('Start', () => request('POST', `${base}/${experiment.id}/actions`, { action: 'start' }), 'btn-primary'));
      if (experiment.status === 'running') actions.append(act('Pause', () => request('POST', `${base}/${experiment.id}/actions`, { action: 'pause' })));
      actions.append(act('Stop', () => request('POST', `${base}/${experiment.id}/actions`, { action: 'stop' })));
    }
    if (editable && !experiment.promotedVariant) {
      for (const variant of experiment.variants.slice(1)) {
        actions.append(
          act(`Make ${variant.name} the agent’s setting`, async () => {
            const promoted = await request<{ note?: string; agent: Context['agent'] }>('POST', `${base}/${experiment.id}/promote`, { variant: variant.key });
            context.setAgent(promoted.agent);
            message.show(`${variant.name} is now this agent’s setting.${promoted.note ? ` ${promoted.note}` : ''}`, 'success');
          }),
        );
      }
    }
    const rows = (results?.variants ?? []).map((variant) =>
      h(
        'tr',
        { dataset: { variant: variant.key } },
        h('th', { scope: 'row' }, variant.name),
        h('td', { 'data-label': 'Calls' }, formatInteger(variant.calls)),
        // A managed agent's versions in the plan's unit, without the platform's cost (#18); own keys keep tokens and their provider's cost.
        h('td', { 'data-label': managed ? 'Conversations' : 'Tokens' }, managed ? conversationsIn(variant.tokens) : formatInteger(variant.tokens)),
        h('td', { 'data-label': 'Billed' }, formatUsdPrecise(variant.priceMicros / 1_000_000)),
        managed ? null : h('td', { 'data-label': 'Provider cost' }, variantMode(experiment, variant.key) === 'byok' ? formatUsdPrecise((variant.costMicros ?? 0) / 1_000_000) : '—'),
        h('td', { 'data-label': 'Speed (typical / slowest 5 %)' }, `${formatInteger(variant.latencyP50Ms)} / ${formatInteger(variant.latencyP95Ms)} ms`),
        h('td', { 'data-label': 'Errors' }, `${(variant.errorRate * 100).toFixed(1)} %`),
        h('td', { 'data-label': 'Ratings' }, variant.thumbsUpRate === null ? '—' : `${Math.round(variant.thumbsUpRate * 100)} % helpful (${formatInteger(variant.ratingsUp + variant.ratingsDown)} ratings)`),
      ),
    );
    return h(
      'section',
      { class: 'card section experiment', dataset: { experimentId: experiment.id, status: experiment.status } },
      h('h3', { class: 'section-title' }, experiment.name, ' ', h('span', { class: `badge ${experiment.status === 'running' ? 'badge-success' : 'badge-plan'}` }, STATUS_WORDS[experiment.status])),
      h('p', { class: 'muted small' }, `Split by ${UNIT_WORDS[experiment.assignBy]}: ${experiment.variants.map((variant) => `${variant.name} ${variant.weight} %`).join(', ')}.${experiment.promotedVariant ? ` ${experiment.variants.find((variant) => variant.key === experiment.promotedVariant)?.name} became the agent’s setting.` : ''}`),
      results
        ? h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              { class: 'table table-cards' },
              h('thead', null, h('tr', null, (managed ? ['Version', 'Calls', 'Conversations', 'Billed', 'Speed (typical / slowest 5 %)', 'Errors', 'Ratings'] : ['Version', 'Calls', 'Tokens', 'Billed', 'Provider cost', 'Speed (typical / slowest 5 %)', 'Errors', 'Ratings']).map((label) => h('th', { scope: 'col' }, label)))),
              h('tbody', null, rows),
            ),
          )
        : null,
      results && managed
        ? h('details', { class: 'usage-details' }, h('summary', null, 'Details'), h('p', { class: 'muted small' }, `${results.variants.map((variant) => `${variant.name}: ${formatInteger(variant.tokens)} tokens`).join(' · ')}. A conversation is counted as about 1,000 tokens.`))
        : null,
      results ? h('p', { class: 'verdict', role: 'status' }, h('strong', null, 'Verdict: '), results.verdict) : null,
      results ? h('p', { class: 'muted small' }, `A fair comparison needs at least ${results.minimumSample.callsPerVariant} calls per version, and about ${formatInteger(results.minimumSample.ratingsPerVariant)} ratings per version to see a 10-point difference in helpful ratings.`) : null,
      actions,
    );
  }

  // The form: a name, how traffic is split, and two or three versions.
  const options = settingOptions(context);
  const name = field('Name', input({ name: 'experimentName', value: 'Cheaper plan test', maxLength: 100 }), { required: true });
  const assignBy = select(
    [
      { value: 'user', label: 'Each customer always sees the same version' },
      { value: 'conversation', label: 'Each conversation stays on one version' },
      { value: 'request', label: 'Each message is assigned on its own' },
    ],
    { name: 'assignBy' },
  );
  const variantRows = [0, 1, 2].map((index) => {
    const setting = select([{ value: 'current', label: 'The agent’s current setting' }, ...options.map((option) => ({ value: option.value, label: option.label }))], { name: `variant${index}Setting` });
    setting.value = index === 0 ? 'current' : options.find((option) => option.value !== currentOptionValue(context))?.value ?? 'current';
    const weight = input({ type: 'number', name: `variant${index}Weight`, min: '0', max: '100', step: '1', value: index === 2 ? '0' : '50' });
    const temperature = input({ type: 'number', name: `variant${index}Temperature`, min: '0', max: '2', step: '0.1', placeholder: 'as asked' });
    const used = h('input', { type: 'checkbox', name: `variant${index}Used`, checked: index < 2, disabled: index < 2 });
    const row = h(
      'fieldset',
      { class: 'variant-row' },
      h('legend', null, `Version ${String.fromCharCode(65 + index)}`),
      index === 2 ? h('label', { class: 'checkbox' }, used, ' Add a third version') : null,
      field('AI setting', setting).element,
      field('Share of traffic (%)', weight).element,
      field('Creativity (temperature)', temperature, { hint: 'Empty: whatever each request asks for.' }).element,
    );
    return { row, setting, weight, temperature, used };
  });
  const createMessage = formMessage();
  const create = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create experiment');
  const form = h('form', { class: 'stack', novalidate: true, 'aria-label': 'New experiment' }, name.element, field('Split traffic', assignBy).element, variantRows.map((variant) => variant.row), h('div', { class: 'form-actions' }, createMessage.element, create));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    createMessage.show(null);
    const variants = variantRows
      .filter((variant) => variant.used.checked)
      .map((variant, index) => {
        const option = options.find((candidate) => candidate.value === variant.setting.value);
        return {
          name: index === 0 && variant.setting.value === 'current' ? 'A (current)' : option?.label ?? String.fromCharCode(65 + index),
          weight: Number(variant.weight.value),
          ...(option ? { llm: option.llm } : {}),
          ...(variant.temperature.value.trim() ? { temperature: Number(variant.temperature.value) } : {}),
        };
      });
    const total = variants.reduce((sum, variant) => sum + variant.weight, 0);
    if (total !== 100) return createMessage.show(`The shares of traffic must add up to 100 % (now ${total} %).`);
    try {
      await withBusy(create, 'Creating…', () => request('POST', base, { name: name.control.value.trim(), assignBy: assignBy.value, variants }));
      createMessage.show('Experiment created. Start it when you are ready.', 'success');
      await refresh();
    } catch (error) {
      createMessage.show(errorMessage(error));
    }
  });

  mount(
    target,
    h(
      'section',
      { class: 'card section' },
      h('h2', { class: 'section-title' }, 'Experiments'),
      h('p', { class: 'muted' }, 'Send part of this agent’s traffic to another version — a cheaper plan, another model, a different creativity — and see which one costs less, answers faster and gets better ratings. Only one experiment runs at a time.'),
      message.element,
      list,
    ),
    editable ? h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'New experiment'), form) : null,
  );
  await refresh();
}
