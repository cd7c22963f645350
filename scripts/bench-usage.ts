// Meter and usage: the workspace usage query over 1,000 agents with a 10M-event month, the sustained meter pipeline
// rate with a zero-loss check, and metered call → `usage:update` latency over socket.io. Used by scripts/bench.ts.
import { performance } from 'node:perf_hooks';
import mongoose, { Types } from 'mongoose';
import { MongoClient, type AnyBulkWriteOperation, type Document } from 'mongodb';
import pino from 'pino';
import { io, type Socket } from 'socket.io-client';
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { createModels } from '../server/platform-models';
import { runMigrations } from '../migrations/migration-runner';
import { MeterService } from '../server/metering/meter.service';
import type { MeterEventInput } from '../server/metering/meter.types';
import { modelKey } from '../server/metering/model-key';
import { costMicros, dayOf, monthOf, overagePriceMicros, priceSnapshotFor } from '../server/metering/pricing';
import { CHAT_BODY } from './bench-gateway';
import { expectStatus, fmt, jsonRequest, log, percentile, sleep, sortedCopy } from './bench-support';

const silentLogger = pino({ level: 'silent' });

// ---------------------------------------------------------------- shared setup over HTTP

export interface BenchUser {
  token: string;
  workspaceId: string;
}

let userCounter = 0;

export async function registerUser(baseUrl: string, name: string): Promise<BenchUser> {
  userCounter += 1;
  const body = await expectStatus(201, 'register', jsonRequest(`POST`, `${baseUrl}/api/auth/register`, {
    body: { email: `bench${userCounter}-${Date.now().toString(36)}@example.com`, password: 'correct horse battery staple', name },
  }));
  return { token: body.token, workspaceId: body.workspace.id };
}

export async function createAgent(baseUrl: string, user: BenchUser, name: string, llm: Record<string, unknown>): Promise<string> {
  const body = await expectStatus(201, 'create agent', jsonRequest('POST', `${baseUrl}/api/workspaces/${user.workspaceId}/agents`, {
    token: user.token,
    body: { name, templateId: 'faq-bot', variables: { businessName: 'Acme & Sons' }, llm },
  }));
  return body.id as string;
}

export async function createAgentKey(baseUrl: string, user: BenchUser, agentId: string): Promise<string> {
  const body = await expectStatus(201, 'create api key', jsonRequest('POST', `${baseUrl}/api/workspaces/${user.workspaceId}/agents/${agentId}/api-keys`, { token: user.token }));
  return body.key as string;
}

// ---------------------------------------------------------------- 1. workspace usage query

/** Small, fast, deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface AgentPlan {
  id: Types.ObjectId;
  mode: 'byok' | 'managed';
  plan: Plan | undefined;
  provider: string;
  model: string;
  input: number;
  output: number;
  included: number;
  overageRate: number;
}

interface Rollup {
  tokensInput: number;
  tokensOutput: number;
  requests: number;
  costInputMicros: number;
  costOutputMicros: number;
  daily: Map<number, { tokensInput: number; tokensOutput: number; requests: number }>;
}

export interface UsageQueryResult {
  agents: number;
  syntheticEvents: number;
  eventDocuments: number;
  createAgentsSeconds: number;
  generateSeconds: number;
  insertSeconds: number;
  insertRate: number;
  storeRssMiB: number;
  requests: number;
  p50: number;
  p95: number;
  p99: number;
  responseBytes: number;
  totalsRequests: number;
}

export async function benchUsageQuery(options: {
  baseUrl: string;
  storeUri: string;
  databaseName: string;
  agents: number;
  syntheticEvents: number;
  /** Every `materializeEvery`-th synthetic event is inserted as a real token_meter document. */
  materializeEvery: number;
  requests: number;
  catalog: Catalog;
  storeRss(): number;
}): Promise<UsageQueryResult> {
  const { baseUrl, catalog } = options;
  const owner = await registerUser(baseUrl, 'Usage bench owner');
  const workspaceId = new Types.ObjectId(owner.workspaceId);

  // 1,000 real agents through the API (templates, validation, sealed BYOK keys): a quarter BYOK, the rest on plans.
  let started = performance.now();
  const planIds = ['starter', 'pro', 'ultra'] as const;
  const agentPlans: AgentPlan[] = new Array(options.agents);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= options.agents) return;
        const byok = i % 4 === 3;
        const llm = byok
          ? { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: `sk-bench-usage-${String(i).padStart(6, '0')}` }
          : { mode: 'managed', plan: planIds[i % 3] };
        const id = await createAgent(baseUrl, owner, `Usage agent ${i + 1}`, llm);
        const plan = byok ? undefined : catalog.getPlan(planIds[i % 3]!);
        const backend = plan?.backends[0];
        const provider = backend?.provider ?? 'openai';
        const model = backend?.model ?? 'gpt-4o-mini';
        const snapshot = priceSnapshotFor(catalog, provider, model, plan);
        agentPlans[i] = {
          id: new Types.ObjectId(id),
          mode: byok ? 'byok' : 'managed',
          plan,
          provider,
          model,
          input: snapshot.inputUsdPerMillion,
          output: snapshot.outputUsdPerMillion,
          included: snapshot.includedTokens,
          overageRate: snapshot.overageUsdPerMillion,
        };
      }
    }),
  );
  const createAgentsSeconds = (performance.now() - started) / 1000;
  log(`usage: ${options.agents} agents created over HTTP in ${createAgentsSeconds.toFixed(1)} s`);

  // The month's events: generated one by one (skewed over agents, days up to today), aggregated in memory into the
  // per-agent rollups the meter would have built; every N-th one is also inserted as a real meter event document.
  const client = await MongoClient.connect(options.storeUri, { maxPoolSize: 4 });
  const db = client.db(options.databaseName);
  const events = db.collection('token_meter');
  const now = new Date();
  const month = monthOf(now);
  const today = now.getUTCDate();
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const rollups: Rollup[] = agentPlans.map(() => ({ tokensInput: 0, tokensOutput: 0, requests: 0, costInputMicros: 0, costOutputMicros: 0, daily: new Map() }));
  const next01 = random(20261123);
  let batch: Document[] = [];
  let eventDocuments = 0;
  let insertMs = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  started = performance.now();
  for (let i = 0; i < options.syntheticEvents; i++) {
    const u = next01();
    const agentIndex = Math.floor(u * u * options.agents); // skewed: a few busy agents, a long tail
    const agent = agentPlans[agentIndex]!;
    const tokensInput = 20 + Math.floor(next01() * 600);
    const tokensOutput = 5 + Math.floor(next01() * 300);
    const day = 1 + Math.floor(next01() * today);
    const rollup = rollups[agentIndex]!;
    const costInput = costMicros(tokensInput, agent.input);
    const costOutput = costMicros(tokensOutput, agent.output);
    rollup.tokensInput += tokensInput;
    rollup.tokensOutput += tokensOutput;
    rollup.requests += 1;
    rollup.costInputMicros += costInput;
    rollup.costOutputMicros += costOutput;
    const daily = rollup.daily.get(day) ?? { tokensInput: 0, tokensOutput: 0, requests: 0 };
    daily.tokensInput += tokensInput;
    daily.tokensOutput += tokensOutput;
    daily.requests += 1;
    rollup.daily.set(day, daily);
    if (i % options.materializeEvery === 0) {
      const timestamp = new Date(Math.min(now.getTime(), monthStart + (day - 1) * 86_400_000 + Math.floor(next01() * 86_400_000)));
      batch.push({
        requestId: `req_bench${i.toString(36).padStart(10, '0')}`,
        agentId: agent.id,
        workspaceId,
        timestamp,
        month,
        day: dayOf(timestamp),
        provider: agent.provider,
        model: agent.model,
        tier: agent.plan?.tier ?? null,
        mode: agent.mode,
        plan: agent.plan?.id ?? null,
        requestType: 'chat',
        status: 'ok',
        usageSource: 'provider',
        tokensInput,
        tokensOutput,
        costInputMicros: costInput,
        costOutputMicros: costOutput,
        costTotalMicros: costInput + costOutput,
        priceTotalMicros: 0,
        overageTokens: 0,
        latencyMs: 200 + Math.floor(next01() * 1800),
        credential: agent.mode === 'byok' ? `byok:${agent.id.toString()}:bench:00000000` : `pool:${agent.provider}:0`,
        sandbox: false,
        attempt: 1,
        countedAsRequest: true,
        priceSnapshot: { inputUsdPerMillion: agent.input, outputUsdPerMillion: agent.output, overageUsdPerMillion: agent.overageRate, includedTokens: agent.included },
      });
      if (batch.length === 5_000) {
        const documents = batch;
        batch = [];
        // One batch in flight while the next is generated.
        await inFlight;
        const insertStarted = performance.now();
        inFlight = events.insertMany(documents, { ordered: false }).then(() => {
          insertMs += performance.now() - insertStarted;
          eventDocuments += documents.length;
          if (eventDocuments % 100_000 === 0) log(`usage: ${fmt.int(eventDocuments)} meter event documents inserted`);
        });
      }
    }
  }
  await inFlight;
  if (batch.length > 0) {
    const insertStarted = performance.now();
    await events.insertMany(batch, { ordered: false });
    insertMs += performance.now() - insertStarted;
    eventDocuments += batch.length;
  }
  const generateSeconds = (performance.now() - started) / 1000;

  // Rollups as the meter would have left them (allowance split: the month's overage is (total − included)⁺ × rate).
  const rollupDocuments = agentPlans.map((agent, index) => {
    const rollup = rollups[index]!;
    const tokens = rollup.tokensInput + rollup.tokensOutput;
    const overageTokens = agent.mode === 'managed' ? Math.max(0, tokens - agent.included) : 0;
    const daily: Record<string, { tokensInput: number; tokensOutput: number; requests: number }> = {};
    for (const [day, counters] of [...rollup.daily.entries()].sort((a, b) => a[0] - b[0])) daily[String(day).padStart(2, '0')] = counters;
    return {
      agentId: agent.id,
      workspaceId,
      month,
      mode: agent.mode,
      plan: agent.plan?.id ?? null,
      tokensInput: rollup.tokensInput,
      tokensOutput: rollup.tokensOutput,
      tokens,
      requests: rollup.requests,
      errors: 0,
      costInputMicros: rollup.costInputMicros,
      costOutputMicros: rollup.costOutputMicros,
      costTotalMicros: rollup.costInputMicros + rollup.costOutputMicros,
      priceTotalMicros: overagePriceMicros(overageTokens, agent.overageRate),
      overageTokens,
      reservedTokens: 0,
      reservedCostMicros: 0,
      daily,
      byModel: { [modelKey(agent.provider, agent.model)]: { tokens, costMicros: rollup.costInputMicros + rollup.costOutputMicros } },
      appliedGroups: [],
      pricedGroups: [],
      updatedAt: now,
    };
  });
  const upserts: AnyBulkWriteOperation[] = rollupDocuments.map((document) => ({
    replaceOne: { filter: { agentId: document.agentId, month }, replacement: document, upsert: true },
  }));
  await db.collection('usage_monthly').bulkWrite(upserts, { ordered: false });
  await client.close();
  const storeRssMiB = options.storeRss();
  log(`usage: ${fmt.int(options.syntheticEvents)} synthetic events aggregated, ${fmt.int(eventDocuments)} inserted in ${generateSeconds.toFixed(1)} s; store RSS ${fmt.mib(storeRssMiB)} MiB`);

  // The query, over HTTP, sequentially.
  const url = `${baseUrl}/api/workspaces/${owner.workspaceId}/usage`;
  const headers = { authorization: `Bearer ${owner.token}` };
  let totalsRequests = 0;
  let responseBytes = 0;
  let agentsInResponse = 0;
  // Let the store finish the garbage collection the bulk load started, then warm up.
  await sleep(3_000);
  for (let i = 0; i < 50; i++) await (await fetch(url, { headers })).arrayBuffer();
  const latencies: number[] = [];
  for (let i = 0; i < options.requests; i++) {
    const t0 = performance.now();
    const response = await fetch(url, { headers });
    const text = await response.text();
    latencies.push(performance.now() - t0);
    if (response.status !== 200) throw new Error(`usage query: HTTP ${response.status}: ${text.slice(0, 300)}`);
    if (i === 0) {
      const body = JSON.parse(text) as { totals: { requests: number }; agents: unknown[] };
      totalsRequests = body.totals.requests;
      agentsInResponse = body.agents.length;
      responseBytes = text.length;
    }
  }
  if (agentsInResponse !== options.agents) throw new Error(`usage query returned ${agentsInResponse} agents, expected ${options.agents}`);
  if (totalsRequests !== options.syntheticEvents) throw new Error(`usage query totals.requests ${totalsRequests}, expected ${options.syntheticEvents}`);
  const sorted = sortedCopy(latencies);
  return {
    agents: options.agents,
    syntheticEvents: options.syntheticEvents,
    eventDocuments,
    createAgentsSeconds,
    generateSeconds,
    insertSeconds: insertMs / 1000,
    insertRate: eventDocuments / (insertMs / 1000),
    storeRssMiB,
    requests: options.requests,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    responseBytes,
    totalsRequests,
  };
}

// ---------------------------------------------------------------- 2. sustained meter pipeline

export interface MeterPipelineResult {
  events: number;
  agents: number;
  enqueueSeconds: number;
  totalSeconds: number;
  eventsPerSecond: number;
  maxPending: number;
  eventsInDb: number;
  eventTokens: number;
  rollupTokens: number;
  expectedTokens: number;
  rollupRequests: number;
  zeroLoss: boolean;
}

export async function benchMeterPipeline(options: { storeUri: string; databaseName: string; events: number; agents: number; catalog: Catalog }): Promise<MeterPipelineResult> {
  const connection = await mongoose.createConnection(options.storeUri, { dbName: options.databaseName, autoIndex: false }).asPromise();
  try {
    const models = createModels(connection);
    await runMigrations(connection, silentLogger, models);
    const meter = new MeterService(models, silentLogger);
    const plan = options.catalog.getPlan('pro');
    const managedSnapshot = priceSnapshotFor(options.catalog, 'openai', 'gpt-4o-mini', plan);
    const byokSnapshot = priceSnapshotFor(options.catalog, 'openai', 'gpt-4o-mini', undefined);
    const workspaces = Array.from({ length: 10 }, () => new Types.ObjectId().toString());
    const agents = Array.from({ length: options.agents }, (_, i) => ({ id: new Types.ObjectId().toString(), workspaceId: workspaces[i % workspaces.length]!, byok: i % 4 === 3 }));
    const next01 = random(42);
    let expectedTokens = 0;
    let maxPending = 0;
    const runId = new Types.ObjectId().toString();

    const started = performance.now();
    for (let i = 0; i < options.events; i++) {
      // As fast as the queue accepts: when it is full, wait for the writer (a server would refuse the call instead).
      while (meter.isFull()) await sleep(2);
      const agent = agents[i % agents.length]!;
      const tokensInput = 20 + Math.floor(next01() * 600);
      const tokensOutput = 5 + Math.floor(next01() * 300);
      expectedTokens += tokensInput + tokensOutput;
      const event: MeterEventInput = {
        requestId: `req_meter_${runId}_${i}`,
        agentId: agent.id,
        workspaceId: agent.workspaceId,
        timestamp: new Date(),
        provider: 'openai',
        model: 'gpt-4o-mini',
        tier: agent.byok ? null : plan.tier,
        mode: agent.byok ? 'byok' : 'managed',
        plan: agent.byok ? null : plan.id,
        requestType: 'chat',
        status: 'ok',
        usageSource: 'provider',
        tokensInput,
        tokensOutput,
        latencyMs: 300,
        credential: agent.byok ? `byok:${agent.id}:k1:abcdefgh` : 'pool:openai:0',
        sandbox: false,
        attempt: 1,
        priceSnapshot: agent.byok ? byokSnapshot : managedSnapshot,
        countsAsRequest: true,
        budgetMicros: agent.byok ? null : undefined,
      };
      meter.record(event);
      // Yield now and then so the writer runs concurrently with the producer, as in a server.
      if (i % 500 === 499) {
        maxPending = Math.max(maxPending, meter.pending);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    const enqueueSeconds = (performance.now() - started) / 1000;
    const drained = await meter.drain(300_000);
    const totalSeconds = (performance.now() - started) / 1000;
    if (!drained) throw new Error('meter did not drain within 300 s');
    await meter.stop();

    const agentIds = agents.map((agent) => new Types.ObjectId(agent.id));
    const db = connection.db!;
    const eventsInDb = await db.collection('token_meter').countDocuments({ agentId: { $in: agentIds } });
    const [eventSum] = await db
      .collection('token_meter')
      .aggregate([{ $match: { agentId: { $in: agentIds } } }, { $group: { _id: null, tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } } } }])
      .toArray();
    const [rollupSum] = await db
      .collection('usage_monthly')
      .aggregate([{ $match: { agentId: { $in: agentIds } } }, { $group: { _id: null, tokens: { $sum: '$tokens' }, requests: { $sum: '$requests' } } }])
      .toArray();
    const eventTokens = (eventSum?.tokens as number) ?? 0;
    const rollupTokens = (rollupSum?.tokens as number) ?? 0;
    const rollupRequests = (rollupSum?.requests as number) ?? 0;
    return {
      events: options.events,
      agents: options.agents,
      enqueueSeconds,
      totalSeconds,
      eventsPerSecond: options.events / totalSeconds,
      maxPending,
      eventsInDb,
      eventTokens,
      rollupTokens,
      expectedTokens,
      rollupRequests,
      zeroLoss: eventsInDb === options.events && eventTokens === expectedTokens && rollupTokens === expectedTokens && rollupRequests === options.events,
    };
  } finally {
    await connection.close();
  }
}

// ---------------------------------------------------------------- 3. metered call → usage:update

export interface LiveLatencyResult {
  calls: number;
  spacingMs: number;
  updates: number;
  missed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  updatesPerSecond: number;
}

export async function benchLiveUpdates(options: { baseUrl: string; calls: number; spacingMs: number }): Promise<LiveLatencyResult> {
  const { baseUrl } = options;
  const user = await registerUser(baseUrl, 'Live bench owner');
  const agentId = await createAgent(baseUrl, user, 'Live agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-bench-live-0123456789' });
  const key = await createAgentKey(baseUrl, user, agentId);

  const updates: Array<{ at: number; requests: number }> = [];
  const socket: Socket = io(baseUrl, { auth: { token: user.token }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
    socket.on('usage:update', (payload: { totals?: { requests?: number } }) => {
      updates.push({ at: performance.now(), requests: Number(payload.totals?.requests ?? 0) });
    });
    const joined = await socket.timeout(5_000).emitWithAck('workspace:join', { workspaceId: user.workspaceId });
    if (joined && typeof joined === 'object' && 'ok' in joined && joined.ok === false) throw new Error(`workspace:join refused: ${JSON.stringify(joined)}`);

    const responses: number[] = [];
    const firstCallAt = performance.now();
    for (let k = 1; k <= options.calls; k++) {
      const sentAt = performance.now();
      const response = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: CHAT_BODY,
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`live: /v1 call ${k}: HTTP ${response.status}: ${text.slice(0, 300)}`);
      responses.push(performance.now());
      const wait = sentAt + options.spacingMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(2_000);
    const elapsedSeconds = (performance.now() - firstCallAt) / 1000;

    const latencies: number[] = [];
    let missed = 0;
    let cursor = 0;
    for (let k = 1; k <= options.calls; k++) {
      while (cursor < updates.length && updates[cursor]!.requests < k) cursor++;
      const update = updates[cursor];
      if (!update) {
        missed++;
        continue;
      }
      // An update can (rarely) overtake the HTTP response it reflects: that counts as 0 ms.
      latencies.push(Math.max(0, update.at - responses[k - 1]!));
    }
    const sorted = sortedCopy(latencies);
    return {
      calls: options.calls,
      spacingMs: options.spacingMs,
      updates: updates.length,
      missed,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      updatesPerSecond: updates.length / elapsedSeconds,
    };
  } finally {
    socket.close();
  }
}
