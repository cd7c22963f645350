// Money arithmetic at large counts and awkward rates: costs rounded half up once per component, overage exact to
// the micro-dollar, and the allowance split so that a month's events sum to (total − included)⁺ × rate.
import { expect } from 'chai';
import { costMicros, overagePriceMicros, overageTokensBetween } from '../../server/metering/pricing';
import { splitOverage, sumPricing, sumRollupIncrement } from '../../server/metering/rollup-updates';

/** tokens × rate in micro-dollars, rounded half up, in exact integer arithmetic. */
function exactCostMicros(tokens: number, usdPerMillion: number): number {
  const microsPerMillion = BigInt(Math.round(usdPerMillion * 1_000_000));
  return Number((BigInt(tokens) * microsPerMillion + 500_000n) / 1_000_000n);
}

describe('pricing', () => {
  it('costs 1,000,000 tokens at $2/M as exactly 2,000,000 µ$, and other round amounts exactly', () => {
    expect(costMicros(1_000_000, 2)).to.equal(2_000_000);
    expect(costMicros(1_000_000, 0.15)).to.equal(150_000);
    expect(costMicros(1_000_000_000, 0.075)).to.equal(75_000_000);
    expect(costMicros(0, 15)).to.equal(0);
  });

  it('rounds half up once per component at awkward rates and large counts (exact integer reference)', () => {
    const rates = [0.1, 0.15, 0.2, 0.3, 0.075, 0.6, 1.1, 2.675, 0.0001, 12.345678, 75];
    const counts = [1, 3, 7, 333_333, 999_999, 1_000_001, 123_456_789, 987_654_321, 4_000_000_000];
    for (const rate of rates) for (const tokens of counts) expect(costMicros(tokens, rate), `${tokens} tokens at $${rate}/M`).to.equal(exactCostMicros(tokens, rate));
    expect(costMicros(500_000, 0.000001), 'exactly half a micro-dollar rounds up').to.equal(1);
    expect(costMicros(499_999, 0.000001)).to.equal(0);
    expect(costMicros(7, 0.15), '1.05 µ$').to.equal(1);
  });

  it('prices overage exactly: 1,000,000 overage tokens at $2/M is 2,000,000 µ$', () => {
    expect(overagePriceMicros(1_000_000, 2)).to.equal(2_000_000);
    expect(overagePriceMicros(1, 5)).to.equal(5);
    expect(overagePriceMicros(3_333_333, 3)).to.equal(9_999_999);
    expect(overagePriceMicros(10_000_000_000, 5)).to.equal(50_000_000_000);
  });

  it('splits tokens at the allowance: only the tokens past it are overage', () => {
    expect(overageTokensBetween(0, 100, 1_000)).to.equal(0);
    expect(overageTokensBetween(990, 1_015, 1_000)).to.equal(15);
    expect(overageTokensBetween(1_500, 1_600, 1_000)).to.equal(100);
    expect(overageTokensBetween(1_999_999, 3_000_000, 2_000_000)).to.equal(1_000_000);
  });
});

describe('rollup updates', () => {
  const managed = (tokens: number, included = 2_000_000, rate = 2) => ({
    mode: 'managed' as const,
    tokensInput: Math.floor(tokens / 3),
    tokensOutput: tokens - Math.floor(tokens / 3),
    priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: rate, includedTokens: included },
  });

  it('a 3,000,000-token call that starts at the allowance of 2,000,000 is billed 1,000,000 tokens at $2/M = 2,000,000 µ$', () => {
    const { pricing, includedTokens } = splitOverage([managed(3_000_000)], 0);
    expect(includedTokens).to.equal(2_000_000);
    expect(pricing).to.deep.equal([{ overageTokens: 1_000_000, priceTotalMicros: 2_000_000 }]);
  });

  it('a month of many calls sums to (total − included)⁺ × rate to the micro-dollar, with one call split at the allowance', () => {
    let running = 0;
    const all: Array<{ overageTokens: number; priceTotalMicros: number }> = [];
    let seed = 7;
    const random = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
    const groupsOf = Array.from({ length: 200 }, () => Array.from({ length: 1 + Math.floor(random() * 20) }, () => managed(1 + Math.floor(random() * 40_000), 5_000_000, 3)));
    for (const group of groupsOf) {
      const { pricing } = splitOverage(group, running);
      for (const entry of pricing) all.push(entry!);
      running += group.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0);
    }
    const total = sumPricing(all);
    expect(total.overageTokens).to.equal(Math.max(0, running - 5_000_000));
    expect(total.priceTotalMicros).to.equal(Math.max(0, running - 5_000_000) * 3);
    const firstBilled = all.findIndex((entry) => entry.overageTokens > 0);
    expect(all.slice(0, firstBilled).every((entry) => entry.overageTokens === 0)).to.equal(true);
  });

  it('BYOK events are priced 0 (no entry) and do not move the allowance of the managed ones', () => {
    const byok = { mode: 'byok' as const, tokensInput: 10, tokensOutput: 10, priceSnapshot: { inputUsdPerMillion: 1, outputUsdPerMillion: 1, overageUsdPerMillion: 0, includedTokens: 0 } };
    const { pricing } = splitOverage([byok, managed(30, 10, 5)], 0);
    expect(pricing[0]).to.equal(undefined);
    // The 20 BYOK tokens use none of the allowance: 10 of the 30 managed tokens are included (docs/BILLING.md).
    expect(pricing[1]).to.deep.equal({ overageTokens: 20, priceTotalMicros: 100 });
  });

  it('the $inc of a group: sums at large counts, releases reservations, counts errors, leaves zero paths out', () => {
    const fields = { day: '2026-11-30', costInputMicros: 150_000_000, costOutputMicros: 1_200_000_000, modelKey: 'openai:gpt-4o-mini' };
    const { increments, tokens, costMicros: cost } = sumRollupIncrement(
      [
        { event: { tokensInput: 1_000_000_000, tokensOutput: 2_000_000_000, countsAsRequest: true, reservation: { tokens: 3_000_000_100, costMicros: 1_350_000_099 } }, fields },
        { event: { tokensInput: 5, tokensOutput: 0, countsAsRequest: false }, fields: { ...fields, costInputMicros: 1, costOutputMicros: 0 } },
      ],
      2,
    );
    expect(tokens).to.equal(3_000_000_005);
    expect(cost).to.equal(1_350_000_001);
    expect(increments).to.deep.equal({
      tokensInput: 1_000_000_005,
      tokensOutput: 2_000_000_000,
      tokens: 3_000_000_005,
      requests: 1,
      costInputMicros: 150_000_001,
      costOutputMicros: 1_200_000_000,
      costTotalMicros: 1_350_000_001,
      'daily.30.tokensInput': 1_000_000_005,
      'daily.30.tokensOutput': 2_000_000_000,
      'daily.30.requests': 1,
      'byModel.openai:gpt-4o-mini.tokens': 3_000_000_005,
      'byModel.openai:gpt-4o-mini.costMicros': 1_350_000_001,
      reservedTokens: -3_000_000_100,
      reservedCostMicros: -1_350_000_099,
      errors: 2,
    });
  });
});
