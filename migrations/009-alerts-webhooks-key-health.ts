import type { Migration } from './migration.types';
import { isNamespaceExistsError } from '../server/db/driver-errors';

// Alert thresholds, webhooks (endpoints, durable deliveries), key status history, and the alerts' new index (open
// alerts of an agent, for auto-resolve).
export const migration: Migration = {
  id: '009-alerts-webhooks-key-health',
  description: 'Create the workspace_alert_settings, webhook_endpoints, webhook_deliveries and key_status_history collections; index open alerts',
  async up({ models }) {
    for (const model of [models.WorkspaceAlertSettings, models.WebhookEndpoint, models.WebhookDelivery, models.KeyStatusChange, models.Alert]) {
      await model.createCollection().catch((error: unknown) => {
        if (!isNamespaceExistsError(error)) throw error;
      });
      await model.syncIndexes();
    }
  },
};
