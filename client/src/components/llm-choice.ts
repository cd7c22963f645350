// One control for "Choose a plan" or "Use my own key", used when creating an agent and when switching later.
import { h, uniqueId } from '../dom';
import type { AgentLlm, Plan, PlanId, Provider } from '../types';
import { byokForm, type ByokForm } from './byok-form';
import { planPicker, type PlanPicker } from './plan-picker';

export interface LlmChoice {
  element: HTMLElement;
  mode(): 'managed' | 'byok';
  plan: PlanPicker;
  byok: ByokForm;
}

export function llmChoice(plans: Plan[], providers: Provider[], options: { current?: AgentLlm | null; recommended?: PlanId | null; allowByok?: boolean; workspaceId?: string }): LlmChoice {
  const name = uniqueId('mode');
  const current = options.current ?? null;
  const plan = planPicker(plans, {
    selected: current?.mode === 'managed' ? current.plan : options.recommended ?? null,
    recommended: options.recommended ?? null,
    legend: 'Choose a plan',
  });
  const byok = byokForm(providers, current?.mode === 'byok' ? current : null, { workspaceId: options.workspaceId });
  const segment = (value: 'managed' | 'byok', label: string, description: string) => {
    const radio = h('input', { type: 'radio', name, value, class: 'visually-hidden', checked: (current?.mode ?? 'managed') === value });
    radio.addEventListener('change', sync);
    return { radio, label: h('label', { class: 'segment', dataset: { mode: value } }, radio, h('span', { class: 'segment-title' }, label), h('span', { class: 'segment-description' }, description)) };
  };
  const managed = segment('managed', 'Choose a plan', 'Simple monthly price, we run the AI for you.');
  const own = segment('byok', 'Use my own key', 'Bring an API key from OpenAI, Anthropic, Mistral…');
  const planPanel = h('div', { class: 'mode-panel' }, plan.element);
  const byokPanel = h('div', { class: 'mode-panel' }, byok.element);

  function sync(): void {
    const isByok = own.radio.checked;
    planPanel.hidden = isByok;
    byokPanel.hidden = !isByok;
  }
  sync();
  const allowByok = options.allowByok !== false;
  const element = h(
    'div',
    { class: 'llm-choice stack' },
    allowByok ? h('fieldset', { class: 'segments' }, h('legend', { class: 'visually-hidden' }, 'How the agent runs'), managed.label, own.label) : null,
    planPanel,
    allowByok ? byokPanel : null,
  );
  return { element, mode: () => (own.radio.checked ? 'byok' : 'managed'), plan, byok };
}
