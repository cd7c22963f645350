// The plan advisor in plain words: "not enough data yet" before 3 days, then the cheapest plan at this pace and by how much.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { loadCatalog } from '../../server/catalog/catalog.service';
import { adviseOnPlan } from '../../server/metering/billing/plan-advisor';
import type { BilledAgentRecord } from '../../server/metering/billing/workspace-bills';

const catalog = loadCatalog();
const agent = (plan: string | null, createdAt = new Date(Date.UTC(2026, 9, 1))): BilledAgentRecord => ({
  _id: new Types.ObjectId(),
  name: 'Support bot',
  status: 'active',
  llm: plan ? { mode: 'managed', plan } : { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini' },
  createdAt,
  updatedAt: createdAt,
});
const advise = (plan: string | null, managedTokens: number, now: Date, createdAt?: Date) =>
  adviseOnPlan({ month: '2026-11', now, agent: agent(plan, createdAt), rollup: { managedTokens }, changes: [], catalog });

describe('plan advisor', () => {
  it('says "not enough data yet" for the first 3 days of the month, or of a new agent', () => {
    const early = advise('starter', 1_000_000, new Date(Date.UTC(2026, 10, 2, 12)));
    expect(early.status).to.equal('not_enough_data');
    expect(early.message).to.equal('Not enough data yet. After 3 days of use we can tell you which plan is cheapest (check back in 2 days).');
    const newAgent = advise('starter', 1_000_000, new Date(Date.UTC(2026, 10, 20)), new Date(Date.UTC(2026, 10, 19)));
    expect(newAgent.status).to.equal('not_enough_data');
  });

  it('names a cheaper plan and by how much, in plain words', () => {
    const heavy = advise('pro', 5_000_000, new Date(Date.UTC(2026, 10, 11)));
    // 5M tokens in 10 of 30 days → 15M projected: Starter $5 + 13M × $2 = $31; Pro $10 + 10M × $3 = $40; Ultra $20 + 5M × $5 = $45.
    expect(heavy.status).to.equal('cheaper_plan');
    expect(heavy.bestPlan).to.equal('starter');
    expect(heavy.savingsUsd).to.equal(9);
    expect(heavy.message).to.equal('At this pace Starter would cost you $9.00 less this month than Pro ($31.00 instead of $40.00).');
  });

  it('says when the current plan is already the cheapest', () => {
    const light = advise('starter', 100_000, new Date(Date.UTC(2026, 10, 11)));
    expect(light.status).to.equal('cheapest_already');
    expect(light.message).to.equal('Starter is already the cheapest plan for how this agent is used (about $5.00 this month). The next cheapest, Pro, would cost $5.00 more.');
  });

  it('has nothing to compare for a BYOK agent', () => {
    expect(advise(null, 0, new Date(Date.UTC(2026, 10, 20))).status).to.equal('not_managed');
  });
});
