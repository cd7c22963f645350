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

/** The last snapshot made per provider, model and plan (bounded: a custom endpoint's model names are the user's). */
const snapshots = new Map<string, PriceSnapshot>();
const MAX_SNAPSHOTS = 10_000;

/**
 * The prices a meter event is billed at. One frozen object per provider, model and plan, shared by the events that
 * use it (a new object per call lived in the meter queue until its batch was written, #20), made again whenever the
 * catalog's prices are not the ones it was made with.
 */
export function priceSnapshotFor(catalog: Catalog, provider: string, model: string, plan: Plan | undefined): PriceSnapshot {
  const catalogModel = catalog.findModel(provider, model);
  const inputUsdPerMillion = catalogModel?.inputUsdPerMillion ?? 0;
  const outputUsdPerMillion = catalogModel?.outputUsdPerMillion ?? 0;
  const overageUsdPerMillion = plan?.overageUsdPerMillion ?? 0;
  const includedTokens = plan?.includedTokens ?? 0;
  const key = `${provider}\u0000${model}\u0000${plan?.id ?? ''}`;
  const cached = snapshots.get(key);
  if (
    cached &&
    cached.inputUsdPerMillion === inputUsdPerMillion &&
    cached.outputUsdPerMillion === outputUsdPerMillion &&
    cached.overageUsdPerMillion === overageUsdPerMillion &&
    cached.includedTokens === includedTokens
  ) {
    return cached;
  }
  const snapshot: PriceSnapshot = Object.freeze({ inputUsdPerMillion, outputUsdPerMillion, overageUsdPerMillion, includedTokens });
  if (snapshots.size >= MAX_SNAPSHOTS) snapshots.clear();
  snapshots.set(key, snapshot);
  return snapshot;
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
