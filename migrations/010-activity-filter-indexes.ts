import type { Migration } from './migration.types';

// Every filter of the activity log gets its own index (status, API key, end user), each { workspaceId, <field>, hour,
// timestamp: -1, _id: -1 } like the workspace/agent ones of 004, so a rare value (one end user in thousands of events,
// the few errors) is read from the index instead of filtering a workspace's every event. createIndex by name is
// idempotent and drops nothing. Events without an API key or end user are indexed under null (no partial index:
// a query `endUser: "x"` then needs no partial-filter reasoning to use it).
export const migration: Migration = {
  id: '010-activity-filter-indexes',
  description: 'Meter events: activity log indexes by status, API key and end user (workspace, field, hour, newest first)',
  async up({ models }) {
    const events = models.MeterEvent.collection;
    await events.createIndex({ workspaceId: 1, status: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_status_hour' });
    await events.createIndex({ workspaceId: 1, apiKeyId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_api_key_hour' });
    await events.createIndex({ workspaceId: 1, endUser: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_end_user_hour' });
  },
};
