// Many calls recorded in one event-loop turn (a burst answered together) are each spooled before the turn ends and
// each metered exactly once; the meter events share one frozen price snapshot per model and plan (pricing.ts), and a
// process killed right after recording them replays exactly those events. Real store, real spool files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { MeterService } from '../../server/metering/meter.service';
import { MeterSpool } from '../../server/metering/meter-spool';
import { monthOf, priceSnapshotFor } from '../../server/metering/pricing';
import { meterEventFixture } from '../support/meter-events';

describe('meter: several calls in one turn', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;
  const directories: string[] = [];
  const spoolDirectory = () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'meter-same-turn-'));
    directories.push(directory);
    return directory;
  };

  before(async () => {
    platform = await startTestPlatform({ meterSpool: false });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    for (const directory of directories) fs.rmSync(directory, { recursive: true, force: true });
  });

  const eventsFor = (agentId: string, count: number) => {
    const plan = platform.platform.catalog.getPlan('pro');
    return Array.from({ length: count }, (_, n) =>
      meterEventFixture({
        requestId: `req_same_turn_${agentId}_${n}`,
        agentId,
        workspaceId: owner.workspace.id,
        tokensInput: 100 + n,
        tokensOutput: 7,
        priceSnapshot: priceSnapshotFor(platform.platform.catalog, 'openai', 'gpt-4o-mini', plan),
      }),
    );
  };

  it('each is spooled before the turn ends and written once; the rollup is their sum', async () => {
    const agentId = new Types.ObjectId().toString();
    const directory = spoolDirectory();
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { spool: new MeterSpool({ directory, sync: 'batch' }, platform.platform.logger) });
    const events = eventsFor(agentId, 25);
    expect(new Set(events.map((event) => event.priceSnapshot)).size, 'one shared snapshot').to.equal(1);
    expect(Object.isFrozen(events[0]!.priceSnapshot)).to.equal(true);
    for (const event of events) meter.record(event);
    meter.recordError({ workspaceId: owner.workspace.id, agentId, mode: 'managed', plan: 'pro', timestamp: new Date() });
    // Still the same turn: every item is on disk already.
    const spooled = fs.readdirSync(directory).flatMap((name) => fs.readFileSync(path.join(directory, name), 'utf8').split('\n').filter(Boolean));
    expect(spooled).to.have.length(26);

    expect(await meter.drain()).to.equal(true);
    await meter.stop();
    const { models } = platform.platform;
    const stored = await models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
    expect(stored.map((event) => event.requestId).sort()).to.deep.equal(events.map((event) => event.requestId).sort());
    const rollup = await models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month: monthOf(new Date()) });
    expect(rollup!.requests).to.equal(25);
    expect(rollup!.errors).to.equal(1);
    expect(rollup!.tokens).to.equal(events.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0));
    expect(rollup!.costTotalMicros).to.equal(stored.reduce((total, event) => total + event.costTotalMicros, 0));
    expect(fs.readdirSync(directory), 'a drained meter leaves no spool').to.deep.equal([]);
  });

  it('killed right after the turn: the next start replays exactly those events, once', async () => {
    const agentId = new Types.ObjectId().toString();
    const directory = spoolDirectory();
    // A long interval: after the first batch, the burst waits (the process is "killed" before its timer fires).
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { flushIntervalMs: 60_000, busyFlushIntervalMs: 60_000, spool: new MeterSpool({ directory, sync: 'batch' }, platform.platform.logger) });
    const all = eventsFor(agentId, 10);
    for (const event of all.slice(0, 4)) meter.record(event);
    expect(await meter.drain()).to.equal(true);
    const burst = all.slice(4);
    for (const event of burst) meter.record(event);
    // What the killed process leaves (its files now), found by the next start.
    const left = spoolDirectory();
    for (const name of fs.readdirSync(directory)) fs.copyFileSync(path.join(directory, name), path.join(left, name));
    const recovered = MeterSpool.recover(left, platform.platform.logger);
    expect(recovered.items.map((item) => (item.kind === 'event' ? item.event.requestId : 'error'))).to.deep.equal(burst.map((event) => event.requestId));
    const next = new MeterService(platform.platform.models, platform.platform.logger, { spool: new MeterSpool({ directory: left }, platform.platform.logger) });
    next.replay(recovered.items);
    MeterSpool.removeRecovered(recovered);
    expect(await next.drain()).to.equal(true);
    await next.stop();
    const counted = async () => {
      const rollup = await platform.platform.models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month: monthOf(new Date()) });
      return { events: await platform.platform.models.MeterEvent.countDocuments({ agentId: new Types.ObjectId(agentId) }), requests: rollup!.requests, tokens: rollup!.tokens };
    };
    const tokens = all.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0);
    expect(await counted()).to.deep.equal({ events: 10, requests: 10, tokens });
    // The first process, had it lived on, would write the same events again: refused as replays, nothing counts twice.
    expect(await meter.drain()).to.equal(true);
    await meter.stop();
    expect(await counted()).to.deep.equal({ events: 10, requests: 10, tokens });
  });

  it('a price snapshot is made again when the catalog\'s prices are not the ones it was made with', () => {
    const { catalog } = platform.platform;
    const plan = catalog.getPlan('pro');
    const first = priceSnapshotFor(catalog, 'openai', 'gpt-4o-mini', plan);
    expect(priceSnapshotFor(catalog, 'openai', 'gpt-4o-mini', plan)).to.equal(first);
    expect(priceSnapshotFor(catalog, 'openai', 'gpt-4o-mini', undefined)).to.not.equal(first);
    const changed = { ...plan, overageUsdPerMillion: plan.overageUsdPerMillion + 1 };
    const again = priceSnapshotFor(catalog, 'openai', 'gpt-4o-mini', changed);
    expect(again).to.not.equal(first);
    expect(again.overageUsdPerMillion).to.equal(plan.overageUsdPerMillion + 1);
    expect(first.overageUsdPerMillion, 'the earlier snapshot is unchanged').to.equal(plan.overageUsdPerMillion);
  });
});
