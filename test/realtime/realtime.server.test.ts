import { expect } from 'chai';
import {
  closeAllClients,
  connectAs,
  join,
  nextEvent,
  openClient,
  record,
  signToken,
  waitUntil,
  startRealtime,
  usageUpdate,
  waitForConnect,
  waitForConnectError,
  type RealtimeHarness,
} from './realtime-test-support';

const memberships = {
  alice: ['w-alice', 'w-shared', 'w-burst', 'w-months'],
  bob: ['w-bob', 'w-shared'],
};

describe('realtime.server', () => {
  let harness: RealtimeHarness;

  before(async () => {
    harness = await startRealtime({ memberships });
  });

  afterEach(() => closeAllClients());

  after(async () => {
    await harness.close();
  });

  describe('handshake', () => {
    it('refuses a connection without a token', async () => {
      const error = await waitForConnectError(openClient(harness.url));
      expect(error.message).to.equal('UNAUTHORIZED');
    });

    it('refuses a bad token', async () => {
      for (const token of ['not-a-jwt', signToken('alice', 60_000, 'another-secret-another-secret-another'), '']) {
        const error = await waitForConnectError(openClient(harness.url, { token }));
        expect(error.message).to.equal('UNAUTHORIZED');
      }
    });

    it('refuses an already expired token', async () => {
      const error = await waitForConnectError(openClient(harness.url, { token: signToken('alice', -1000) }));
      expect(error.message).to.equal('UNAUTHORIZED');
    });

    it('refuses a token in the query string, even next to a valid auth.token', async () => {
      const token = signToken('alice');
      const onlyQuery = await waitForConnectError(openClient(harness.url, { query: { token } }));
      expect(onlyQuery.message).to.equal('UNAUTHORIZED');
      const both = await waitForConnectError(openClient(harness.url, { token, query: { token } }));
      expect(both.message).to.equal('UNAUTHORIZED');
      expect(JSON.stringify(both.data)).not.to.include(token);
    });

    it('accepts a valid token in auth.token', async () => {
      const client = openClient(harness.url, { token: signToken('alice') });
      await waitForConnect(client);
      expect(client.connected).to.equal(true);
    });
  });

  describe('workspace rooms', () => {
    it('lets a member join and receive usage:update', async () => {
      const alice = await connectAs(harness.url, 'alice');
      expect(await join(alice, { workspaceId: 'w-alice' })).to.deep.equal({ ok: true });
      const update = nextEvent(alice, 'usage:update');
      harness.realtime.publishUsage(usageUpdate('w-alice', 'agent-1', { tokens: 42 }));
      expect(await update).to.deep.equal({
        workspaceId: 'w-alice',
        month: '2025-01',
        agents: [{ agentId: 'agent-1', tokens: 1 }],
        totals: { tokens: 42 },
      });
    });

    it('answers NOT_FOUND for another workspace and sends it nothing', async () => {
      const alice = await connectAs(harness.url, 'alice');
      expect(await join(alice, { workspaceId: 'w-bob' })).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await join(alice, { workspaceId: 'w-nobody' })).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await join(alice, { workspaceId: 'w-shared' })).to.deep.equal({ ok: true });
      const updates = record<{ workspaceId: string }>(alice, 'usage:update');
      const alerts = record<{ id: string }>(alice, 'alert');

      harness.realtime.publishUsage(usageUpdate('w-bob', 'agent-b', { tokens: 7 }));
      harness.realtime.publishAlert('w-bob', { id: 'al-b', type: 'key_invalid', agentId: 'agent-b', message: 'bob', createdAt: new Date().toISOString() });
      // Sent after bob's on the same connection: once this arrives, bob's would have arrived already.
      const marker = nextEvent(alice, 'alert');
      harness.realtime.publishAlert('w-shared', { id: 'al-s', type: 'allowance_80', agentId: null, message: 'shared', createdAt: new Date().toISOString() });
      await marker;
      expect(updates).to.deep.equal([]);
      expect(alerts.map((alert) => alert.id)).to.deep.equal(['al-s']);
    });

    it('answers NOT_FOUND for bad input', async () => {
      const alice = await connectAs(harness.url, 'alice');
      for (const payload of [null, 'w-alice', 42, {}, { workspaceId: 42 }, { workspaceId: '' }, { workspaceId: 'x'.repeat(500) }]) {
        expect(await join(alice, payload)).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
      }
      const acknowledgement = await alice.timeout(5000).emitWithAck('workspace:join');
      expect(acknowledgement).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
    });

    it('stops sending a workspace after workspace:leave', async () => {
      const alice = await connectAs(harness.url, 'alice');
      expect(await join(alice, { workspaceId: 'w-alice' })).to.deep.equal({ ok: true });
      expect(await join(alice, { workspaceId: 'w-shared' })).to.deep.equal({ ok: true });
      expect(await alice.timeout(5000).emitWithAck('workspace:leave', { workspaceId: 'w-alice' })).to.deep.equal({ ok: true });
      const alerts = record<{ id: string }>(alice, 'alert');
      const marker = nextEvent(alice, 'alert');
      const createdAt = new Date().toISOString();
      harness.realtime.publishAlert('w-alice', { id: 'left', type: 'allowance_80', agentId: null, message: 'x', createdAt });
      harness.realtime.publishAlert('w-shared', { id: 'still-in', type: 'allowance_80', agentId: null, message: 'x', createdAt });
      await marker;
      expect(alerts.map((alert) => alert.id)).to.deep.equal(['still-in']);
    });

    it('delivers alerts to the room at once, with the documented fields only', async () => {
      const alice = await connectAs(harness.url, 'alice');
      const bob = await connectAs(harness.url, 'bob');
      await join(alice, { workspaceId: 'w-shared' });
      await join(bob, { workspaceId: 'w-shared' });
      const alert = { id: 'al-1', type: 'allowance_100', agentId: 'agent-1', message: 'Allowance used up', createdAt: '2025-01-02T03:04:05.000Z' };
      const received = Promise.all([nextEvent(alice, 'alert'), nextEvent(bob, 'alert')]);
      harness.realtime.publishAlert('w-shared', { ...alert, internal: 'not for clients' } as typeof alert);
      expect(await received).to.deep.equal([alert, alert]);
    });
  });

  describe('usage:update coalescing', () => {
    it('turns a burst of 100 publishes into a few emits that end with the latest rows and totals', async () => {
      const alice = await connectAs(harness.url, 'alice');
      await join(alice, { workspaceId: 'w-burst' });
      const updates = record<{ agents: { agentId: string; sequence: number }[]; totals: { sequence: number } }>(alice, 'usage:update');

      for (let sequence = 0; sequence < 100; sequence += 1) {
        harness.realtime.publishUsage(usageUpdate('w-burst', `agent-${sequence % 10}`, { sequence }, { sequence }));
      }
      await waitUntil(() => updates.some((update) => update.totals.sequence === 99), 'the update with the burst\'s latest totals');
      // Anything still coming from the burst would arrive before a marker published now (emits are in order).
      harness.realtime.publishUsage(usageUpdate('w-burst', 'marker', { sequence: -1 }, { sequence: -1 }));
      await waitUntil(() => updates.some((update) => update.agents.some((row) => row.agentId === 'marker')), 'the marker update');
      const burstEmits = updates.filter((update) => !update.agents.some((row) => row.agentId === 'marker'));
      expect(burstEmits.length, 'emits for the burst').to.be.within(1, 3);
      updates.splice(burstEmits.length);

      const last = updates[updates.length - 1]!;
      expect(last.totals).to.deep.equal({ sequence: 99 });
      // The trailing emit holds every agent published since the previous emit, each at its latest row.
      const latestByAgent = Object.fromEntries(last.agents.map((row) => [row.agentId, row.sequence]));
      expect(latestByAgent).to.deep.equal(Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`agent-${index}`, 90 + index])));
      // Nothing was lost across emits: every agent appears.
      const seen = new Set(updates.flatMap((update) => update.agents.map((row) => row.agentId)));
      expect(seen.size).to.equal(10);
    });

    it('never mixes months in one update', async () => {
      const alice = await connectAs(harness.url, 'alice');
      await join(alice, { workspaceId: 'w-months' });
      const updates = record<{ month: string; agents: { agentId: string }[] }>(alice, 'usage:update');
      harness.realtime.publishUsage({ ...usageUpdate('w-months', 'agent-1', { t: 1 }), month: '2025-01' });
      harness.realtime.publishUsage({ ...usageUpdate('w-months', 'agent-1', { t: 2 }), month: '2025-01' });
      harness.realtime.publishUsage({ ...usageUpdate('w-months', 'agent-2', { t: 3 }), month: '2025-02' });
      await waitUntil(() => ['2025-01', '2025-02'].every((month) => updates.some((update) => update.month === month)), 'an update for each month');
      for (const update of updates) {
        expect(update.agents.every((row) => (update.month === '2025-02' ? row.agentId === 'agent-2' : row.agentId === 'agent-1'))).to.equal(true);
      }
      expect(updates.map((update) => update.month)).to.include.members(['2025-01', '2025-02']);
    });
  });

  describe('session and abuse limits', () => {
    it('disconnects a socket when its token expires', async () => {
      const alice = await connectAs(harness.url, 'alice', 400);
      expect(await join(alice, { workspaceId: 'w-alice' })).to.deep.equal({ ok: true });
      const expired = nextEvent(alice, 'session:expired', 5000);
      const reason = await nextEvent<string>(alice, 'disconnect', 5000);
      expect(reason).to.equal('io server disconnect');
      expect(await expired).to.deep.equal({ code: 'TOKEN_EXPIRED' });
    });

    it('drops events beyond the per-socket rate', async () => {
      const alice = await connectAs(harness.url, 'alice');
      const answers = await Promise.all(Array.from({ length: 30 }, () => join(alice, { workspaceId: 'w-alice' })));
      const limited = answers.filter((answer) => JSON.stringify(answer) === JSON.stringify({ ok: false, error: { code: 'RATE_LIMITED' } }));
      expect(answers.length - limited.length).to.equal(20);
      expect(limited).to.have.length(10);
    });

    it('disconnects a socket that floods events', async () => {
      const alice = await connectAs(harness.url, 'alice');
      const disconnected = nextEvent<string>(alice, 'disconnect', 5000);
      for (let index = 0; index < 200; index += 1) alice.emit('workspace:leave', { workspaceId: 'w-alice' });
      expect(await disconnected).to.equal('io server disconnect');
    });

    it('refuses messages larger than 16 KiB', async () => {
      const alice = await connectAs(harness.url, 'alice');
      const disconnected = nextEvent<string>(alice, 'disconnect', 5000);
      alice.emit('workspace:join', { workspaceId: 'x'.repeat(20 * 1024) });
      expect(await disconnected).to.equal('transport close');
    });
  });
});
