import type { Migration } from './migration.types';

// The activity log (and today by hour) read one UTC hour of one workspace or agent, newest first: every meter event
// gets its `hour` ("2026-11-30T14", from its timestamp; new events are written with it) and two compound indexes
// { workspaceId | agentId, hour, timestamp: -1, _id: -1 }. createIndex is idempotent and, unlike syncIndexes, drops
// nothing (the retention TTL index stays). The backfill touches only events without `hour`, so a re-run is cheap.
export const migration: Migration = {
  id: '004-activity-indexes',
  description: 'Meter events: an hour field and the activity log indexes (workspace/agent, hour, newest first)',
  async up({ models }) {
    const events = models.MeterEvent.collection;
    await events.updateMany({ hour: { $exists: false } }, [{ $set: { hour: { $dateToString: { format: '%Y-%m-%dT%H', date: '$timestamp' } } } }]);
    await events.createIndex({ workspaceId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_workspace_hour' });
    await events.createIndex({ agentId: 1, hour: 1, timestamp: -1, _id: -1 }, { name: 'activity_agent_hour' });
  },
};
