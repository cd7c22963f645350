import type { Migration } from './migration.types';

// The activity log reads a day of one workspace (or one agent) newest first: two compound indexes on the meter's
// events, { workspaceId | agentId, day, timestamp: -1, _id: -1 }. createIndex is idempotent (an existing index
// with the same key and name is left as it is) and, unlike syncIndexes, drops nothing (the retention TTL index stays).
export const migration: Migration = {
  id: '004-activity-indexes',
  description: 'Index the meter events for the activity log (workspace/agent, day, newest first)',
  async up({ models }) {
    const events = models.MeterEvent.collection;
    await events.createIndex({ workspaceId: 1, day: 1, timestamp: -1, _id: -1 }, { name: 'activity_workspace_day' });
    await events.createIndex({ agentId: 1, day: 1, timestamp: -1, _id: -1 }, { name: 'activity_agent_day' });
  },
};
