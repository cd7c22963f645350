// The experiment statistics on synthetic data: a known difference is found, no difference is not; assignment is
// deterministic and the split holds over 10,000 simulated users.
import { expect } from 'chai';
import { compareVariants, minimumSampleSize, rankSumTest, twoProportionTest, type VariantSamples } from '../../agents/experiment-statistics';
import { assignmentPoint, assignmentUnitValue, pickVariant } from '../../agents/experiment-assignment';

/** A small seeded generator (mulberry32), so the synthetic samples are the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Log-normal samples (skewed, like latency and cost) around a median. */
function logNormal(next: () => number, count: number, medianValue: number): number[] {
  return Array.from({ length: count }, () => {
    const u = Math.max(1e-12, next());
    const v = next();
    const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.round(medianValue * Math.exp(0.5 * normal));
  });
}

function variant(key: string, fields: Partial<VariantSamples>): VariantSamples {
  return { key, name: key, calls: 0, errors: 0, ratingsUp: 0, ratingsDown: 0, latencies: [], costs: [], ...fields };
}

describe('experiment statistics', () => {
  it('finds a known cost difference (B costs ~38 % less) and says so in plain words', () => {
    const next = random(42);
    // The same latencies in another order: no difference in speed by construction.
    const latencies = logNormal(next, 206, 800);
    const a = variant('A', { calls: 206, costs: logNormal(next, 206, 1000), latencies, ratingsUp: 80, ratingsDown: 20 });
    const b = variant('B', { calls: 206, costs: logNormal(next, 206, 620), latencies: [...latencies].reverse(), ratingsUp: 79, ratingsDown: 21 });
    const comparison = compareVariants(a, b);
    expect(comparison.cost.significant).to.equal(true);
    expect(comparison.cost.pValue).to.be.below(0.001);
    expect(comparison.cost.changePercent).to.be.within(-50, -25);
    expect(comparison.ratings.significant).to.equal(false);
    expect(comparison.latency.significant).to.equal(false);
    expect(comparison.verdict).to.match(/^B costs \d+(\.\d)? % less; no significant difference in speed or ratings after 412 calls\.$/);
  });

  it('finds no difference when there is none', () => {
    const next = random(7);
    const a = variant('A', { calls: 300, costs: logNormal(next, 300, 1000), latencies: logNormal(next, 300, 500), errors: 6, ratingsUp: 50, ratingsDown: 50 });
    const b = variant('B', { calls: 300, costs: logNormal(next, 300, 1000), latencies: logNormal(next, 300, 500), errors: 7, ratingsUp: 52, ratingsDown: 48 });
    const comparison = compareVariants(a, b);
    expect(comparison.cost.significant).to.equal(false);
    expect(comparison.latency.significant).to.equal(false);
    expect(comparison.errors.significant).to.equal(false);
    expect(comparison.ratings.significant).to.equal(false);
    expect(comparison.verdict).to.equal('No significant difference in cost, speed or ratings after 600 calls.');
  });

  it('says when there are not enough calls yet', () => {
    const comparison = compareVariants(variant('A', { calls: 5, costs: [1, 2, 3, 4, 5] }), variant('B', { calls: 4, costs: [1, 2, 3, 4] }));
    expect(comparison.enoughData).to.equal(false);
    expect(comparison.verdict).to.match(/^Not enough calls yet: 4 of the 30/);
  });

  it('two-proportion test and rank-sum test agree with textbook values', () => {
    // 45/100 vs 60/100: z ≈ 2.12, p ≈ 0.034.
    const proportions = twoProportionTest(45, 100, 60, 100);
    expect(proportions.pValue).to.be.within(0.03, 0.04);
    expect(proportions.significant).to.equal(true);
    expect(twoProportionTest(0, 0, 3, 10).pValue).to.equal(1);
    // Fully separated samples of 10: clearly significant; identical samples: p = 1.
    const separated = rankSumTest([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    expect(separated.pValue).to.be.below(0.001);
    expect(rankSumTest([5, 5, 5], [5, 5, 5]).pValue).to.equal(1);
    // 80 % vs 90 % needs about 200 per group at α 0.05 and 80 % power.
    expect(minimumSampleSize(0.8)).to.be.within(190, 210);
  });

  it('assignment: the same end user always gets the same variant; the split holds over 10,000 users', () => {
    const variants = [
      { key: 'A', weight: 70 },
      { key: 'B', weight: 20 },
      { key: 'C', weight: 10 },
    ];
    const experimentId = '65a000000000000000000001';
    const counts: Record<string, number> = { A: 0, B: 0, C: 0 };
    for (let user = 0; user < 10_000; user += 1) {
      const unit = assignmentUnitValue('user', { requestId: `req_${user}`, endUser: `user-${user}`, messages: [] });
      const first = pickVariant(variants, assignmentPoint(experimentId, unit)).key;
      const again = pickVariant(variants, assignmentPoint(experimentId, assignmentUnitValue('user', { requestId: `other_${user}`, endUser: `user-${user}`, messages: [] }))).key;
      expect(again).to.equal(first);
      counts[first]! += 1;
    }
    // Within 2 percentage points of the split (the binomial standard deviation at 10,000 is under 0.5 point).
    expect(counts.A! / 10_000).to.be.within(0.68, 0.72);
    expect(counts.B! / 10_000).to.be.within(0.18, 0.22);
    expect(counts.C! / 10_000).to.be.within(0.08, 0.12);
    // Another experiment shuffles users independently.
    const moved = Array.from({ length: 1000 }, (_, user) => user).filter(
      (user) => pickVariant(variants, assignmentPoint(experimentId, `user:user-${user}`)).key !== pickVariant(variants, assignmentPoint('65a000000000000000000002', `user:user-${user}`)).key,
    );
    expect(moved.length).to.be.greaterThan(200);
  });

  it('assignment by conversation follows the conversation id or its opening message; without a user it falls back to the request', () => {
    const opening = [{ role: 'user', content: 'Hello there' }];
    const later = [...opening, { role: 'assistant', content: 'Hi' }, { role: 'user', content: 'Next question' }];
    expect(assignmentUnitValue('conversation', { requestId: 'r1', messages: opening })).to.equal(assignmentUnitValue('conversation', { requestId: 'r2', messages: later }));
    expect(assignmentUnitValue('conversation', { requestId: 'r1', messages: opening, metadata: { conversation_id: 'c-9' } })).to.equal('conversation:c-9');
    expect(assignmentUnitValue('user', { requestId: 'r1', messages: opening })).to.equal('request:r1');
    expect(assignmentUnitValue('request', { requestId: 'r1', endUser: 'u', messages: opening })).to.equal('request:r1');
  });
});
