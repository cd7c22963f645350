// The savings view's other sources (#15 beside #14's routing): what the response cache saved (the price of the answers
// it gave, from `savedPriceMicros` on the hit events) and, per running A/B experiment, what each variant would save per
// call against the first variant at this month's average prices. Read from the meter events on request (the routing
// counters ride the live rollups; these do not).
import { microsToUsd } from '../catalog/catalog.service';
import type { UsageSplitsService } from './usage-splits.service';

export interface CacheSavings {
  hits: number;
  calls: number;
  hitRate: number;
  savedMicros: number;
  savedUsd: number;
}

export interface ExperimentVariantSavings {
  experimentId: string;
  variant: string;
  calls: number;
  averagePriceMicros: number;
  /** (first variant's average price − this one's) × this variant's calls; 0 for the first variant itself. */
  savedVsFirstMicros: number;
  savedVsFirstUsd: number;
}

export interface SavingsSources {
  cache: CacheSavings;
  experiments: ExperimentVariantSavings[];
}

function cacheSavings(hits: number, calls: number, savedMicros: number): CacheSavings {
  return { hits, calls, hitRate: calls > 0 ? hits / calls : 0, savedMicros, savedUsd: microsToUsd(savedMicros) };
}

export async function savingsSources(splits: UsageSplitsService, workspaceId: string, month: string, agentId?: string): Promise<SavingsSources> {
  const [cache, experiments] = await Promise.all([splits.cache(workspaceId, month), splits.experiments(workspaceId, month)]);
  const cacheRows = agentId ? cache.agents.filter((row) => row.agentId === agentId) : cache.agents;
  const variants = agentId ? experiments.variants.filter((row) => row.agentId === agentId) : experiments.variants;
  const byExperiment = new Map<string, typeof variants>();
  for (const row of variants) byExperiment.set(row.experimentId, [...(byExperiment.get(row.experimentId) ?? []), row]);
  const experimentSavings: ExperimentVariantSavings[] = [];
  for (const rows of byExperiment.values()) {
    const average = (row: (typeof rows)[number]) => (row.calls > 0 ? Math.round(row.priceMicros / row.calls) : 0);
    const first = rows[0]!;
    for (const row of rows) {
      const savedVsFirstMicros = row === first || row.calls === 0 ? 0 : (average(first) - average(row)) * row.calls;
      experimentSavings.push({ experimentId: row.experimentId, variant: row.variant, calls: row.calls, averagePriceMicros: average(row), savedVsFirstMicros, savedVsFirstUsd: microsToUsd(savedVsFirstMicros) });
    }
  }
  return {
    cache: cacheSavings(
      cacheRows.reduce((sum, row) => sum + row.cacheHits, 0),
      cacheRows.reduce((sum, row) => sum + row.calls, 0),
      cacheRows.reduce((sum, row) => sum + row.savedPriceMicros, 0),
    ),
    experiments: experimentSavings,
  };
}

/** The cache's sentence for the savings summary (empty when it answered nothing). */
export function cacheSavingsWords(cache: CacheSavings, audience: 'managed' | 'byok' | 'workspace'): string {
  if (cache.hits === 0) return '';
  const answers = `${cache.hits} answer${cache.hits === 1 ? '' : 's'}`;
  if (audience === 'managed') return ` The answer cache gave ${answers} without using the plan.`;
  return ` The answer cache gave ${answers}, saving $${cache.savedUsd.toFixed(cache.savedUsd < 1 ? 4 : 2)}.`;
}
