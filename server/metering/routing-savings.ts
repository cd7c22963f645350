// The savings view of cost-aware routing (#14), read from the agent-month rollups' `routing` counters (which the meter
// adds per event from its price snapshots): saved against always using the strong model, the share answered light,
// next to the quality signals that exist (errors, escalations). Arithmetic only; usage.service.ts reads the rollups.
import { microsToUsd } from '../catalog/catalog.service';
import type { UsageMonthlyDocument } from './metering.models';
import type { RoutingSummary } from '../../shared/usage-answers';

type RoutingCounters = NonNullable<UsageMonthlyDocument['routing']>;

export function routingSummaryOf(counters: RoutingCounters | null | undefined): RoutingSummary {
  const value = (name: keyof RoutingCounters) => counters?.[name] ?? 0;
  const lightRequests = value('lightRequests');
  const strongRequests = value('strongRequests');
  const routedRequests = lightRequests + strongRequests;
  const savedMicros = value('savedMicros');
  return {
    routedRequests,
    lightRequests,
    strongRequests,
    lightShare: routedRequests > 0 ? Math.round((lightRequests / routedRequests) * 10_000) / 10_000 : 0,
    savedMicros,
    savedUsd: microsToUsd(savedMicros),
    escalations: value('escalations'),
    forced: value('forced'),
    degradedRequests: value('degradedRequests'),
    fallbackRequests: value('fallbackRequests'),
    fallbackTokens: value('fallbackTokens'),
  };
}

/** Sums summaries in integer units (micro-dollars), then derives the share and dollars once. */
export function sumRoutingSummaries(summaries: readonly RoutingSummary[]): RoutingSummary {
  const total = (name: keyof RoutingCounters) => summaries.reduce((sum, summary) => sum + (summary[name as keyof RoutingSummary] as number), 0);
  return routingSummaryOf({
    lightRequests: total('lightRequests'),
    strongRequests: total('strongRequests'),
    savedMicros: total('savedMicros'),
    escalations: total('escalations'),
    forced: total('forced'),
    degradedRequests: total('degradedRequests'),
    fallbackRequests: total('fallbackRequests'),
    fallbackTokens: total('fallbackTokens'),
  });
}

/** The sentence for people: plain words for a managed plan's owner, numbers for a builder on their own key. */
export function routingSummaryWords(summary: RoutingSummary, audience: 'managed' | 'byok' | 'workspace'): string {
  if (summary.routedRequests === 0) {
    return summary.fallbackRequests > 0
      ? `${summary.fallbackRequests} request${summary.fallbackRequests === 1 ? ' was' : 's were'} answered from the fallback plan this month.`
      : 'Smart routing has not answered any request this month.';
  }
  const percent = Math.round(summary.lightShare * 100);
  const escalated = summary.escalations > 0 ? ` ${summary.escalations} conversation${summary.escalations === 1 ? '' : 's'} moved up to the most capable model.` : '';
  if (audience === 'managed') return `Smart routing answered ${percent} % of questions with the faster model.${escalated}`;
  const saved = summary.savedUsd.toFixed(summary.savedUsd < 1 ? 4 : 2);
  return `${percent} % of ${summary.routedRequests} routed requests went to the light model, saving $${saved} against always using the strong model.${escalated}`;
}
