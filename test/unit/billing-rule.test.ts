// The billing rule (docs/BILLING.md) on worked examples: prorated segments, time or use whichever is more, BYOK and
// paused time free, legacy agents without history, and the invariant amount = segments + minimums + event prices.
import { expect } from 'chai';
import { billAgentMonth, segmentFee, settingTimeline, type AgentMonthInput, type AgentMonthUsage, type ChangePoint, type PlanTerms } from '../../server/metering/billing/billing-rule';
import type { BillingSetting } from '../../server/metering/billing/plan-history';
import { projectedPlanCostMicros } from '../../server/metering/billing/plan-advisor';

const PLANS: Record<string, PlanTerms> = {
  starter: { id: 'starter', name: 'Starter', feeMicros: 5_000_000, includedTokens: 2_000_000, overageUsdPerMillion: 2 },
  pro: { id: 'pro', name: 'Pro', feeMicros: 10_000_000, includedTokens: 5_000_000, overageUsdPerMillion: 3 },
  ultra: { id: 'ultra', name: 'Ultra', feeMicros: 20_000_000, includedTokens: 10_000_000, overageUsdPerMillion: 5 },
};
const MONTH = '2026-11'; // 30 days
const at = (day: number, hour = 0) => new Date(Date.UTC(2026, 10, day, hour));
const managed = (plan: string, status: 'active' | 'paused' = 'active'): BillingSetting => ({ mode: 'managed', plan, status });
const byok: BillingSetting = { mode: 'byok', plan: null, status: 'active', provider: 'openai', model: 'gpt-4o-mini' };

function usage(byPlan: Record<string, { tokens: number; overageTokens: number }>, byokTokens = 0): AgentMonthUsage {
  const plans: AgentMonthUsage['byPlan'] = {};
  let priceTotalMicros = 0;
  let managedTokens = 0;
  let overageTokens = 0;
  for (const [plan, counters] of Object.entries(byPlan)) {
    const priceMicros = counters.overageTokens * PLANS[plan]!.overageUsdPerMillion;
    plans[plan] = { ...counters, priceMicros };
    priceTotalMicros += priceMicros;
    managedTokens += counters.tokens;
    overageTokens += counters.overageTokens;
  }
  return { tokens: managedTokens + byokTokens, managedTokens, overageTokens, priceTotalMicros, byPlan: plans, byokTokens, byokCostMicros: byokTokens };
}

function bill(changes: ChangePoint[], monthUsage: AgentMonthUsage, current?: AgentMonthInput['current']) {
  const result = billAgentMonth({ month: MONTH, agentId: 'a1', name: 'Support bot', current, changes, usage: monthUsage, plans: (id) => PLANS[id] });
  // The invariant: plan-fee segments + allowance minimums + Σ meter events' prices = amount due, to the micro-dollar.
  const segments = result.segments.reduce((total, segment) => total + segment.feeMicros, 0);
  const minimums = result.allowanceMinimums.reduce((total, line) => total + line.topUpMicros, 0);
  expect(result.amountDueMicros).to.equal(segments + minimums + monthUsage.priceTotalMicros);
  return result;
}

const created = (plan: BillingSetting, when = new Date(Date.UTC(2026, 9, 1))): ChangePoint => ({ at: when, kind: 'created', from: null, to: plan });
const change = (when: Date, from: BillingSetting, to: BillingSetting, kind: ChangePoint['kind'] = 'llm_changed'): ChangePoint => ({ at: when, kind, from, to });

describe('billing rule', () => {
  it('a whole month on one plan costs its fee exactly, and its overage as priced', () => {
    const result = bill([created(managed('pro'))], usage({ pro: { tokens: 6_000_000, overageTokens: 1_000_000 } }));
    expect(result.segments.map((segment) => [segment.plan, segment.feeMicros])).to.deep.equal([['pro', 10_000_000]]);
    expect(result.allowanceMinimums).to.deep.equal([]);
    expect(result.amountDueMicros).to.equal(10_000_000 + 3_000_000);
  });

  it('upgrade Starter → Ultra mid-month: each plan by its time, Starter at least its fee for the allowance it used up, overage already charged stays', () => {
    // The agent: 2,161,092 tokens on Starter (161,092 overage, $0.322184), then Ultra from Nov 16.
    const result = bill(
      [created(managed('starter')), change(at(16), managed('starter'), managed('ultra'))],
      usage({ starter: { tokens: 2_161_092, overageTokens: 161_092 }, ultra: { tokens: 1_000_000, overageTokens: 0 } }),
    );
    expect(result.segments.map((segment) => [segment.plan, segment.feeMicros])).to.deep.equal([['starter', 2_500_000], ['ultra', 10_000_000]]);
    expect(result.allowanceMinimums).to.have.length(1);
    expect(result.allowanceMinimums[0]).to.include({ plan: 'starter', includedUsedTokens: 2_000_000, minimumMicros: 5_000_000, topUpMicros: 2_500_000 });
    expect(result.overageMicros).to.equal(322_184);
    expect(result.amountDueMicros).to.equal(2_500_000 + 2_500_000 + 10_000_000 + 322_184);
  });

  it('downgrade Ultra → Starter: prorated fees that add up exactly across the change', () => {
    const result = bill([created(managed('ultra')), change(at(11), managed('ultra'), managed('starter'))], usage({ ultra: { tokens: 100_000, overageTokens: 0 } }));
    expect(result.segments.map((segment) => segment.feeMicros)).to.deep.equal([6_666_667, 3_333_333]);
    expect(result.planFeesMicros).to.equal(10_000_000);
  });

  it('managed → BYOK → managed: BYOK time is free; the two Pro segments tile exactly', () => {
    const result = bill(
      [created(managed('pro')), change(at(11), managed('pro'), byok), change(at(21), byok, managed('pro'))],
      usage({ pro: { tokens: 1_000_000, overageTokens: 0 } }, 3_000_000),
    );
    expect(result.segments.map((segment) => [segment.kind, segment.feeMicros])).to.deep.equal([['plan', 3_333_333], ['byok', 0], ['plan', 3_333_333]]);
    expect(result.byok).to.deep.equal({ tokens: 3_000_000, providerCostMicros: 3_000_000 });
    expect(result.amountDueMicros).to.equal(6_666_666);
  });

  it('move to Pro, use 5M tokens, move to BYOK the same day: the allowance used is still paid for', () => {
    const result = bill(
      [created(byok), change(at(10, 9), byok, managed('pro')), change(at(10, 17), managed('pro'), byok)],
      usage({ pro: { tokens: 5_000_000, overageTokens: 0 } }),
    );
    const proSegment = result.segments.find((segment) => segment.plan === 'pro')!;
    expect(proSegment.feeMicros).to.equal(111_111); // 8 hours of 720
    expect(result.allowanceMinimums[0]).to.include({ plan: 'pro', minimumMicros: 10_000_000, topUpMicros: 10_000_000 - 111_111 });
    expect(result.planFeesMicros).to.equal(10_000_000);
  });

  it('two changes in one day: a few hours on Pro between Starter segments', () => {
    const result = bill(
      [created(managed('starter')), change(at(5, 9), managed('starter'), managed('pro')), change(at(5, 17), managed('pro'), managed('starter'))],
      usage({ starter: { tokens: 10_000, overageTokens: 0 }, pro: { tokens: 20_000, overageTokens: 0 } }),
    );
    expect(result.segments.map((segment) => segment.plan)).to.deep.equal(['starter', 'pro', 'starter']);
    expect(result.segments[1]!.feeMicros).to.equal(segmentFee(10_000_000, MONTH, at(5, 9), at(5, 17)));
    const starterFees = result.segments.filter((segment) => segment.plan === 'starter').reduce((total, segment) => total + segment.feeMicros, 0);
    expect(starterFees + segmentFee(5_000_000, MONTH, at(5, 9), at(5, 17))).to.equal(5_000_000);
    expect(result.allowanceMinimums).to.deep.equal([]);
  });

  it('paused time is free, and resuming bills again', () => {
    const result = bill([created(managed('pro')), change(at(16), managed('pro'), managed('pro', 'paused'), 'paused'), change(at(26), managed('pro', 'paused'), managed('pro'), 'resumed')], usage({}));
    expect(result.segments.map((segment) => [segment.kind, segment.feeMicros])).to.deep.equal([['plan', 5_000_000], ['paused', 0], ['plan', 1_666_667]]);
  });

  it('an agent created mid-month pays from its creation; a deleted one until its deletion', () => {
    const fromMiddle = bill([created(managed('pro'), at(16))], usage({}));
    expect(fromMiddle.segments.map((segment) => [segment.from.toISOString(), segment.feeMicros])).to.deep.equal([[at(16).toISOString(), 5_000_000]]);
    const deleted = bill([created(managed('pro')), { at: at(7), kind: 'deleted', from: managed('pro'), to: null }], usage({}));
    expect(deleted.segments.map((segment) => segment.feeMicros)).to.deep.equal([2_000_000]);
    expect(deleted.lastSetting).to.equal(null);
  });

  it('an agent from before plan history bills its setting since it was created; a missed history write is healed from the live record', () => {
    const legacy = bill([], usage({}), { setting: managed('starter'), createdAt: at(11), updatedAt: at(11) });
    expect(legacy.segments.map((segment) => [segment.plan, segment.feeMicros])).to.deep.equal([['starter', 3_333_333]]);
    const firstChangeOnly = bill([change(at(16), managed('starter'), managed('pro'))], usage({}), { setting: managed('pro'), createdAt: new Date(Date.UTC(2026, 0, 1)), updatedAt: at(16) });
    expect(firstChangeOnly.segments.map((segment) => [segment.plan, segment.feeMicros])).to.deep.equal([['starter', 2_500_000], ['pro', 5_000_000]]);
    const healed = settingTimeline({ month: MONTH, changes: [created(managed('pro'))], current: { setting: managed('ultra'), createdAt: new Date(Date.UTC(2026, 9, 1)), updatedAt: at(21) } });
    expect(healed.map((piece) => [piece.setting?.plan, piece.from.toISOString()])).to.deep.equal([['pro', at(1).toISOString()], ['ultra', at(21).toISOString()]]);
  });

  it('the history from the month\'s start on bills the same as the whole history', () => {
    const full: ChangePoint[] = [
      created(managed('starter')),
      change(new Date(Date.UTC(2026, 9, 20)), managed('starter'), managed('pro')),
      change(at(16), managed('pro'), managed('ultra')),
      change(new Date(Date.UTC(2026, 11, 5)), managed('ultra'), managed('starter')),
    ];
    const current = { setting: managed('starter'), createdAt: new Date(Date.UTC(2026, 9, 1)), updatedAt: new Date(Date.UTC(2026, 11, 5)) };
    const monthUsage = usage({ pro: { tokens: 10, overageTokens: 0 } });
    const fromFull = bill(full, monthUsage, current);
    const fromMonth = bill(full.filter((entry) => entry.at.getTime() >= at(1).getTime()), monthUsage, current);
    expect(fromMonth.segments).to.deep.equal(fromFull.segments);
    expect(fromMonth.segments.map((segment) => [segment.plan, segment.feeMicros])).to.deep.equal([['pro', 5_000_000], ['ultra', 10_000_000]]);
  });

  it('a BYOK model change does not cut a segment; fees never overflow integer arithmetic', () => {
    const other: BillingSetting = { ...byok, model: 'gpt-4o' };
    const result = bill([created(byok), change(at(3), byok, other)], usage({}, 10));
    expect(result.segments).to.have.length(1);
    expect(segmentFee(2_000_000_000, MONTH, at(1), at(16))).to.equal(1_000_000_000);
  });

  it('the plan advisor prices a month by the same rule', () => {
    expect(projectedPlanCostMicros(PLANS.starter!, 2_161_092, 1)).to.equal(5_000_000 + 322_184);
    expect(projectedPlanCostMicros(PLANS.pro!, 2_161_092, 1)).to.equal(10_000_000);
    expect(projectedPlanCostMicros(PLANS.pro!, 5_000_000, 0.1)).to.equal(10_000_000);
  });
});
