// Money for one call, in integer micro-dollars. `cost` is what the provider charges; `price` is the platform's bill.
import type { Catalog, Plan } from '../catalog/catalog.service';
import type { PriceSnapshot } from './metering.models';

export function monthOf(date: Date): string {
  return date.toISOString().slice(0, 7);
}

export function dayOf(date: Date): string {
  return date.toISOString().slice(0, 10);
}

/** The UTC hour "2026-11-30T14" (the activity log's index bucket). */
export function hourOf(date: Date): string {
  return date.toISOString().slice(0, 13);
}

/** tokens × USD per 1M tokens = micro-dollars; rounded half up once per component. */
export function costMicros(tokens: number, usdPerMillion: number): number {
  // usdPerMillion × 1e6 is the price in micro-dollars per million tokens; keep it integral before dividing.
  const microsPerMillion = Math.round(usdPerMillion * 1_000_000);
  return Math.round((tokens * microsPerMillion) / 1_000_000);
}

export function priceSnapshotFor(catalog: Catalog, provider: string, model: string, plan: Plan | undefined): PriceSnapshot {
  const catalogModel = catalog.findModel(provider, model);
  return {
    inputUsdPerMillion: catalogModel?.inputUsdPerMillion ?? 0,
    outputUsdPerMillion: catalogModel?.outputUsdPerMillion ?? 0,
    overageUsdPerMillion: plan?.overageUsdPerMillion ?? 0,
    includedTokens: plan?.includedTokens ?? 0,
  };
}

/**
 * Splits a call's tokens at the allowance: given the agent-month total before and after the call,
 * the tokens past the allowance. Summed over a month's calls this is exactly (total − included)⁺.
 */
export function overageTokensBetween(totalBefore: number, totalAfter: number, includedTokens: number): number {
  return Math.max(0, totalAfter - includedTokens) - Math.max(0, totalBefore - includedTokens);
}

/** Overage rates are whole dollars per 1M tokens, i.e. whole micro-dollars per token: exact. */
export function overagePriceMicros(overageTokens: number, overageUsdPerMillion: number): number {
  return overageTokens * Math.round(overageUsdPerMillion);
}
