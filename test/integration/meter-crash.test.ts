// A call whose answer reached the client is metered even when the process is killed (SIGKILL) a moment later: the
// meter's spool in DATA_DIR is replayed by the next start, and the rollups still equal the sum of their events.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { MongoClient } from 'mongodb';
import { Types } from 'mongoose';
import { api, createAgent, createAgentApiKey, registerUser, TEST_JWT_SECRET } from '../support/test-platform';
import { getTestMongoUri, uniqueDatabaseName } from '../support/test-database';
import { startFaultProxy } from '../support/tcp-fault-proxy';
import { startChild, type Child } from '../../scripts/bench-support';
import { monthOf } from '../../server/metering/pricing';

function startPlatformProcess(env: Record<string, string>): Child {
  return startChild('platform', process.execPath, ['--import', 'tsx', path.join(__dirname, '../support/platform-child.ts')], { env: { ...process.env, ...env } });
}

async function urlOf(child: Child): Promise<string> {
  const line = await child.waitForLine((candidate) => candidate.startsWith('{"url"'), 60_000);
  return (JSON.parse(line) as { url: string }).url;
}

describe('meter spool: SIGKILL after the answer', function () {
  this.timeout(180_000);

  it('every answered call is metered after a SIGKILL while the database was unreachable, and the next start replays it once', async () => {
    const proxy = await startFaultProxy(await getTestMongoUri());
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-crash-'));
    const databaseName = uniqueDatabaseName('crash');
    const env = {
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      MONGODB_URI: proxy.uri,
      PLATFORM_DATABASE_NAME: databaseName,
      DATA_DIR: dataDir,
      JWT_SECRET: TEST_JWT_SECRET,
      VAULT_KEYS: `crash1:${crypto.randomBytes(32).toString('base64')}`,
      LOG_LEVEL: 'warn',
      LLM_SANDBOX: 'on',
      PLATFORM_FAST_RETRIES: 'true',
    };
    const client = await MongoClient.connect(await getTestMongoUri(), { directConnection: true });
    let first: Child | undefined;
    let second: Child | undefined;
    try {
      first = startPlatformProcess(env);
      const url = await urlOf(first);
      const owner = await registerUser(url);
      const agent = await createAgent(url, owner, { mode: 'managed', plan: 'pro' });
      const key = await createAgentApiKey(url, owner, agent.id);
      const call = (content: string, stream = false) =>
        api(url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', stream, messages: [{ role: 'user', content }], max_tokens: 30 } });
      expect((await call('warm up: the key is cached from here on')).status).to.equal(200);
      const events = client.db(databaseName).collection('token_meter');
      const agentFilter = { agentId: new Types.ObjectId(agent.id) };
      const waitForEvents = async (count: number) => {
        const deadline = Date.now() + 60_000;
        while ((await events.countDocuments(agentFilter)) < count) {
          if (Date.now() > deadline) throw new Error(`${count} events not written (${await events.countDocuments(agentFilter)} are)`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      };
      await waitForEvents(1);

      // The database goes away; calls are still answered, their events wait in the queue (and the spool)...
      await proxy.cut();
      const answered = await Promise.all([...Array.from({ length: 6 }, (_, index) => call(`question ${index}`)), call('a streamed one', true)]);
      expect(answered.map((response) => response.status)).to.deep.equal([200, 200, 200, 200, 200, 200, 200]);
      expect(answered[6]!.text).to.contain('[DONE]');
      // ...and the process is killed before it could write them.
      first.process.kill('SIGKILL');
      await first.exited;
      expect(await events.countDocuments(agentFilter)).to.equal(1);

      await proxy.restore();
      second = startPlatformProcess(env);
      await urlOf(second);
      await waitForEvents(8);
      // The replayed events' rollups follow their inserts: wait for them before stopping (on a loaded machine a
      // stop that took longer than its grace was killed before the rollups, which read as a short total).
      const rollups = client.db(databaseName).collection('usage_monthly');
      const rollupDeadline = Date.now() + 60_000;
      while (((await rollups.findOne({ agentId: new Types.ObjectId(agent.id), month: monthOf(new Date()) }))?.requests ?? 0) < 8 && Date.now() < rollupDeadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await second.stop(60_000);
      expect(await events.countDocuments(agentFilter), 'no event twice').to.equal(8);
      const rollup = await client.db(databaseName).collection('usage_monthly').findOne({ agentId: new Types.ObjectId(agent.id), month: monthOf(new Date()) });
      const all = await events.find(agentFilter).toArray();
      expect(rollup!.tokens).to.equal(all.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0));
      expect(rollup!.requests).to.equal(8);
      expect(rollup!.costTotalMicros).to.equal(all.reduce((total, event) => total + event.costTotalMicros, 0));
      // A clean stop leaves no spool behind.
      expect(fs.readdirSync(path.join(dataDir, 'meter-spool'))).to.deep.equal([]);
    } finally {
      first?.process.kill('SIGKILL');
      await second?.stop();
      await client.close();
      await proxy.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
