import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Publishing (#19, #12 item 7): end-user rollups, conversations (TTL), workspace templates, visitors' address counters
// (TTL), and the new indexes on agents (share-link slug) and token_meter (end user).
export const migration: Migration = {
  id: '008-publish-collections',
  description: 'Create the publishing collections and their indexes; add the slug and end-user indexes',
  async up({ models }) {
    for (const model of [models.EndUserUsage, models.Conversation, models.WorkspaceTemplate, models.VisitorAddressUsage, models.Agent, models.MeterEvent]) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
  },
};
