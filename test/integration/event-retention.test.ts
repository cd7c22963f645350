// Raw meter events age out after METER_EVENT_RETENTION_MONTHS through a TTL index that every start makes match the
// setting; rollups have no TTL. Runs against the built-in store or MONGODB_URI.
import { expect } from 'chai';
import { startTestPlatform } from '../support/test-platform';
import { uniqueDatabaseName } from '../support/test-database';
import { Types } from 'mongoose';
import { RETENTION_INDEX_NAME, retentionSeconds } from '../../server/metering/event-retention';
import { firstCompleteMonth, reconcileUsage } from '../../server/metering/usage-reconcile.service';

describe('meter event retention', function () {
  this.timeout(60_000);
  const databaseName = uniqueDatabaseName('retention');

  async function indexesWith(months: string) {
    const started = await startTestPlatform({ databaseName, env: { METER_EVENT_RETENTION_MONTHS: months } });
    try {
      const { models } = started.platform;
      return { events: await models.MeterEvent.collection.indexes(), rollups: await models.UsageMonthly.collection.indexes() };
    } finally {
      await started.stop();
    }
  }

  it('creates the TTL index on timestamp, changes it when the setting changes, and drops it at 0; rollups never expire', async () => {
    const two = await indexesWith('2');
    const ttl = two.events.find((index) => index.name === RETENTION_INDEX_NAME);
    expect(ttl?.key).to.deep.equal({ timestamp: 1 });
    expect(ttl?.expireAfterSeconds).to.equal(retentionSeconds(2));
    expect(retentionSeconds(2)).to.be.at.least(62 * 86_400);
    expect(two.rollups.some((index) => index.expireAfterSeconds !== undefined)).to.equal(false);

    const three = await indexesWith('3');
    expect(three.events.filter((index) => index.name === RETENTION_INDEX_NAME).map((index) => index.expireAfterSeconds)).to.deep.equal([retentionSeconds(3)]);

    const forever = await indexesWith('0');
    expect(forever.events.some((index) => index.name === RETENTION_INDEX_NAME)).to.equal(false);
    expect(forever.events.some((index) => index.expireAfterSeconds !== undefined)).to.equal(false);
  });

  it('refuses a negative or fractional setting at boot, naming the variable', async () => {
    for (const bad of ['-1', '1.5', 'twelve']) {
      let message = '';
      await startTestPlatform({ databaseName, env: { METER_EVENT_RETENTION_MONTHS: bad } }).then(
        (started) => started.stop(),
        (error: Error) => (message = error.message),
      );
      expect(message).to.contain('METER_EVENT_RETENTION_MONTHS');
    }
  });

  it('reconcile never "repairs" a month whose events are partly aged out: it compares complete months only', async () => {
    expect(firstCompleteMonth(new Date('2026-03-01T00:00:00.000Z'))).to.equal('2026-03');
    expect(firstCompleteMonth(new Date('2026-03-01T00:00:00.001Z'))).to.equal('2026-04');
    expect(firstCompleteMonth(new Date('2026-12-15T00:00:00.000Z'))).to.equal('2027-01');

    const started = await startTestPlatform({ databaseName: uniqueDatabaseName('retention_reconcile') });
    try {
      const { models } = started.platform;
      const agentId = new Types.ObjectId();
      const workspaceId = new Types.ObjectId();
      // An old month: the rollup billed 100 tokens; only one 10-token event is left after retention.
      await models.UsageMonthly.collection.insertOne({ agentId, workspaceId, month: '2025-01', mode: 'managed', plan: 'pro', tokens: 100, tokensInput: 60, tokensOutput: 40, requests: 5, costTotalMicros: 900, priceTotalMicros: 0, overageTokens: 0 });
      await models.MeterEvent.collection.insertOne({
        requestId: `req_${new Types.ObjectId().toHexString()}`, agentId, workspaceId, month: '2025-01', day: '2025-01-31', timestamp: new Date('2025-01-31T12:00:00Z'),
        provider: 'openai', model: 'gpt-4o-mini', tier: 'standard', mode: 'managed', plan: 'pro', requestType: 'chat', status: 'ok', usageSource: 'provider',
        tokensInput: 6, tokensOutput: 4, costInputMicros: 1, costOutputMicros: 2, costTotalMicros: 3, priceTotalMicros: 0, overageTokens: 0, latencyMs: 5,
        credential: 'pool:openai:0:abcd', sandbox: true, attempt: 1, countedAsRequest: true,
      });
      const keptSince = new Date('2025-01-15T00:00:00Z');
      const result = await reconcileUsage(models, { fix: true, keptSince });
      expect(result.fromMonth).to.equal('2025-02');
      expect(result.drifts.filter((drift) => drift.agentId === agentId.toHexString())).to.deep.equal([]);
      const rollup = await models.UsageMonthly.collection.findOne({ agentId, month: '2025-01' });
      expect(rollup?.tokens).to.equal(100);
      let refused = '';
      await reconcileUsage(models, { month: '2025-01', fix: true, keptSince }).catch((error: { code?: string }) => (refused = error.code ?? ''));
      expect(refused).to.equal('INVALID_MONTH');
      // Without a retention window the same event would be taken for the truth: the guard is what keeps the bill.
      const unguarded = await reconcileUsage(models, { month: '2025-01', fix: false });
      expect(unguarded.drifts.some((drift) => drift.field === 'tokens' && drift.rollup === 100 && drift.events === 10)).to.equal(true);
    } finally {
      await started.stop();
    }
  });
});
