// Live dashboards: a metered call reaches the workspace room as usage:update — on one instance and across two on Redis.
import type { ChildProcess } from 'node:child_process';
import { expect } from 'chai';
import { io, type Socket } from 'socket.io-client';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { findFreePort, startRedis, stopRedis } from '../support/redis-server';
import { uniqueDatabaseName } from '../support/test-database';

const sockets: Socket[] = [];

function connect(url: string, token: string): Promise<Socket> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false, forceNew: true });
  sockets.push(socket);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

function join(socket: Socket, workspaceId: string): Promise<{ ok: boolean; error?: { code: string } }> {
  return new Promise((resolve) => socket.emit('workspace:join', { workspaceId }, resolve));
}

function collect(socket: Socket, event: string): unknown[] {
  const received: unknown[] = [];
  socket.on(event, (payload) => received.push(payload));
  return received;
}

async function waitFor<T>(check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function chat(platform: TestPlatform, user: TestUser, agentId: string) {
  const response = await api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/chat`, {
    token: user.token,
    body: { messages: [{ role: 'user', content: 'How late are you open?' }] },
  });
  expect(response.status).to.equal(200);
  return response.body;
}

describe('live usage over Socket.IO', function () {
  this.timeout(60_000);
  afterEach(() => {
    for (const socket of sockets.splice(0)) socket.disconnect();
  });

  describe('one instance', () => {
    let platform: TestPlatform;
    before(async () => {
      platform = await startTestPlatform();
    });
    after(async () => platform?.stop());

    it('refuses a missing or bad token, and a join of another workspace, and pushes usage:update to members only', async () => {
      const owner = await registerUser(platform.url);
      const stranger = await registerUser(platform.url);
      const noToken = io(platform.url, { transports: ['websocket'], reconnection: false, forceNew: true });
      sockets.push(noToken);
      await new Promise<void>((resolve) => noToken.once('connect_error', () => resolve()));
      await connect(platform.url, 'not-a-jwt').then(
        () => expect.fail('a bad token must not connect'),
        (error: Error) => expect(error.message).to.equal('UNAUTHORIZED'),
      );

      const member = await connect(platform.url, owner.token);
      expect(await join(member, owner.workspace.id)).to.deep.equal({ ok: true });
      const outsider = await connect(platform.url, stranger.token);
      expect(await join(outsider, owner.workspace.id)).to.deep.equal({ ok: false, error: { code: 'NOT_FOUND' } });
      expect(await join(outsider, stranger.workspace.id)).to.deep.equal({ ok: true });
      const memberUpdates = collect(member, 'usage:update');
      const outsiderUpdates = collect(outsider, 'usage:update');

      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
      const reply = await chat(platform, owner, agent.id);
      const update = await waitFor(() =>
        (memberUpdates as Array<{ agents: Array<{ agentId: string; tokens: number }>; totals: { tokens: number } }>).find((candidate) =>
          candidate.agents.some((row) => row.agentId === agent.id),
        ),
      );
      const row = update.agents.find((candidate) => candidate.agentId === agent.id)!;
      expect(row.tokens).to.equal(reply.usage.inputTokens + reply.usage.outputTokens);
      expect(update.totals.tokens).to.equal(row.tokens);
      // A marker: an update of the outsider's own workspace, published after the member's. Delivery to one socket is in
      // order, so once the marker is there, a leaked update of the owner's workspace would have arrived before it.
      const strangerAgent = await createAgent(platform.url, stranger, { mode: 'managed', plan: 'pro' });
      await chat(platform, stranger, strangerAgent.id);
      await waitFor(() => (outsiderUpdates as Array<{ workspaceId: string }>).find((candidate) => candidate.workspaceId === stranger.workspace.id));
      expect((outsiderUpdates as Array<{ workspaceId: string }>).filter((candidate) => candidate.workspaceId !== stranger.workspace.id)).to.deep.equal([]);
    });

    it('coalesces a burst of calls into a few updates that end with the latest totals', async () => {
      const owner = await registerUser(platform.url);
      const socket = await connect(platform.url, owner.token);
      await join(socket, owner.workspace.id);
      const updates = collect(socket, 'usage:update') as Array<{ totals: { requests: number } }>;
      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
      await Promise.all(Array.from({ length: 40 }, () => chat(platform, owner, agent.id)));
      await waitFor(() => (updates.at(-1)?.totals.requests === 40 ? true : undefined));
      expect(updates.length).to.be.lessThan(40);
    });
  });

  describe('two instances on one Redis', () => {
    let redis: ChildProcess | undefined;
    let instanceA: TestPlatform;
    let instanceB: TestPlatform;

    before(async () => {
      const port = await findFreePort();
      redis = await startRedis(port);
      const databaseName = uniqueDatabaseName('redis');
      const env = { REDIS_URL: `redis://127.0.0.1:${port}` };
      instanceA = await startTestPlatform({ env, databaseName });
      instanceB = await startTestPlatform({ env: { ...env, VAULT_KEYS: instanceA.platform.config.vaultKeys.map((key) => `${key.id}:${Buffer.from(key.key).toString('base64')}`).join(',') }, databaseName });
    });
    after(async () => {
      await instanceA?.stop();
      await instanceB?.stop();
      await stopRedis(redis);
    });

    it('a call metered on instance A reaches a client of the workspace on instance B, and not a client of another workspace', async () => {
      const owner = await registerUser(instanceA.url);
      const other = await registerUser(instanceA.url);
      const onB = await connect(instanceB.url, owner.token);
      expect(await join(onB, owner.workspace.id)).to.deep.equal({ ok: true });
      const otherOnB = await connect(instanceB.url, other.token);
      expect(await join(otherOnB, other.workspace.id)).to.deep.equal({ ok: true });
      const received = collect(onB, 'usage:update') as Array<{ workspaceId: string; agents: Array<{ agentId: string }> }>;
      const receivedByOther = collect(otherOnB, 'usage:update');

      const agent = await createAgent(instanceA.url, owner, { mode: 'managed', plan: 'pro' });
      await chat(instanceA, owner, agent.id);
      const update = await waitFor(() => received.find((candidate) => candidate.agents.some((row) => row.agentId === agent.id)));
      expect(update.workspaceId).to.equal(owner.workspace.id);
      // The marker: a call of the other workspace, metered after the owner's, reaches its client; nothing before it did.
      const otherAgent = await createAgent(instanceA.url, other, { mode: 'managed', plan: 'pro' });
      await chat(instanceA, other, otherAgent.id);
      await waitFor(() => (receivedByOther as Array<{ workspaceId: string }>).find((candidate) => candidate.workspaceId === other.workspace.id));
      expect((receivedByOther as Array<{ workspaceId: string }>).filter((candidate) => candidate.workspaceId !== other.workspace.id)).to.deep.equal([]);
    });
  });
});
