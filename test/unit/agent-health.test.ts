// agents/agent-health.ts: which state wins when several apply, and what each one lets the agent do.
import { expect } from 'chai';
import { computeAgentHealth, type HealthSubject } from '../../agents/agent-health';
import { ProviderOutages } from '../../agents/provider-outages';

const managed = (over: Partial<HealthSubject> = {}): HealthSubject => ({
  id: 'a1',
  status: 'active',
  llm: { mode: 'managed', plan: 'pro' },
  limits: { monthlyTokenCap: null, monthlyBudgetUsd: null },
  sandbox: false,
  ...over,
});
const byok = (keyStatus: string, over: Partial<HealthSubject> = {}): HealthSubject =>
  managed({ llm: { mode: 'byok', key: { status: keyStatus } }, ...over });
const facts = { tokens: 0, costMicros: 0, planServable: true, providerFailingSince: undefined as Date | undefined };

describe('agent health', () => {
  it('is active, or sandbox on the simulator, when nothing is wrong', () => {
    expect(computeAgentHealth(managed(), facts)).to.include({ state: 'active', canRun: true, fix: null });
    expect(computeAgentHealth(managed({ sandbox: true }), facts)).to.include({ state: 'sandbox', canRun: true });
  });

  it('puts paused first, then a rejected key, no credit, a reached limit, then provider trouble, then sandbox', () => {
    const everything = { ...facts, tokens: 10, costMicros: 5_000_000, planServable: false, providerFailingSince: new Date() };
    expect(computeAgentHealth(byok('invalid', { status: 'paused', sandbox: true }), everything).state).to.equal('paused');
    expect(computeAgentHealth(byok('invalid', { limits: { monthlyTokenCap: null, monthlyBudgetUsd: 1 }, sandbox: true }), everything).state).to.equal('key_rejected');
    expect(computeAgentHealth(byok('quota_exceeded', { limits: { monthlyTokenCap: null, monthlyBudgetUsd: 1 } }), everything).state).to.equal('out_of_credit');
    expect(computeAgentHealth(byok('valid', { limits: { monthlyTokenCap: null, monthlyBudgetUsd: 5 } }), everything).state).to.equal('cap_reached');
    expect(computeAgentHealth(byok('valid', { limits: { monthlyTokenCap: null, monthlyBudgetUsd: 5.01 } }), everything).state).to.equal('provider_down');
    expect(computeAgentHealth(managed({ limits: { monthlyTokenCap: 10, monthlyBudgetUsd: null } }), everything).state).to.equal('cap_reached');
    expect(computeAgentHealth(managed({ limits: { monthlyTokenCap: 11, monthlyBudgetUsd: null }, sandbox: true }), everything).state).to.equal('provider_down');
  });

  it('a BYOK budget does not cap a managed agent, nor a token cap a BYOK one', () => {
    const used = { ...facts, tokens: 1_000_000, costMicros: 9_000_000 };
    expect(computeAgentHealth(managed({ limits: { monthlyTokenCap: null, monthlyBudgetUsd: 1 } }), used).state).to.equal('active');
    expect(computeAgentHealth(byok('valid', { limits: { monthlyTokenCap: 10, monthlyBudgetUsd: null } }), used).state).to.equal('active');
  });

  it('refusing states cannot run and name their fix and who makes it; provider trouble can still run', () => {
    expect(computeAgentHealth(managed({ status: 'paused' }), facts)).to.deep.include({ canRun: false, fix: { tab: 'settings', label: 'Resume it in Settings', role: 'builder' } });
    expect(computeAgentHealth(byok('invalid'), facts).fix).to.deep.equal({ tab: 'setting', label: 'Replace the key in AI setting', role: 'builder' });
    expect(computeAgentHealth(managed({ limits: { monthlyTokenCap: 1, monthlyBudgetUsd: null } }), { ...facts, tokens: 1 }).fix!.role).to.equal('owner');
    expect(computeAgentHealth(byok('unreachable'), facts)).to.include({ state: 'provider_down', canRun: true });
  });

  it('remembers a provider outage until a success or the end of its window', () => {
    const outages = new ProviderOutages(1000);
    outages.recordFailure('a1', 5000);
    expect(outages.failingSince('a1', 5500)?.getTime()).to.equal(5000);
    expect(outages.failingSince('a1', 6001)).to.equal(undefined);
    outages.recordFailure('a1', 7000);
    outages.recordSuccess('a1');
    expect(outages.failingSince('a1', 7001)).to.equal(undefined);
  });
});
