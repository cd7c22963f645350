// Replays must never count twice: a batch whose acknowledgement was lost after it reached the store, and a spool
// replayed after a crash at each stage of the batch writer, leave every rollup equal to the sum of its events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { Types } from 'mongoose';
import { registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { MeterBatchWriter } from '../../server/metering/meter-batch-writer';
import { createEventItem, type EventItem, type QueueItem } from '../../server/metering/meter-queue-items';
import { MeterService } from '../../server/metering/meter.service';
import { MeterSpool } from '../../server/metering/meter-spool';
import type { MeterEventInput } from '../../server/metering/meter.types';
import { monthOf } from '../../server/metering/pricing';
import { meterEventFixture } from '../support/meter-events';

describe('meter replays count once', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;
  const month = monthOf(new Date());

  before(async () => {
    platform = await startTestPlatform({ meterSpool: false });
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());

  /** Managed events with no allowance left: every token is overage at $3/M, so the rollup's price is checked too. */
  const events = (agentId: string, count: number): MeterEventInput[] =>
    Array.from({ length: count }, (_, n) =>
      meterEventFixture({
        requestId: `req_replay_${agentId}_${n}`,
        agentId,
        workspaceId: owner.workspace.id,
        tokensInput: 1_000 + n,
        tokensOutput: 500,
        priceSnapshot: { inputUsdPerMillion: 0.15, outputUsdPerMillion: 0.6, overageUsdPerMillion: 3, includedTokens: 0 },
      }),
    );

  const expectRollupEqualsEvents = async (agentId: string, count: number) => {
    const { models } = platform.platform;
    const stored = await models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
    expect(stored).to.have.length(count);
    const rollup = await models.UsageMonthly.collection.findOne({ agentId: new Types.ObjectId(agentId), month });
    const tokens = stored.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0);
    expect(rollup!.tokens, 'rollup tokens').to.equal(tokens);
    expect(rollup!.requests).to.equal(count);
    expect(rollup!.costTotalMicros).to.equal(stored.reduce((total, event) => total + event.costTotalMicros, 0));
    expect(rollup!.overageTokens, 'rollup overage').to.equal(tokens);
    expect(rollup!.priceTotalMicros, 'rollup price').to.equal(tokens * 3);
    expect(stored.reduce((total, event) => total + event.priceTotalMicros, 0), 'Σ event prices').to.equal(tokens * 3);
  };

  it('the batch writer given the same staged items again (the acknowledgement of the rollup and overage was lost) counts them once', async () => {
    const agentId = new Types.ObjectId().toString();
    const writer = new MeterBatchWriter(platform.platform.models, () => undefined);
    const items = events(agentId, 3).map(createEventItem) as EventItem[];
    await writer.write(items);
    // The writes reached the store but their answers were lost: the items still look as before those stages.
    for (const item of items) {
      item.rolledUp = false;
      item.rollupPriced = false;
      item.eventPriced = false;
    }
    await writer.write(items);
    await expectRollupEqualsEvents(agentId, 3);
  });

  const spoolDirectory = () => fs.mkdtempSync(path.join(os.tmpdir(), 'meter-spool-test-'));

  /** What the next start does: recover, replay through a new meter with its own spool, write. */
  const replay = async (directory: string, expectedItems: number) => {
    const recovered = MeterSpool.recover(directory, platform.platform.logger);
    expect(recovered.items).to.have.length(expectedItems);
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { spool: new MeterSpool({ directory }, platform.platform.logger) });
    meter.replay(recovered.items);
    MeterSpool.removeRecovered(recovered);
    expect(await meter.drain()).to.equal(true);
    await meter.stop();
    expect(fs.readdirSync(directory), 'a drained meter leaves no spool').to.deep.equal([]);
  };

  it('a spool replayed after a crash between the rollup writes and their acknowledgement counts nothing twice', async () => {
    const agentId = new Types.ObjectId().toString();
    const directory = spoolDirectory();
    const spool = new MeterSpool({ directory, sync: 'never' }, platform.platform.logger);
    const items = events(agentId, 4).map(createEventItem);
    for (const item of items) spool.append(item);
    const writer = new MeterBatchWriter(platform.platform.models, () => undefined, (batch) => spool.recordProgress(batch));
    await writer.write(items);
    // Killed here: everything reached the store, nothing was acknowledged. close() keeps the unacknowledged file.
    spool.close();
    await replay(directory, 4);
    await expectRollupEqualsEvents(agentId, 4);
  });

  it('a spool replayed after a crash between the inserts and the rollup rolls the inserted events up once (a torn last line is skipped)', async () => {
    const agentId = new Types.ObjectId().toString();
    const directory = spoolDirectory();
    const spool = new MeterSpool({ directory, sync: 'never' }, platform.platform.logger);
    const items: QueueItem[] = events(agentId, 3).map(createEventItem);
    for (const item of items) spool.append(item);
    const killedBeforeRollups = new MeterBatchWriter(platform.platform.models, () => undefined, () => {
      throw new Error('killed');
    });
    await killedBeforeRollups.write(items).catch(() => undefined);
    expect(await platform.platform.models.MeterEvent.countDocuments({ agentId: new Types.ObjectId(agentId) }), 'inserted, not rolled up').to.equal(3);
    spool.close();
    const [file] = fs.readdirSync(directory);
    fs.appendFileSync(path.join(directory, file!), '{"s":99,"e":{"requestId":"torn');
    await replay(directory, 3);
    await expectRollupEqualsEvents(agentId, 3);
  });

  it('a spool whose items were all acknowledged replays nothing', async () => {
    const agentId = new Types.ObjectId().toString();
    const directory = spoolDirectory();
    const meter = new MeterService(platform.platform.models, platform.platform.logger, { spool: new MeterSpool({ directory }, platform.platform.logger) });
    for (const event of events(agentId, 5)) meter.record(event);
    expect(await meter.drain()).to.equal(true);
    // Killed after the acknowledgements: what the file holds then (copied, as a dead process would leave it) replays nothing.
    const left = spoolDirectory();
    for (const name of fs.readdirSync(directory)) fs.copyFileSync(path.join(directory, name), path.join(left, name));
    const recovered = MeterSpool.recover(left, platform.platform.logger);
    expect(recovered.files).to.have.length(1);
    expect(recovered.items).to.deep.equal([]);
    await meter.stop();
    await expectRollupEqualsEvents(agentId, 5);
  });
});
