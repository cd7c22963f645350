// The monthly limit of an agent, in the unit its owner thinks in: a managed plan's limit in conversations or in
// dollars a month (plan fee + extra usage), an own key's budget in dollars. Stored as the API's token cap / budget.
import { api, ApiError } from '../../api';
import { h, uniqueId } from '../../dom';
import { errorMessage, field, formMessage, input, withBusy } from '../../forms';
import { formatInteger, formatUsd } from '../../format';
import { conversationsForTokens, tokensForConversations } from '../../components/plain-usage';
import { can } from '../../session';
import type { Plan } from '../../types';
import type { Context } from './tab-context';

type Unit = 'conversations' | 'dollars';

/** The token cap that keeps a month's bill at or under `dollars`: the plan fee, then extra usage at the overage rate. */
export function capForDollars(plan: Plan, dollars: number): number {
  return plan.includedTokens + Math.floor(((dollars - plan.priceUsd) / plan.overageUsdPerMillion) * 1_000_000);
}

export function dollarsForCap(plan: Plan, cap: number): number {
  return plan.priceUsd + (Math.max(0, cap - plan.includedTokens) * plan.overageUsdPerMillion) / 1_000_000;
}

export function limitSection(context: Context, onSaved: () => void): HTMLElement {
  const agent = context.agent;
  const owner = can('owner');
  const message = formMessage();
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save limit');
  const footer = owner ? h('div', { class: 'form-actions' }, message.element, save) : h('p', { class: 'muted small' }, 'Only workspace owners can change limits.');

  if (agent.llm.mode === 'byok') {
    const budget = input({ type: 'number', name: 'monthlyBudgetUsd', min: '1', step: '1', inputMode: 'decimal', readOnly: !owner });
    budget.value = agent.limits.monthlyBudgetUsd === null ? '' : String(agent.limits.monthlyBudgetUsd);
    const built = field('Monthly budget (USD)', budget, { hint: 'Calls stop when the estimated provider cost reaches this. Empty = no budget.' });
    const form = h('form', { class: 'stack', novalidate: true }, built.element, footer);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      built.setError(null);
      message.show(null);
      const raw = budget.value.trim();
      const value = raw === '' ? null : Number(raw);
      if (value !== null && (!Number.isFinite(value) || value <= 0)) return built.setError('Enter a positive amount, or leave it empty for no budget.');
      await submit({ monthlyBudgetUsd: value }, built.setError);
    });
    return h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Limits'), form);
  }

  const plan = context.plans.find((candidate) => candidate.id === (agent.llm as { plan: string }).plan);
  const name = uniqueId('limit-unit');
  let unit: Unit = 'conversations';
  const amount = input({ type: 'number', name: 'monthlyLimit', min: '1', step: '1', inputMode: 'decimal', readOnly: !owner });
  const built = field('Monthly limit', amount, { hint: ' ' });
  const hint = built.element.querySelector('.field-hint') as HTMLElement;
  const unitRadio = (value: Unit, label: string) => {
    const radio = h('input', { type: 'radio', name, value, checked: value === unit, disabled: !owner });
    radio.addEventListener('change', () => radio.checked && setUnit(value));
    return h('label', { class: 'radio-inline' }, radio, ` ${label}`);
  };
  const units = h('fieldset', { class: 'limit-unit' }, h('legend', { class: 'visually-hidden' }, 'Limit in'), unitRadio('conversations', 'Conversations a month'), plan ? unitRadio('dollars', 'Dollars a month') : null);

  function setUnit(next: Unit): void {
    unit = next;
    const cap = context.agent.limits.monthlyTokenCap;
    built.setError(null);
    if (unit === 'conversations') {
      amount.step = '10';
      amount.value = cap === null ? '' : String(conversationsForTokens(cap));
      hint.textContent = `Calls stop after about this many conversations in a month${plan ? ` (the plan includes about ${formatInteger(conversationsForTokens(plan.includedTokens))})` : ''}. Empty = no limit.`;
    } else if (plan) {
      amount.step = '1';
      amount.value = cap === null ? '' : String(Math.round(dollarsForCap(plan, cap) * 100) / 100);
      hint.textContent = `Calls stop before the month’s bill for this agent passes this amount: the plan fee (${formatUsd(plan.priceUsd)}) plus extra usage. Empty = no limit.`;
    }
  }
  setUnit('conversations');

  const form = h('form', { class: 'stack', novalidate: true }, units, built.element, footer);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    built.setError(null);
    message.show(null);
    const raw = amount.value.trim();
    if (raw === '') return submit({ monthlyTokenCap: null }, built.setError);
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) return built.setError('Enter a positive number, or leave it empty for no limit.');
    if (unit === 'dollars' && plan) {
      if (value < plan.priceUsd) return built.setError(`The plan fee alone is ${formatUsd(plan.priceUsd)} a month; set at least that.`);
      return submit({ monthlyTokenCap: capForDollars(plan, value) }, built.setError);
    }
    return submit({ monthlyTokenCap: Math.max(1, tokensForConversations(value)) }, built.setError);
  });
  return h('section', { class: 'card section' }, h('h2', { class: 'section-title' }, 'Limits'), form);

  async function submit(limits: Record<string, number | null>, setError: (message: string | null) => void): Promise<void> {
    try {
      const updated = await withBusy(save, 'Saving…', () => api.patchAgent(context.workspace, agent.id, { limits }));
      context.setAgent(updated);
      onSaved();
      message.show('Limit saved.', 'success');
    } catch (error) {
      if (error instanceof ApiError) setError(error.message);
      else message.show(errorMessage(error));
    }
  }
}
