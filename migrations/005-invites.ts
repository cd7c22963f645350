import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Workspace invites arrived after 001: their collection and indexes (token hash, pending list, one pending per address).
export const migration: Migration = {
  id: '005-invites',
  description: 'Create the invites collection and its indexes',
  async up({ models }) {
    await models.Invite.createCollection().catch((error: unknown) => {
      if (!isNamespaceExistsError(error)) throw error;
    });
    await models.Invite.syncIndexes();
  },
};
