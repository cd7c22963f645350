// WEB_CONCURRENCY=2 through the real entry point (server/main.ts): a primary that owns the local database (or uses
// MONGODB_URI) and two workers sharing one port. Across the workers a BYOK budget still holds under 60 concurrent
// calls, every call is metered exactly once, and a dashboard connected to one worker hears the calls the other served.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { MongoClient, ObjectId } from 'mongodb';
import { io as connectClient, type Socket } from 'socket.io-client';
import { POOLED_PROVIDER_IDS, providerEnvName } from '../../server/config/provider-ids';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { monthOf } from '../../server/metering/pricing';
import { findFreePort, startRedis } from '../support/redis-server';
import { api, createAgent, createAgentApiKey, registerUser, TEST_JWT_SECRET } from '../support/test-platform';

const ROOT = path.resolve(__dirname, '../..');

/** One request on a connection of its own: the cluster hands each new connection to the next worker in turn. */
function postOnFreshConnection(url: string, urlPath: string, headers: Record<string, string>, body: unknown): Promise<{ status: number; body: any }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}${urlPath}`, { method: 'POST', agent: false, headers: { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body: JSON.parse(text) }));
    });
    request.once('error', reject);
    request.end(payload);
  });
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('WEB_CONCURRENCY=2: two workers on one port', function () {
  this.timeout(400_000);
  let redis: ChildProcess;
  let simulator: SimulatorHandle;
  let primary: ChildProcess;
  let output = '';
  let url: string;
  let dataDir: string;
  let mongo: MongoClient;
  const sockets: Socket[] = [];

  before(async () => {
    const redisPort = await findFreePort();
    redis = await startRedis(redisPort);
    // Slow answers keep the burst's calls in flight together, so they reach the reservation before any settles.
    simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0, latencyMs: 300 });
    const port = await findFreePort();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-cluster-'));
    primary = spawn(process.execPath, ['-r', 'tsx/cjs', path.join(ROOT, 'server/main.ts')], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: String(port),
        WEB_CONCURRENCY: '2',
        REDIS_URL: `redis://127.0.0.1:${redisPort}`,
        DATA_DIR: dataDir,
        JWT_SECRET: TEST_JWT_SECRET,
        VAULT_KEYS: `test1:${crypto.randomBytes(32).toString('base64')}`,
        LOG_LEVEL: 'info',
        ...(process.env.MONGODB_URI ? { MONGODB_URI: process.env.MONGODB_URI } : {}),
        ...Object.fromEntries(POOLED_PROVIDER_IDS.map((id) => [`${providerEnvName(id)}_BASE_URL`, simulator.baseUrls[id]])),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    primary.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    primary.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor('both workers listening', async () => {
      const listening = output.split('\n').filter((line) => line.includes('"msg":"Agent Host listening"'));
      const workers = new Set(listening.map((line) => (JSON.parse(line) as { worker?: number }).worker));
      return workers.has(1) && workers.has(2) ? true : undefined;
    }, 180_000).catch((error: Error) => {
      throw new Error(`${error.message}\n${output.slice(-4000)}`);
    });
    url = `http://127.0.0.1:${port}`;
    const databaseUri = process.env.MONGODB_URI ?? (JSON.parse(fs.readFileSync(path.join(dataDir, 'local-database.lock'), 'utf8')) as { uri: string }).uri;
    mongo = await MongoClient.connect(databaseUri);
  });

  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await mongo?.close();
    if (primary && primary.exitCode === null) {
      const exited = new Promise((resolve) => primary.once('exit', resolve));
      primary.kill('SIGTERM');
      await exited;
    }
    await simulator?.close();
    redis?.kill('SIGKILL');
  });

  it('the primary owns the database and ran the migrations once; each worker logs its slot', () => {
    const lines = output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
    const migrationLines = lines.filter((line) => line.msg === 'migration applied');
    if (!process.env.MONGODB_URI) {
      expect(migrationLines.length, 'migrations applied by the primary').to.be.greaterThan(0);
      expect(migrationLines.every((line) => line.worker === undefined), 'no worker ran a migration').to.equal(true);
    }
    expect(lines.some((line) => line.msg === 'Agent Host primary started its workers' && line.workers === 2)).to.equal(true);
  });

  it('a BYOK budget holds across both workers under 60 concurrent calls, each call metered exactly once', async () => {
    const owner = await registerUser(url);
    const agent = await createAgent(url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-test-cluster-budget' });
    const key = await createAgentApiKey(url, owner, agent.id);
    const body = { model: 'agent', messages: [{ role: 'user', content: 'spend a little' }], max_tokens: 40 };
    const probe = await postOnFreshConnection(url, '/v1/chat/completions', { authorization: `Bearer ${key}` }, body);
    expect(probe.status).to.equal(200);
    const rollups = mongo.db('agent_host').collection('usage_monthly');
    const events = mongo.db('agent_host').collection('token_meter');
    const agentId = new ObjectId(agent.id as string);
    const probeCost = await waitFor('the probe metered', async () => ((await rollups.findOne({ agentId, month: monthOf(new Date()) }))?.costTotalMicros as number) || undefined);
    const budgetMicros = probeCost * 4;
    const patch = await api(url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token, body: { limits: { monthlyBudgetUsd: budgetMicros / 1e6 } } });
    expect(patch.status).to.equal(200);

    const responses = await Promise.all(Array.from({ length: 60 }, () => postOnFreshConnection(url, '/v1/chat/completions', { authorization: `Bearer ${key}` }, body)));
    const admitted = responses.filter((response) => response.status === 200).length;
    const refused = responses.filter((response) => response.status === 429 && response.body.error.code === 'PLAN_LIMIT_REACHED').length;
    expect(admitted + refused, 'every call admitted or refused for the budget').to.equal(60);
    expect(admitted).to.be.at.least(1);

    const settled = await waitFor('every reservation settled', async () => {
      const rollup = await rollups.findOne({ agentId, month: monthOf(new Date()) });
      return rollup && rollup.reservedTokens === 0 && rollup.reservedCostMicros === 0 && rollup.requests === admitted + 1 ? rollup : undefined;
    });
    const recorded = await events.find({ agentId }).toArray();
    expect(recorded.length, 'one event per answered call').to.equal(admitted + 1);
    expect(new Set(recorded.map((event) => event.requestId)).size, 'no request metered twice').to.equal(admitted + 1);
    const largestCall = Math.max(...recorded.map((event) => event.costTotalMicros as number));
    expect(settled.costTotalMicros, 'spent').to.equal(recorded.reduce((total, event) => total + (event.costTotalMicros as number), 0));
    expect(settled.costTotalMicros, `overshoot beyond one call (budget ${budgetMicros} µ$)`).to.be.below(budgetMicros + largestCall);
  });

  it('a dashboard connected to one worker hears the calls both workers served (Redis adapter, websocket transport)', async () => {
    const owner = await registerUser(url);
    const agent = await createAgent(url, owner, { mode: 'managed', plan: 'starter' });
    const key = await createAgentApiKey(url, owner, agent.id);
    const socket = connectClient(url, { auth: { token: owner.token }, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const joined = (await socket.timeout(5000).emitWithAck('workspace:join', { workspaceId: owner.workspace.id })) as { ok?: boolean };
    expect(joined.ok).to.equal(true);
    const requestsSeen: number[] = [];
    socket.on('usage:update', (update: { agents: { agentId: string; requests: number }[] }) => {
      for (const row of update.agents) if (row.agentId === agent.id) requestsSeen.push(row.requests);
    });
    // Consecutive fresh connections alternate between the workers: half of these calls are served by the worker the
    // socket is not connected to. Each one must reach the dashboard before the next is sent.
    for (let call = 1; call <= 4; call += 1) {
      const response = await postOnFreshConnection(url, '/v1/chat/completions', { authorization: `Bearer ${key}` }, { model: 'agent', messages: [{ role: 'user', content: `hello ${call}` }] });
      expect(response.status).to.equal(200);
      await waitFor(`the update for call ${call}`, async () => (requestsSeen.includes(call) ? true : undefined), 30_000);
    }
  });

  it('stops gracefully on SIGTERM: workers drain, then the primary closes the database and exits 0', async () => {
    const exited = new Promise<number | null>((resolve) => primary.once('exit', (code) => resolve(code)));
    primary.kill('SIGTERM');
    expect(await exited).to.equal(0);
    expect(output).to.include('"msg":"Agent Host stopped"');
  });
});
