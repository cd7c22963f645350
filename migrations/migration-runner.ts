// Applies migrations/NNN-*.ts in order, recording applied ids in the `migrations` collection; idempotent.
import type { Connection } from 'mongoose';
import type { Logger } from '../server/logger';
import { createModels, type Models } from '../server/platform-models';
import type { Migration } from './migration.types';
import { migration as createIndexes } from './001-create-indexes';
import { migration as workspaceOwnerCounts } from './002-workspace-owner-counts';
import { migration as sessionIndexes } from './003-session-indexes';
import { migration as activityIndexes } from './004-activity-indexes';
import { migration as invites } from './005-invites';
import { migration as billing } from './006-billing';
import { migration as cacheExperiments } from './007-cache-experiments';
import { migration as publishCollections } from './008-publish-collections';
import { migration as alertsWebhooksKeyHealth } from './009-alerts-webhooks-key-health';
import { migration as activityFilterIndexes } from './010-activity-filter-indexes';
import { migration as providerOutages } from './011-provider-outages';

export const MIGRATIONS: Migration[] = [createIndexes, workspaceOwnerCounts, sessionIndexes, activityIndexes, invites, billing, cacheExperiments, publishCollections, alertsWebhooksKeyHealth, activityFilterIndexes, providerOutages];

export async function runMigrations(connection: Connection, logger: Logger, models: Models = createModels(connection)): Promise<string[]> {
  const collection = connection.collection<{ _id: string; appliedAt: Date; description: string }>('migrations');
  const applied = new Set((await collection.find({}, { projection: { _id: 1 } }).toArray()).map((record) => record._id));
  const newlyApplied: string[] = [];
  for (const migration of MIGRATIONS) {
    if (applied.has(migration.id)) continue;
    await migration.up({ connection, models });
    await collection.updateOne(
      { _id: migration.id },
      { $setOnInsert: { appliedAt: new Date(), description: migration.description } },
      { upsert: true },
    );
    newlyApplied.push(migration.id);
    logger.info({ migration: migration.id }, 'migration applied');
  }
  return newlyApplied;
}
