import type { Migration } from './migration.types';

// The indexes known so far; syncIndexes is idempotent, so re-running is harmless.
export const migration: Migration = {
  id: '001-create-indexes',
  description: 'Create the indexes of every collection',
  async up({ models }) {
    for (const model of Object.values(models)) {
      await model.createCollection().catch((error: { code?: number }) => {
        if (error.code !== 48) throw error; // 48 = NamespaceExists
      });
      await model.syncIndexes();
    }
  },
};
