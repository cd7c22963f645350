// The workspace usage query over 1,000 agents with a 10M-event month: the month's events and rollups written straight
// into the store, then the usage endpoint timed. A part of `npm run bench` (scripts/bench.ts).
import { performance } from 'node:perf_hooks';
import { Types } from 'mongoose';
import { MongoClient, type AnyBulkWriteOperation, type Document } from 'mongodb';
import type { Catalog, Plan } from '../server/catalog/catalog.service';
import { modelKey } from '../server/metering/model-key';
import { costMicros, dayOf, monthOf, overagePriceMicros, priceSnapshotFor } from '../server/metering/pricing';
import { fmt, log, percentile, sleep, sortedCopy } from './bench-support';
import { createAgent, registerUser } from './bench-http-setup';
import { seededRandom as random } from './bench-seeded-random';

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
