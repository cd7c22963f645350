import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Provider outages shared by every instance and worker (agents/provider-outage.model.ts): the collection and its TTL
// index on expiresAt, so a record nobody clears goes away after its window.
export const migration: Migration = {
  id: '011-provider-outages',
  description: 'Create the provider_outages collection (agent health across instances) with its TTL index',
  async up({ models }) {
    await models.ProviderOutage.createCollection().catch((error: unknown) => {
      if (!isNamespaceExistsError(error)) throw error;
    });
    await models.ProviderOutage.syncIndexes();
  },
};
