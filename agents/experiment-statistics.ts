// The statistics of an A/B experiment, on simple-statistics: a two-proportion z-test for rates (thumbs up, errors),
// the Wilcoxon rank-sum (Mann-Whitney) test for skewed measures (latency, cost), the minimum sample sizes, and one plain
// sentence per comparison. Pure functions: the experiment service feeds them the samples.
import type * as SimpleStatistics from 'simple-statistics';

// Loaded on first use (an experiment's results are asked for), not at start-up: it is not needed by an idle server.
let simpleStatistics: typeof SimpleStatistics | undefined;
const stats = (): typeof SimpleStatistics => (simpleStatistics ??= require('simple-statistics') as typeof SimpleStatistics);

export const SIGNIFICANCE = 0.05;
export const POWER = 0.8;
/** The rank test's normal approximation needs this many calls per variant. */
export const MIN_CALLS_PER_VARIANT = 30;
/** The smallest difference in thumbs-up rate the ratings comparison is sized to detect (10 points). */
export const RATING_EFFECT = 0.1;

export interface TestResult {
  pValue: number;
  significant: boolean;
}

function twoSidedP(z: number): number {
  if (!Number.isFinite(z)) return 0;
  // Two-sided: P(|Z| ≥ |z|) = 1 − erf(|z| / √2) (the library's normal table stops at 0.999, too coarse for small p).
  return Math.min(1, Math.max(0, 1 - stats().errorFunction(Math.abs(z) / Math.SQRT2)));
}

/** Two-proportion z-test: successes x out of n in each group. */
export function twoProportionTest(x1: number, n1: number, x2: number, n2: number): TestResult & { rateA: number; rateB: number } {
  const rateA = n1 > 0 ? x1 / n1 : 0;
  const rateB = n2 > 0 ? x2 / n2 : 0;
  if (n1 === 0 || n2 === 0) return { rateA, rateB, pValue: 1, significant: false };
  const pooled = (x1 + x2) / (n1 + n2);
  const standardError = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  if (standardError === 0) return { rateA, rateB, pValue: 1, significant: false };
  const pValue = twoSidedP((rateB - rateA) / standardError);
  return { rateA, rateB, pValue, significant: pValue < SIGNIFICANCE };
}

/** Wilcoxon rank-sum / Mann-Whitney U, normal approximation with the tie correction. */
export function rankSumTest(a: readonly number[], b: readonly number[]): TestResult & { medianA: number; medianB: number } {
  if (a.length === 0 || b.length === 0) return { medianA: a.length ? stats().median([...a]) : 0, medianB: b.length ? stats().median([...b]) : 0, pValue: 1, significant: false };
  const rankSumA = stats().wilcoxonRankSum([...a], [...b]);
  const n1 = a.length;
  const n2 = b.length;
  const n = n1 + n2;
  const pooled = [...a, ...b].sort((x, y) => x - y);
  let tieTerm = 0;
  for (let start = 0; start < pooled.length; ) {
    let end = start + 1;
    while (end < pooled.length && pooled[end] === pooled[start]) end += 1;
    const t = end - start;
    tieTerm += t * t * t - t;
    start = end;
  }
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  const medianA = stats().median([...a]);
  const medianB = stats().median([...b]);
  if (variance <= 0) return { medianA, medianB, pValue: 1, significant: false };
  const z = (rankSumA - (n1 * (n + 1)) / 2) / Math.sqrt(variance);
  const pValue = twoSidedP(z);
  return { medianA, medianB, pValue, significant: pValue < SIGNIFICANCE };
}

/** Per-group sample size for a two-proportion test to detect `effect` around `baseline` (α = 0.05 two-sided, 80 % power). */
export function minimumSampleSize(baseline: number, effect = RATING_EFFECT): number {
  const p1 = Math.min(0.99, Math.max(0.01, baseline));
  const p2 = Math.min(0.99, Math.max(0.01, p1 + (p1 + effect <= 0.99 ? effect : -effect)));
  const zAlpha = stats().probit(1 - SIGNIFICANCE / 2);
  const zBeta = stats().probit(POWER);
  const mean = (p1 + p2) / 2;
  const numerator = zAlpha * Math.sqrt(2 * mean * (1 - mean)) + zBeta * Math.sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return Math.ceil((numerator * numerator) / ((p1 - p2) * (p1 - p2)));
}

export function percentile(values: readonly number[], p: number): number {
  return values.length === 0 ? 0 : stats().quantile([...values], p);
}

export interface VariantSamples {
  key: string;
  name: string;
  calls: number;
  errors: number;
  ratingsUp: number;
  ratingsDown: number;
  latencies: number[];
  costs: number[];
}

export interface Comparison {
  baseline: string;
  variant: string;
  cost: TestResult & { medianA: number; medianB: number; changePercent: number };
  latency: TestResult & { medianA: number; medianB: number; changePercent: number };
  errors: TestResult & { rateA: number; rateB: number };
  ratings: TestResult & { rateA: number; rateB: number };
  enoughData: boolean;
  verdict: string;
}

const changePercent = (from: number, to: number) => (from === 0 ? (to === 0 ? 0 : 100) : Math.round(((to - from) / from) * 1000) / 10);

function describeChange(subject: string, measure: 'costs' | 'is', adjectiveMore: string, adjectiveLess: string, test: TestResult & { changePercent: number }): string | undefined {
  if (!test.significant || test.changePercent === 0) return undefined;
  const amount = Math.abs(test.changePercent);
  return `${subject} ${measure} ${amount} % ${test.changePercent < 0 ? adjectiveLess : adjectiveMore}`;
}

/** Compares one variant with the baseline (the first variant) and says it in one sentence. */
export function compareVariants(baseline: VariantSamples, variant: VariantSamples): Comparison {
  const cost = rankSumTest(baseline.costs, variant.costs);
  const latency = rankSumTest(baseline.latencies, variant.latencies);
  const errors = twoProportionTest(baseline.errors, baseline.calls + baseline.errors, variant.errors, variant.calls + variant.errors);
  const ratings = twoProportionTest(baseline.ratingsUp, baseline.ratingsUp + baseline.ratingsDown, variant.ratingsUp, variant.ratingsUp + variant.ratingsDown);
  const costChange = { ...cost, changePercent: changePercent(cost.medianA, cost.medianB) };
  const latencyChange = { ...latency, changePercent: changePercent(latency.medianA, latency.medianB) };
  const totalCalls = baseline.calls + variant.calls;
  const enoughData = baseline.calls >= MIN_CALLS_PER_VARIANT && variant.calls >= MIN_CALLS_PER_VARIANT;
  const name = variant.name || variant.key;
  const found = [
    describeChange(name, 'costs', 'more', 'less', costChange),
    describeChange(name, 'is', 'slower', 'faster', latencyChange),
    errors.significant ? `${name} fails ${errors.rateB > errors.rateA ? 'more' : 'less'} often (${(errors.rateB * 100).toFixed(1)} % vs ${(errors.rateA * 100).toFixed(1)} %)` : undefined,
    ratings.significant ? `${name} is rated ${ratings.rateB > ratings.rateA ? 'better' : 'worse'} (${Math.round(ratings.rateB * 100)} % vs ${Math.round(ratings.rateA * 100)} % thumbs up)` : undefined,
  ].filter((part): part is string => part !== undefined);
  const missing = [
    costChange.significant ? undefined : 'cost',
    latencyChange.significant ? undefined : 'speed',
    ratings.significant ? undefined : 'ratings',
  ].filter((part): part is string => part !== undefined);
  let verdict: string;
  if (!enoughData) {
    verdict = `Not enough calls yet: ${Math.min(baseline.calls, variant.calls)} of the ${MIN_CALLS_PER_VARIANT} each variant needs before the comparison means anything.`;
  } else {
    const noDifference = missing.length > 0 ? `no significant difference in ${missing.join(', ').replace(/, ([^,]*)$/, ' or $1')}` : '';
    verdict = `${[...found, noDifference].filter(Boolean).join('; ')} after ${totalCalls} calls.`;
    verdict = verdict.charAt(0).toUpperCase() + verdict.slice(1);
  }
  return { baseline: baseline.key, variant: variant.key, cost: costChange, latency: latencyChange, errors, ratings, enoughData, verdict };
}
