// The AI setting tab's "Smart routing" section (#14): the light model (own key), the routing setting with one sentence
// each, "always the most capable model", graceful degradation and the consented fallback, and the savings this month
// (live over Socket.IO). Plain words for a managed plan's owner; numbers for a builder on their own key.
import { request, ApiError } from '../../api';
import { byokForm } from '../../components/byok-form';
import { announce, h, mount } from '../../dom';
import { clearFieldErrors, errorMessage, formMessage, showFieldError, withBusy, type Field } from '../../forms';
import { formatInteger, formatUsdPrecise } from '../../format';
import { onUsageUpdate } from '../../realtime';
import { can } from '../../session';
import type { Agent, AgentLlm, PlanId } from '../../types';
import type { Context } from './tab-context';
import type { RoutingSummary } from '../../../../shared/usage-answers';

type RoutingSetting = 'off' | 'quality' | 'balanced' | 'savings';

interface AgentRouting {
  setting: RoutingSetting | null;
  effectiveSetting: RoutingSetting;
  explanation: string;
  alwaysStrong: boolean;
  degrade: boolean;
  fallbackPlan: PlanId | null;
  lightAvailable: boolean;
  planRouting: RoutingSetting | null;
  lightModel: { provider: string; model: string } | null;
}

interface LightModel {
  provider: string;
  model: string;
  baseUrl: string | null;
  key: { mask: string | null; status: string };
}

type RoutedAgent = Agent & { routing?: AgentRouting; llm: AgentLlm & { light?: LightModel | null } };

/** An agent's savings answer: the month's routing summary with its calls, the other sources of savings and the words. */
export interface Savings extends RoutingSummary {
  month: string;
  mode: 'byok' | 'managed';
  requests: number;
  errors: number;
  /** The answer cache as a source of savings (#15). */
  cache?: { hits: number; calls: number; hitRate: number; savedUsd: number };
  /** Per A/B experiment variant: its saving against the first variant at this month's prices (#15). */
  experiments?: Array<{ experimentId: string; variant: string; calls: number; savedVsFirstUsd: number }>;
  summary: string;
}

const agentPath = (workspaceId: string, agentId: string) => `/api/workspaces/${encodeURIComponent(workspaceId)}/agents/${encodeURIComponent(agentId)}`;

export const routingApi = {
  setRouting: (workspaceId: string, agentId: string, input: Partial<Pick<AgentRouting, 'setting' | 'alwaysStrong' | 'degrade' | 'fallbackPlan'>>) =>
    request<RoutedAgent>('PUT', `${agentPath(workspaceId, agentId)}/routing`, input),
  setLight: (workspaceId: string, agentId: string, input: { provider: string; model: string; apiKey?: string; baseUrl?: string | null }) =>
    request<RoutedAgent>('PUT', `${agentPath(workspaceId, agentId)}/llm/light`, input),
  removeLight: (workspaceId: string, agentId: string) => request<RoutedAgent>('DELETE', `${agentPath(workspaceId, agentId)}/llm/light`),
  savings: (workspaceId: string, agentId: string) => request<Savings>('GET', `${agentPath(workspaceId, agentId)}/savings`),
};

const SETTING_CHOICES: Array<{ value: RoutingSetting; label: string; sentence: string }> = [
  { value: 'off', label: 'Off', sentence: 'Every request goes to the main, most capable model.' },
  { value: 'quality', label: 'Quality first', sentence: 'Only clearly easy requests (greetings, facts, short rewrites) go to the light model.' },
  { value: 'balanced', label: 'Balanced', sentence: 'Easy and routine requests go to the light model; code, analysis and long writing stay on the main one.' },
  { value: 'savings', label: 'Maximum savings', sentence: 'Everything but clearly hard requests goes to the light model.' },
];

/** Draws the section into `target`; returns the cleanup (the live savings subscription). */
export function renderRoutingPanel(target: HTMLElement, context: Context): () => void {
  const cleanups: Array<() => void> = [];
  const savingsBox = h('div', { class: 'routing-savings', dataset: { testid: 'routing-savings' }, role: 'status', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading savings…'));

  async function loadSavings(): Promise<void> {
    try {
      renderSavings(savingsBox, await routingApi.savings(context.workspace, context.agent.id));
    } catch (error) {
      mount(savingsBox, h('p', { class: 'muted' }, errorMessage(error)));
    }
  }

  function draw(): void {
    const agent = context.agent as RoutedAgent;
    const routing = agent.routing;
    if (!routing) {
      mount(target, null);
      return;
    }
    const sections: Array<Node | null> = [
      h('h2', { class: 'section-title' }, 'Smart routing'),
      h('p', { class: 'muted section-lead' }, 'Send easy requests to a faster, cheaper model and keep the hard ones on the most capable one. Decided on our servers per request, from the request alone.'),
      savingsBox,
    ];
    if (agent.llm.mode === 'byok') sections.push(lightModelSection(agent));
    else if (!routing.lightAvailable) sections.push(h('p', { class: 'callout callout-info', dataset: { testid: 'plan-routing-off' } }, 'This plan answers every request with its main models.'));
    else {
      const light = routing.lightModel;
      // A plan in its own words; which model answers is for builders, inside "Details" (#18).
      sections.push(
        h(
          'p',
          { class: 'muted' },
          'This plan sends easy questions to a faster, lighter model, at the same price. ',
          light && can('builder') ? h('details', { class: 'inline-details' }, h('summary', null, 'Details'), ` ${providerName(light.provider)} ${light.model}.`) : null,
        ),
      );
    }
    if (routing.lightAvailable) sections.push(settingsForm(agent, routing));
    mount(target, h('section', { class: 'card section routing-panel', dataset: { testid: 'routing-panel' } }, sections));
  }

  const providerName = (id: string) => context.providers.find((provider) => provider.id === id)?.name ?? id;

  function lightModelSection(agent: RoutedAgent): HTMLElement {
    const light = agent.llm.light ?? null;
    const current = light
      ? h(
          'p',
          { dataset: { testid: 'light-model' } },
          'Light model: ',
          h('strong', null, `${providerName(light.provider)} ${light.model}`),
          light.key.mask ? h('span', { class: 'muted' }, ' · key ', h('code', { class: 'key-mask' }, light.key.mask)) : null,
        )
      : h('p', { class: 'muted', dataset: { testid: 'light-model' } }, 'No light model yet. Add one to route easy requests to it.');
    if (!can('builder')) return h('div', { class: 'stack' }, current);
    const form = byokForm(context.providers, light ? { mode: 'byok', provider: light.provider, model: light.model, baseUrl: light.baseUrl, key: { mask: light.key.mask ?? '', status: 'unchecked', checkedAt: null } } : null);
    const save = h('button', { type: 'submit', class: 'btn btn-secondary' }, light ? 'Save light model' : 'Add light model');
    const message = formMessage();
    const remove = light ? h('button', { type: 'button', class: 'btn btn-ghost' }, 'Remove') : null;
    remove?.addEventListener('click', async () => {
      try {
        context.setAgent(await withBusy(remove, 'Removing…', () => routingApi.removeLight(context.workspace, context.agent.id)));
        draw();
        announce('Light model removed.');
      } catch (error) {
        message.show(errorMessage(error));
      }
    });
    const element = h(
      'form',
      { class: 'stack light-model-form', novalidate: true, dataset: { testid: 'light-model-form' } },
      h('p', { class: 'muted small' }, 'Same or another provider, with its own key (stored encrypted). On the same provider, leave the key empty to use the agent’s key.'),
      form.element,
      h('div', { class: 'form-actions' }, message.element, remove, save),
    );
    element.addEventListener('submit', async (event) => {
      event.preventDefault();
      const fields = form.fields as Record<string, Field<HTMLInputElement | HTMLSelectElement> | undefined>;
      clearFieldErrors(fields);
      message.show(null);
      if (!form.validate()) return;
      const { mode: _mode, ...input } = form.value();
      try {
        const updated = await withBusy(save, 'Saving…', () => routingApi.setLight(context.workspace, context.agent.id, input));
        form.clearKey();
        context.setAgent(updated);
        draw();
        announce('Light model saved.');
      } catch (error) {
        if (!showFieldError(error, fields)) message.show(errorMessage(error));
      }
    });
    return h('div', { class: 'stack' }, current, element);
  }

  function settingsForm(agent: RoutedAgent, routing: AgentRouting): HTMLElement {
    const managed = agent.llm.mode === 'managed';
    const editable = can('builder');
    const owner = can('owner');
    const name = `routing-setting-${agent.id}`;
    const choices: Array<{ value: RoutingSetting | 'plan'; label: string; sentence: string }> = managed
      ? [{ value: 'plan', label: 'Plan default', sentence: `What the plan does: ${SETTING_CHOICES.find((choice) => choice.value === routing.planRouting)?.label ?? 'Balanced'}.` }, ...SETTING_CHOICES]
      : SETTING_CHOICES;
    const selected = routing.setting ?? (managed ? 'plan' : 'off');
    const radios = choices.map((choice) => {
      const radio = h('input', { type: 'radio', name, value: choice.value, disabled: !editable });
      radio.checked = choice.value === selected;
      return { choice, radio };
    });
    const alwaysStrong = h('input', { type: 'checkbox', name: 'alwaysStrong', disabled: !editable });
    alwaysStrong.checked = routing.alwaysStrong;
    const degrade = h('input', { type: 'checkbox', name: 'degrade', disabled: !owner });
    degrade.checked = routing.degrade;
    const fallback = h('select', { class: 'input', name: 'fallbackPlan', disabled: !owner }, h('option', { value: '' }, 'No fallback (default)'), ...context.plans.map((plan) => h('option', { value: plan.id }, `${plan.name} — $${plan.overageUsdPerMillion} per 1M tokens`)));
    fallback.value = routing.fallbackPlan ?? '';
    const save = h('button', { type: 'submit', class: 'btn btn-primary', disabled: !editable }, 'Save routing');
    const message = formMessage();
    const form = h(
      'form',
      { class: 'stack routing-form', novalidate: true, dataset: { testid: 'routing-form' } },
      h(
        'fieldset',
        { class: 'routing-choices' },
        h('legend', null, 'Routing'),
        ...radios.map(({ choice, radio }) => h('label', { class: 'routing-choice' }, radio, h('span', null, h('strong', null, choice.label), h('span', { class: 'muted' }, ` — ${choice.sentence}`)))),
      ),
      h('label', { class: 'checkbox-row' }, alwaysStrong, h('span', null, h('strong', null, 'Always the most capable model'), h('span', { class: 'muted' }, ' — opt this agent out of routing; every request goes to the main model.'))),
      h('label', { class: 'checkbox-row' }, degrade, h('span', null, h('strong', null, 'Graceful degradation'), h('span', { class: 'muted' }, ' — near the monthly budget or cap, move to the light model first, then shorten answers, and refuse only at the limit.'))),
      managed
        ? null
        : h(
            'label',
            { class: 'field' },
            h('span', { class: 'field-label' }, 'If your key fails'),
            fallback,
            h('span', { class: 'field-hint' }, 'Off by default. When your key is rejected, out of credit or keeps being rate limited, answer from this plan instead, billed per token at its overage rate (no monthly fee). You get an alert each time it starts.'),
          ),
      h('p', { class: 'muted small', dataset: { testid: 'routing-explanation' } }, `Now: ${routing.explanation}`),
      h('div', { class: 'form-actions' }, message.element, save),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      message.show(null);
      const picked = radios.find(({ radio }) => radio.checked)?.choice.value ?? 'off';
      const input: Record<string, unknown> = { setting: picked === 'plan' ? null : picked, alwaysStrong: alwaysStrong.checked };
      if (owner) {
        input.degrade = degrade.checked;
        if (!managed) input.fallbackPlan = fallback.value === '' ? null : fallback.value;
      }
      try {
        const updated = await withBusy(save, 'Saving…', () => routingApi.setRouting(context.workspace, context.agent.id, input));
        context.setAgent(updated);
        draw();
        announce('Routing saved.');
      } catch (error) {
        message.show(error instanceof ApiError ? error.message : errorMessage(error));
      }
    });
    return form;
  }

  function renderSavings(box: HTMLElement, savings: Savings): void {
    const numbers =
      savings.mode === 'byok' || can('builder')
        ? h(
            'dl',
            { class: 'routing-numbers' },
            ...[
              ['Routed light', `${formatInteger(savings.lightRequests)} of ${formatInteger(savings.routedRequests)} (${Math.round(savings.lightShare * 100)} %)`],
              // A managed plan's price does not change with the model: the saving is shown to those who pay the provider.
              ...(savings.mode === 'byok' ? [['Saved vs always strong', formatUsdPrecise(savings.savedUsd)]] : []),
              ['Escalations', formatInteger(savings.escalations)],
              ['Errors', formatInteger(savings.errors)],
              ['Near-limit light answers', formatInteger(savings.degradedRequests)],
              ['Fallback answers', formatInteger(savings.fallbackRequests)],
              ...(savings.cache && savings.cache.hits > 0
                ? [['Answers from the cache', `${formatInteger(savings.cache.hits)} of ${formatInteger(savings.cache.calls)}${savings.mode === 'byok' ? `, saved ${formatUsdPrecise(savings.cache.savedUsd)}` : ''}`]]
                : []),
              ...(savings.experiments ?? [])
                .filter((row) => row.savedVsFirstUsd !== 0)
                .map((row) => [`Experiment variant ${row.variant} vs the first`, `${row.savedVsFirstUsd > 0 ? 'saved' : 'cost'} ${formatUsdPrecise(Math.abs(row.savedVsFirstUsd))} over ${formatInteger(row.calls)} calls`]),
            ].flatMap(([label, value]) => [h('dt', null, label), h('dd', null, value)]),
          )
        : null;
    mount(box, h('p', { class: 'routing-summary', dataset: { testid: 'routing-summary' } }, savings.summary), numbers);
  }

  draw();
  void loadSavings();
  // Live: the workspace's usage updates carry this agent's row; its savings are read again (at most a few per second).
  cleanups.push(
    onUsageUpdate((update) => {
      if (update.agents.some((row) => row.agentId === context.agent.id)) void loadSavings();
    }),
  );
  return () => {
    for (const cleanup of cleanups) cleanup();
  };
}
