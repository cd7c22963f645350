// The sustained meter pipeline: events recorded as fast as the meter takes them, with a zero-loss check of events and
// rollups afterwards. A part of `npm run bench` (scripts/bench.ts).
import { performance } from 'node:perf_hooks';
import mongoose, { Types } from 'mongoose';
import pino from 'pino';
import type { Catalog } from '../server/catalog/catalog.service';
import { createModels } from '../server/platform-models';
import { runMigrations } from '../migrations/migration-runner';
import { MeterService } from '../server/metering/meter.service';
import type { MeterEventInput } from '../server/metering/meter.types';
import { priceSnapshotFor } from '../server/metering/pricing';
import { sleep } from './bench-support';
import { seededRandom as random } from './bench-seeded-random';

const silentLogger = pino({ level: 'silent' });

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
