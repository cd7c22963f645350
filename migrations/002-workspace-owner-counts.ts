import type { Migration } from './migration.types';

// Workspaces made before the owner count existed get it from their memberships (the last-owner guard reads it).
export const migration: Migration = {
  id: '002-workspace-owner-counts',
  description: 'Count each workspace\'s owners into workspaces.ownerCount',
  async up({ models }) {
    const counts = await models.Membership.aggregate<{ _id: unknown; owners: number }>([{ $match: { role: 'owner' } }, { $group: { _id: '$workspaceId', owners: { $sum: 1 } } }]);
    for (const { _id, owners } of counts) await models.Workspace.collection.updateOne({ _id: _id as never }, { $set: { ownerCount: owners } });
  },
};
