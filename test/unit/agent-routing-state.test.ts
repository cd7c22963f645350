// An agent's routing state (#20) is derived once per agent document and derived again for another document, another
// version of it, or an experiment's variant; the BYOK light key stays sealed in it (opened per call by its credential).
import crypto from 'node:crypto';
import os from 'node:os';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { AgentRoutingStates } from '../../agents/agent-routing-state';
import type { AgentDocument } from '../../agents/agent.model';
import { loadCatalog } from '../../server/catalog/catalog.service';
import { loadConfig } from '../../server/config/config';
import { ProviderRoutes } from '../../server/llm/provider-routes';
import { createVault } from '../../server/vault/vault.service';

describe('agent routing state', () => {
  const catalog = loadCatalog();
  const config = loadConfig({ DATA_DIR: os.tmpdir(), JWT_SECRET: crypto.randomBytes(48).toString('base64url'), VAULT_KEYS: `k1:${crypto.randomBytes(32).toString('base64')}` });
  let states: AgentRoutingStates;
  let vault: Awaited<ReturnType<typeof createVault>>;
  const agentId = new Types.ObjectId();
  const workspaceId = new Types.ObjectId();

  before(async () => {
    vault = await createVault(config.vaultKeys);
    states = new AgentRoutingStates({ catalog, routing: new ProviderRoutes(config), vault });
  });

  const agentWith = (changes: { updatedAt?: Date; setting?: 'balanced' | 'savings' | null; lightModel?: string; limits?: AgentDocument['limits'] } = {}): AgentDocument => {
    const binding = { workspaceId: workspaceId.toString(), agentId: agentId.toString(), provider: 'openai' };
    return {
      _id: agentId,
      workspaceId,
      name: 'Router',
      updatedAt: changes.updatedAt ?? new Date('2026-12-01T10:00:00Z'),
      llm: {
        mode: 'byok',
        provider: 'openai',
        model: 'gpt-4o',
        light: { provider: 'openai', model: changes.lightModel ?? 'gpt-4o-mini', baseUrl: null, sealedKey: vault.seal('sk-light-routing-state-0001', binding), keyMask: 'sk-…0001', keyStatus: 'valid' },
      },
      routing: { setting: changes.setting === undefined ? 'balanced' : changes.setting, alwaysStrong: false, fallbackPlan: null, degrade: false },
      limits: changes.limits ?? { monthlyTokenCap: null, monthlyBudgetMicros: null },
    } as unknown as AgentDocument;
  };

  it('is derived once per agent document and reused by its later calls', () => {
    const agent = agentWith();
    const state = states.of(agent);
    expect(state.effective).to.include({ setting: 'balanced', lightAvailable: true });
    expect(state.light?.model.id).to.equal('gpt-4o-mini');
    expect(states.of(agent)).to.equal(state);
    expect(states.strongPrice(state, 'openai', 'gpt-4o')).to.deep.equal({ inputUsdPerMillion: 2.5, outputUsdPerMillion: 10 });
    expect(states.strongPrice(state, 'openai', 'gpt-4o')).to.equal(states.strongPrice(state, 'openai', 'gpt-4o'));
  });

  it('a re-read agent, a new version, or a changed setting on the same document is derived again', () => {
    const agent = agentWith();
    const state = states.of(agent);
    // The same version read again (another instance, the key cache's refresh): another document, the same answer.
    const reread = agentWith();
    expect(states.of(reread)).to.not.equal(state);
    expect(states.of(reread).effective).to.deep.equal(state.effective);
    // A change: routing off, a new light model, a limit — each seen.
    expect(states.of(agentWith({ updatedAt: new Date('2026-12-01T10:05:00Z'), setting: null })).effective.setting).to.equal('off');
    expect(states.of(agentWith({ updatedAt: new Date('2026-12-01T10:06:00Z'), lightModel: 'gpt-4.1-mini' })).light?.model.id).to.equal('gpt-4.1-mini');
    expect(states.of(agentWith({ updatedAt: new Date('2026-12-01T10:07:00Z'), limits: { monthlyTokenCap: null, monthlyBudgetMicros: 5_000_000 } })).hasLimit).to.equal(true);
    expect(state.hasLimit).to.equal(false);
    // The same document changed in place (its version and routing replaced): derived again.
    agent.routing = { ...agent.routing!, setting: 'savings' };
    agent.updatedAt = new Date('2026-12-01T10:08:00Z');
    expect(states.of(agent).effective.setting).to.equal('savings');
  });

  it("an experiment's variant (the same agent with another LLM setting) gets its own state", () => {
    const agent = agentWith();
    const state = states.of(agent);
    const variant = { ...agent, llm: { ...agent.llm, light: null } } as AgentDocument;
    expect(states.of(variant).effective.lightAvailable).to.equal(false);
    expect(states.of(variant).light).to.equal(undefined);
    expect(states.of(agent)).to.equal(state);
  });

  it('holds the light key sealed: its credential opens it per call, and no plaintext is in the state', () => {
    const state = states.of(agentWith());
    const credential = state.light!.endpoint!.credential as { kind: string; open(): string; reference: string };
    expect(JSON.stringify({ ...state, strongPrices: [...state.strongPrices] })).to.not.include('sk-light-routing-state-0001');
    expect(credential.kind).to.equal('byok');
    expect(credential.open()).to.equal('sk-light-routing-state-0001');
  });
});
