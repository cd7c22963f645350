// How long raw meter events are kept: METER_EVENT_RETENTION_MONTHS months, applied as a TTL index on `timestamp`
// (MongoDB and the built-in store alike). Rollups, and so every monthly total, bill and dashboard, are kept forever;
// only the per-call rows (the CSV export's source) age out. 0 keeps events forever.
import type { Db } from 'mongodb';
import type { Logger } from '../logger';

export const RETENTION_INDEX_NAME = 'timestamp_retention';

/** A month counted as 31 days, so an event is never removed before its months are over (at most 3 days after). */
export function retentionSeconds(months: number): number {
  return months * 31 * 86_400;
}

interface IndexInfo {
  name?: string;
  expireAfterSeconds?: number;
}

/** Makes the TTL index match the setting: creates, changes (collMod) or drops it. Idempotent; run at every start. */
export async function applyMeterEventRetention(db: Db, collectionName: string, months: number, logger: Logger): Promise<void> {
  const events = db.collection(collectionName);
  const existing = ((await events.indexes().catch(() => [])) as IndexInfo[]).find((index) => index.name === RETENTION_INDEX_NAME);
  if (months <= 0) {
    if (existing) {
      await events.dropIndex(RETENTION_INDEX_NAME);
      logger.info('meter event retention off: events are kept forever');
    }
    return;
  }
  const seconds = retentionSeconds(months);
  if (!existing) {
    await events.createIndex({ timestamp: 1 }, { name: RETENTION_INDEX_NAME, expireAfterSeconds: seconds });
    logger.info({ months }, 'meter event retention applied');
    return;
  }
  if (existing.expireAfterSeconds === seconds) return;
  try {
    await db.command({ collMod: collectionName, index: { name: RETENTION_INDEX_NAME, expireAfterSeconds: seconds } });
  } catch {
    // A server without collMod on TTL indexes: the same result in two steps.
    await events.dropIndex(RETENTION_INDEX_NAME);
    await events.createIndex({ timestamp: 1 }, { name: RETENTION_INDEX_NAME, expireAfterSeconds: seconds });
  }
  logger.info({ months }, 'meter event retention changed');
}
