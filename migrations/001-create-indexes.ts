import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// The indexes known so far; syncIndexes is idempotent, so re-running is harmless.
export const migration: Migration = {
  id: '001-create-indexes',
  description: 'Create the indexes of every collection',
  async up({ models }) {
    for (const model of Object.values(models)) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
  },
};
