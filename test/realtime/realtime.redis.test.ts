// Two instances sharing a real Redis: rooms span instances through @socket.io/redis-adapter.
import type { ChildProcess } from 'node:child_process';
import { findFreePort, startRedis, stopRedis } from '../support/redis-server';
import { expect } from 'chai';
import {
  closeAllClients,
  connectAs,
  join,
  nextEvent,
  record,
  startRealtime,
  usageUpdate,
  type RealtimeHarness,
} from './realtime-test-support';


describe('realtime with the Redis adapter', () => {
  let redis: ChildProcess | undefined;
  let instanceA: RealtimeHarness | undefined;
  let instanceB: RealtimeHarness | undefined;
  const memberships = { alice: ['w-one'], bob: ['w-two'] };

  before(async () => {
    const port = await findFreePort();
    redis = await startRedis(port);
    const redisUrl = `redis://127.0.0.1:${port}`;
    instanceA = await startRealtime({ memberships, redisUrl });
    instanceB = await startRealtime({ memberships, redisUrl });
  });

  after(async () => {
    closeAllClients();
    await instanceA?.close();
    await instanceB?.close();
    await stopRedis(redis);
  });

  it('delivers a publish on instance A to a member connected to instance B, and not to another workspace', async () => {
    const alice = await connectAs(instanceB!.url, 'alice');
    const bob = await connectAs(instanceB!.url, 'bob');
    expect(await join(alice, { workspaceId: 'w-one' })).to.deep.equal({ ok: true });
    expect(await join(bob, { workspaceId: 'w-two' })).to.deep.equal({ ok: true });
    const bobUpdates = record<{ workspaceId: string }>(bob, 'usage:update');

    const aliceUpdate = nextEvent(alice, 'usage:update');
    instanceA!.realtime.publishUsage(usageUpdate('w-one', 'agent-1', { tokens: 10 }));
    expect(await aliceUpdate).to.deep.equal({
      workspaceId: 'w-one',
      month: '2025-01',
      agents: [{ agentId: 'agent-1', tokens: 1 }],
      totals: { tokens: 10 },
    });

    // Bob's own workspace update is published after alice's through the same Redis connection: when it arrives,
    // alice's would have arrived before it if it had been sent to bob.
    const bobUpdate = nextEvent(bob, 'usage:update');
    instanceA!.realtime.publishUsage(usageUpdate('w-two', 'agent-2', { tokens: 20 }));
    await bobUpdate;
    expect(bobUpdates.map((update) => update.workspaceId)).to.deep.equal(['w-two']);
  });

  it('delivers alerts across instances', async () => {
    const alice = await connectAs(instanceB!.url, 'alice');
    await join(alice, { workspaceId: 'w-one' });
    const alert = { id: 'al-1', type: 'allowance_80', agentId: 'agent-1', message: '80% used', createdAt: '2025-01-02T00:00:00.000Z' };
    const received = nextEvent(alice, 'alert');
    instanceA!.realtime.publishAlert('w-one', alert);
    expect(await received).to.deep.equal(alert);
  });

  it('fails to start, with a clear error, when Redis cannot be reached', async () => {
    const port = await findFreePort();
    let caught: unknown;
    await startRealtime({ memberships, redisUrl: `redis://:hunter2@127.0.0.1:${port}` }).catch((error: unknown) => (caught = error));
    expect(caught).to.have.property('code', 'REALTIME_START_FAILED');
    expect((caught as Error).message).to.include('REDIS_URL').and.not.include('hunter2');
  });
});
