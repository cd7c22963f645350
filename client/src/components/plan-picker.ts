// Three plan cards in plain words (no model names, no "tokens"): a radio group, Pro marked popular.
import { h, uniqueId } from '../dom';
import { conversationsFor, formatPrice } from '../format';
import type { Plan, PlanId } from '../types';

export interface PlanPicker {
  element: HTMLFieldSetElement;
  value(): PlanId | null;
  setValue(plan: PlanId): void;
  setError(message: string | null): void;
}

export function planPicker(plans: Plan[], options: { selected?: PlanId | null; legend?: string; recommended?: PlanId | null; onChange?: (plan: PlanId) => void } = {}): PlanPicker {
  const name = uniqueId('plan');
  const largest = Math.max(...plans.map((plan) => plan.includedTokens));
  const radios: HTMLInputElement[] = [];
  const error = h('p', { class: 'field-error', id: `${name}-error`, hidden: true });

  const cards = plans.map((plan) => {
    const radio = h('input', { type: 'radio', name, value: plan.id, class: 'visually-hidden', checked: plan.id === options.selected, 'aria-describedby': `${name}-${plan.id}-details` });
    radio.addEventListener('change', () => {
      if (radio.checked) options.onChange?.(plan.id);
    });
    radios.push(radio);
    const share = Math.max(6, Math.round((plan.includedTokens / largest) * 100));
    return h(
      'label',
      { class: `plan-card${plan.popular ? ' popular' : ''}`, dataset: { plan: plan.id } },
      radio,
      h(
        'span',
        { class: 'plan-card-top' },
        h('span', { class: 'plan-name' }, plan.name),
        plan.popular ? h('span', { class: 'badge badge-popular' }, 'Popular') : null,
        options.recommended === plan.id && !plan.popular ? h('span', { class: 'badge badge-neutral' }, 'Suggested') : null,
        options.recommended === plan.id && plan.popular ? h('span', { class: 'badge badge-neutral' }, 'Suggested') : null,
      ),
      h('span', { class: 'plan-price' }, h('span', { class: 'plan-amount' }, formatPrice(plan.priceUsd)), h('span', { class: 'plan-period' }, ' / month per agent')),
      h(
        'span',
        { class: 'plan-details', id: `${name}-${plan.id}-details` },
        h('span', { class: 'plan-description' }, plan.description),
        h(
          'span',
          { class: 'plan-usage' },
          h('span', { class: 'plan-usage-label' }, 'Included usage'),
          h('span', { class: 'bar bar-plan', 'aria-hidden': 'true' }, h('span', { class: 'bar-fill', style: { width: `${share}%` } })),
          h('span', { class: 'plan-usage-text' }, `About ${conversationsFor(plan.includedTokens)} conversations a month`),
        ),
        h('span', { class: 'plan-extra' }, `Need more? About $${plan.overageUsdPerMillion} per 1,000 extra conversations — we alert you first.`),
      ),
      h('span', { class: 'plan-check', 'aria-hidden': 'true' }),
    );
  });

  const element = h(
    'fieldset',
    { class: 'plan-picker', 'aria-describedby': `${name}-error` },
    h('legend', { class: 'field-label' }, options.legend ?? 'Choose a plan'),
    h('div', { class: 'plan-grid' }, cards),
    error,
  );
  return {
    element,
    value: () => (radios.find((radio) => radio.checked)?.value as PlanId | undefined) ?? null,
    setValue(plan) {
      for (const radio of radios) radio.checked = radio.value === plan;
    },
    setError(message) {
      error.textContent = message ?? '';
      error.hidden = !message;
    },
  };
}
