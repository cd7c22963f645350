// The /v1 key cache under a burst (#20): calls that arrive together with a key that is not cached read it from the
// database once, and an agent change during that read is not hidden behind a stale cache entry. The real AgentService
// answers; the lookup passed to the cache only counts its calls.
import { expect } from 'chai';
import { AgentKeyCache, type AgentKeyLookup } from '../../agents/agent-key-cache';
import { api, createAgent, createAgentApiKey, type TestPlatform, type TestUser } from '../support/test-platform';
import { platformWithOwner } from '../support/platform-with-owner';

describe('agent key cache: one database read per key for a burst', function () {
  this.timeout(60_000);
  const platformAndOwner = platformWithOwner();
  let platform: TestPlatform;
  let owner: TestUser;
  before(() => ({ platform, owner } = platformAndOwner));

  /** The real lookup, counted; `holdAnswers` keeps each read's answer (already read) until it resolves. */
  function countingLookup(holdAnswers?: Promise<void>) {
    const agents = platform.platform.agents;
    const counter = { reads: 0 };
    const lookup: AgentKeyLookup = {
      findByApiKey: async (key) => {
        counter.reads += 1;
        const found = await agents.findByApiKey(key);
        if (holdAnswers && counter.reads === 1) await holdAnswers;
        return found;
      },
      touchApiKey: (id) => agents.touchApiKey(id),
      onAgentChanged: (listener) => agents.onAgentChanged(listener),
    };
    return { lookup, counter };
  }

  it('200 calls at once with an uncached key read it once and all get the agent', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    const { lookup, counter } = countingLookup();
    const cache = new AgentKeyCache(lookup);
    const resolved = await Promise.all(Array.from({ length: 200 }, () => cache.authenticate(key)));
    expect(counter.reads).to.equal(1);
    for (const entry of resolved) expect(entry?.agent._id.toString()).to.equal(agent.id);
    // Cached now: no further read.
    await cache.authenticate(key);
    expect(counter.reads).to.equal(1);
  });

  it('an unknown key is refused for every concurrent call, and read again next time (nothing cached)', async () => {
    const { lookup, counter } = countingLookup();
    const cache = new AgentKeyCache(lookup);
    const key = 'ak_unknown0000000000000000000000000000000000';
    const resolved = await Promise.all(Array.from({ length: 50 }, () => cache.authenticate(key)));
    expect(resolved.every((entry) => entry === undefined)).to.equal(true);
    expect(counter.reads).to.equal(1);
    expect(await cache.authenticate(key)).to.equal(undefined);
    expect(counter.reads).to.equal(2);
  });

  it('an agent changed while its key is being read is read again by the next call (no stale entry)', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    let release!: () => void;
    const { lookup, counter } = countingLookup(new Promise<void>((resolve) => (release = resolve)));
    const cache = new AgentKeyCache(lookup);
    const during = cache.authenticate(key);
    // The rename lands (and notifies the change) after the first read got the old agent, before it answered.
    const renamed = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { name: 'Renamed agent' } });
    expect(renamed.status).to.equal(200);
    release();
    expect((await during)?.agent.name).to.equal('Test agent');
    const after = await cache.authenticate(key);
    expect(after?.agent.name).to.equal('Renamed agent');
    expect(counter.reads).to.equal(2);
  });
});
