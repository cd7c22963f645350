import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// The response cache (TTL on expiresAt), A/B experiments (one running per agent), feedback, and the meter events'
// experiment index (per-variant results).
export const migration: Migration = {
  id: '007-cache-experiments',
  description: 'Create the response_cache, experiments and feedback collections, their indexes, and token_meter.experiment.id',
  async up({ models }) {
    for (const model of [models.ResponseCacheEntry, models.Experiment, models.Feedback]) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
    await models.MeterEvent.collection.createIndex({ 'experiment.id': 1, timestamp: -1 }, { sparse: true, name: 'experiment_events' });
  },
};
