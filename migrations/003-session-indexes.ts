import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Sign-in sessions and password reset links arrived after 001: their collections and indexes (user id, TTL on expiry).
export const migration: Migration = {
  id: '003-session-indexes',
  description: 'Create the sessions and password_resets collections and their indexes',
  async up({ models }) {
    for (const model of [models.Session, models.PasswordReset]) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
  },
};
