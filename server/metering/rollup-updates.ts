// What one rollup group adds to its agent-month rollup, and how the allowance splits its events: arithmetic, no I/O.
import type { MeterEventInput } from './meter.types';
import { overagePriceMicros, overageTokensBetween } from './pricing';

/** One event of a rollup group, with the fields worked out once for it. */
export interface RollupEntry {
  event: Pick<MeterEventInput, 'tokensInput' | 'tokensOutput' | 'countsAsRequest' | 'reservation' | 'routing' | 'fallback' | 'degraded'> & Partial<Pick<MeterEventInput, 'mode' | 'plan'>>;
  fields: { day: string; costInputMicros: number; costOutputMicros: number; modelKey: string };
}

export interface RollupIncrement {
  /** The `$inc` document; paths that would not change are left out. */
  increments: Record<string, number>;
  tokens: number;
  costMicros: number;
  /** Tokens of the group's managed events: what counts against a plan's allowance (BYOK tokens never do). */
  managedTokens: number;
}

export function sumRollupIncrement(entries: readonly RollupEntry[], errors: number): RollupIncrement {
  const increments: Record<string, number> = {};
  const add = (path: string, value: number) => {
    if (value !== 0) increments[path] = (increments[path] ?? 0) + value;
  };
  let groupTokens = 0;
  let groupCost = 0;
  let groupManagedTokens = 0;
  for (const { event, fields } of entries) {
    const tokens = event.tokensInput + event.tokensOutput;
    const costInput = fields.costInputMicros;
    const costOutput = fields.costOutputMicros;
    groupTokens += tokens;
    groupCost += costInput + costOutput;
    add('tokensInput', event.tokensInput);
    add('tokensOutput', event.tokensOutput);
    add('tokens', tokens);
    add('requests', event.countsAsRequest ? 1 : 0);
    add('costInputMicros', costInput);
    add('costOutputMicros', costOutput);
    add('costTotalMicros', costInput + costOutput);
    const day = fields.day.slice(8, 10);
    add(`daily.${day}.tokensInput`, event.tokensInput);
    add(`daily.${day}.tokensOutput`, event.tokensOutput);
    add(`daily.${day}.requests`, event.countsAsRequest ? 1 : 0);
    const byModel = fields.modelKey;
    add(`byModel.${byModel}.tokens`, tokens);
    add(`byModel.${byModel}.costMicros`, costInput + costOutput);
    // Billing (server/billing): the allowance counts managed tokens only, and each plan's share of them.
    if (event.mode === 'managed') {
      groupManagedTokens += tokens;
      add('managedTokens', tokens);
      if (event.plan) add(`byPlan.${event.plan}.tokens`, tokens);
    } else if (event.mode === 'byok') {
      add('byokTokens', tokens);
      add('byokCostMicros', costInput + costOutput);
    }
    if (event.reservation) {
      add('reservedTokens', -event.reservation.tokens);
      add('reservedCostMicros', -event.reservation.costMicros);
    }
    // Cost-aware routing (#14): the savings view's counters.
    const answered = event.countsAsRequest ? 1 : 0;
    if (event.routing) {
      add(event.routing.tier === 'light' ? 'routing.lightRequests' : 'routing.strongRequests', answered);
      add('routing.savedMicros', event.routing.savedMicros ?? 0);
      if (event.routing.escalated) add('routing.escalations', answered);
      if (event.routing.forced) add('routing.forced', answered);
    }
    if (event.degraded === 'light_model') add('routing.degradedRequests', answered);
    if (event.fallback) {
      add('routing.fallbackRequests', answered);
      add('routing.fallbackTokens', tokens);
    }
  }
  add('errors', errors);
  return { increments, tokens: groupTokens, costMicros: groupCost, managedTokens: groupManagedTokens };
}

export interface EventPricing {
  overageTokens: number;
  priceTotalMicros: number;
}

export interface OverageSplit {
  /** Per event, in order; undefined for a BYOK event (priced 0). */
  pricing: Array<EventPricing | undefined>;
  /** The allowance of the group's last managed event; 0 when it has none. */
  includedTokens: number;
}

/**
 * The atomic $inc gave the group a disjoint slice [managedTokensBefore, + its managed tokens] of the month's managed
 * tokens: each managed event is split at its plan's allowance inside that slice (BYOK tokens take no part), so a month
 * on one plan sums to (managed total − included)⁺ × rate. See docs/BILLING.md.
 */
export function splitOverage(
  events: ReadonlyArray<Pick<MeterEventInput, 'mode' | 'tokensInput' | 'tokensOutput' | 'priceSnapshot' | 'fallback'>>,
  managedTokensBefore: number,
): OverageSplit {
  let running = managedTokensBefore;
  let includedTokens = 0;
  const pricing = events.map((event): EventPricing | undefined => {
    const tokens = event.tokensInput + event.tokensOutput;
    let eventPricing: EventPricing | undefined;
    // A consented BYOK → managed fallback (#14) is priced like overage: its snapshot has no included tokens.
    if (event.mode === 'managed' || event.fallback) {
      if (event.mode === 'managed') includedTokens = event.priceSnapshot.includedTokens;
      const overageTokens = event.fallback ? tokens : overageTokensBetween(running, running + tokens, includedTokens);
      eventPricing = { overageTokens, priceTotalMicros: overagePriceMicros(overageTokens, event.priceSnapshot.overageUsdPerMillion) };
      // Only managed tokens move through the allowance (a fallback's are all overage and are not counted in managedTokens).
      if (event.mode === 'managed') running += tokens;
    }
    return eventPricing;
  });
  return { pricing, includedTokens };
}

/** What a group's priced events add to the rollup's overage. */
export function sumPricing(pricing: readonly EventPricing[]): EventPricing {
  return {
    overageTokens: pricing.reduce((total, item) => total + item.overageTokens, 0),
    priceTotalMicros: pricing.reduce((total, item) => total + item.priceTotalMicros, 0),
  };
}
