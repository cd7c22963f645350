// Workspaces, memberships and roles, and the audit log. One place decides authorization: hasRole().
import { Types } from 'mongoose';
import type { UserModels } from '../users/user.model';
import type { WorkspaceModels } from './workspace.model';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../db/driver-errors';
import { conflict, forbidden, notFound } from '../errors/domain-error';
import { ROLES, type MembershipDocument, type Role } from './workspace.model';

export function hasRole(actual: Role, required: Role): boolean {
  return ROLES.indexOf(actual) >= ROLES.indexOf(required);
}

export interface AuditEntry {
  workspaceId: string;
  actorUserId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  changes?: Record<string, unknown>;
}

/** Removes what another module keeps for a workspace (agents and their API keys) before the workspace itself goes. */
export type WorkspaceDeletionStep = (workspaceId: string) => Promise<void>;

/** The member's role changed (or the member left) between reading and writing: nothing was done. */
const memberChanged = () => conflict('MEMBER_CHANGED', 'This member was changed by someone else at the same moment. Reload and try again.');
/** A membership ended: userId left workspaceId (userId absent: the workspace was deleted, every member left). */
export type MembershipRemovedListener = (removed: { workspaceId: string; userId?: string }) => void;

export class WorkspaceService {
  private readonly deletionSteps: WorkspaceDeletionStep[] = [];
  private readonly membershipRemovedListeners: MembershipRemovedListener[] = [];

  constructor(private readonly models: WorkspaceModels & UserModels) {}

  onWorkspaceDeleting(step: WorkspaceDeletionStep): void {
    this.deletionSteps.push(step);
  }

  onMembershipRemoved(listener: MembershipRemovedListener): void {
    this.membershipRemovedListeners.push(listener);
  }

  /**
   * Owner-only (checked by the route): agents and API keys first (so no key keeps working), then memberships (access
   * ends), then the workspace. Each step is idempotent, so a retry after a failure finishes the job. The audit log stays.
   */
  async deleteWorkspace(workspaceId: string, actorUserId: string): Promise<void> {
    const id = new Types.ObjectId(workspaceId);
    const workspace = await this.models.Workspace.findById(id, { name: 1 }).lean();
    if (!workspace) throw notFound('Workspace');
    for (const step of this.deletionSteps) await step(workspaceId);
    const memberships = await this.models.Membership.deleteMany({ workspaceId: id });
    for (const listener of this.membershipRemovedListeners) listener({ workspaceId });
    await this.models.Workspace.deleteOne({ _id: id });
    await this.audit({ workspaceId, actorUserId, action: 'workspace.delete', targetType: 'workspace', targetId: workspaceId, changes: { name: workspace.name, membershipsRemoved: memberships.deletedCount } });
  }

  async createWorkspace(userId: string, name: string) {
    const workspaceId = new Types.ObjectId();
    await this.models.Workspace.create({ _id: workspaceId, name, createdBy: new Types.ObjectId(userId), ownerCount: 1 });
    try {
      await this.models.Membership.create({ workspaceId, userId: new Types.ObjectId(userId), role: 'owner' });
    } catch (error) {
      await this.models.Workspace.deleteOne({ _id: workspaceId });
      throw error;
    }
    return { id: workspaceId.toString(), name, role: 'owner' as Role };
  }

  async listForUser(userId: string) {
    const memberships = await this.models.Membership.find({ userId: new Types.ObjectId(userId) }).sort({ createdAt: 1 }).lean();
    if (memberships.length === 0) return [];
    const workspaces = await this.models.Workspace.find({ _id: { $in: memberships.map((membership) => membership.workspaceId) } }).lean();
    const names = new Map(workspaces.map((workspace) => [workspace._id.toString(), workspace.name]));
    return memberships
      .filter((membership) => names.has(membership.workspaceId.toString()))
      .map((membership) => ({ id: membership.workspaceId.toString(), name: names.get(membership.workspaceId.toString())!, role: membership.role }));
  }

  async findRole(userId: string, workspaceId: string): Promise<Role | undefined> {
    if (!OBJECT_ID_PATTERN.test(workspaceId) || !OBJECT_ID_PATTERN.test(userId)) return undefined;
    const membership = await this.models.Membership.findOne(
      { workspaceId: new Types.ObjectId(workspaceId), userId: new Types.ObjectId(userId) },
      { role: 1 },
    ).lean();
    return membership?.role;
  }

  /** Non-members get 404 (the workspace's existence is not revealed); members below the role get 403. */
  async requireRole(userId: string, workspaceId: string, required: Role): Promise<Role> {
    const role = await this.findRole(userId, workspaceId);
    if (!role) throw notFound('Workspace');
    if (!hasRole(role, required)) throw forbidden();
    return role;
  }

  async addMember(workspaceId: string, actorUserId: string, input: { email: string; role: Role }) {
    const user = await this.models.User.findOne({ email: input.email }).lean();
    if (!user) throw notFound('User');
    const actorRole = await this.findRole(actorUserId, workspaceId);
    if (input.role === 'owner' && actorRole !== 'owner') throw forbidden('Only owners can add owners.');
    try {
      await this.models.Membership.create({ workspaceId: new Types.ObjectId(workspaceId), userId: user._id, role: input.role });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw conflict('ALREADY_MEMBER', 'This person is already a member of the workspace.');
      throw error;
    }
    if (input.role === 'owner') await this.takeOwnerSeat(workspaceId);
    await this.audit({ workspaceId, actorUserId, action: 'member.add', targetType: 'user', targetId: user._id.toString(), changes: { role: input.role } });
    return { userId: user._id.toString(), email: user.email, name: user.name, role: input.role };
  }

  /**
   * The last-owner rule is held by the database, not by a count read before the write: an owner leaves only through a
   * guarded `$inc` of the workspace's ownerCount that refuses to go below one, so two owners demoting or removing each
   * other at once cannot both succeed. The seat is released before the membership changes (a failure between the two
   * leaves the count low, which can only refuse a later change, never allow an ownerless workspace).
   */
  private async releaseOwnerSeat(workspaceId: string): Promise<void> {
    const released = await this.models.Workspace.updateOne({ _id: new Types.ObjectId(workspaceId), ownerCount: { $gt: 1 } }, { $inc: { ownerCount: -1 } });
    if (released.modifiedCount === 0) throw conflict('LAST_OWNER', 'A workspace needs at least one owner. Make someone else owner first.');
  }

  private async takeOwnerSeat(workspaceId: string): Promise<void> {
    await this.models.Workspace.updateOne({ _id: new Types.ObjectId(workspaceId) }, { $inc: { ownerCount: 1 } });
  }

  /** Owners alone grant or take the owner role; the last owner can neither be demoted nor removed. */
  private async assertMayChange(workspaceId: string, actorUserId: string, userId: string, newRole: Role | undefined): Promise<MembershipDocument> {
    if (!OBJECT_ID_PATTERN.test(userId)) throw notFound('Member');
    const membership = await this.models.Membership.findOne({ workspaceId: new Types.ObjectId(workspaceId), userId: new Types.ObjectId(userId) }).lean<MembershipDocument>();
    if (!membership) throw notFound('Member');
    const actorRole = await this.findRole(actorUserId, workspaceId);
    if ((membership.role === 'owner' || newRole === 'owner') && actorRole !== 'owner') throw forbidden('Only owners can change or remove owners.');
    return membership;
  }

  async changeMemberRole(workspaceId: string, actorUserId: string, userId: string, role: Role) {
    const membership = await this.assertMayChange(workspaceId, actorUserId, userId, role);
    if (membership.role === 'owner' && role !== 'owner') {
      await this.releaseOwnerSeat(workspaceId);
      const demoted = await this.models.Membership.updateOne({ _id: membership._id, role: 'owner' }, { $set: { role } });
      if (demoted.matchedCount === 0) {
        // Someone else changed this member first: the seat was not this request's to release.
        await this.takeOwnerSeat(workspaceId);
        throw memberChanged();
      }
    } else if (role === 'owner') {
      const promoted = await this.models.Membership.updateOne({ _id: membership._id, role: membership.role }, { $set: { role } });
      if (promoted.matchedCount === 0) throw memberChanged();
      if (membership.role !== 'owner') await this.takeOwnerSeat(workspaceId);
    } else {
      const changed = await this.models.Membership.updateOne({ _id: membership._id, role: { $ne: 'owner' } }, { $set: { role } });
      if (changed.matchedCount === 0) throw memberChanged();
    }
    await this.audit({ workspaceId, actorUserId, action: 'member.role_change', targetType: 'user', targetId: userId, changes: { from: membership.role, to: role } });
    const user = await this.models.User.findById(userId, { email: 1, name: 1 }).lean();
    return { userId, email: user?.email ?? null, name: user?.name ?? null, role };
  }

  async removeMember(workspaceId: string, actorUserId: string, userId: string): Promise<void> {
    const membership = await this.assertMayChange(workspaceId, actorUserId, userId, undefined);
    if (membership.role === 'owner') await this.releaseOwnerSeat(workspaceId);
    const removed = await this.models.Membership.deleteOne({ _id: membership._id, role: membership.role });
    if (removed.deletedCount === 0) {
      if (membership.role === 'owner') await this.takeOwnerSeat(workspaceId);
      throw memberChanged();
    }
    for (const listener of this.membershipRemovedListeners) listener({ workspaceId, userId });
    await this.audit({ workspaceId, actorUserId, action: 'member.remove', targetType: 'user', targetId: userId, changes: { role: membership.role } });
  }

  async listMembers(workspaceId: string) {
    const memberships = await this.models.Membership.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: 1 }).lean();
    const users = await this.models.User.find({ _id: { $in: memberships.map((membership) => membership.userId) } }, { email: 1, name: 1 }).lean();
    const byId = new Map(users.map((user) => [user._id.toString(), user]));
    return memberships.map((membership) => {
      const user = byId.get(membership.userId.toString());
      return { userId: membership.userId.toString(), email: user?.email ?? null, name: user?.name ?? null, role: membership.role };
    });
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.models.AuditLog.create({
      workspaceId: new Types.ObjectId(entry.workspaceId),
      actorUserId: entry.actorUserId ? new Types.ObjectId(entry.actorUserId) : null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId ?? null,
      changes: entry.changes ?? {},
    });
  }

  async listAudit(workspaceId: string, limit = 200) {
    const entries = await this.models.AuditLog.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: -1 }).limit(limit).lean();
    return entries.map((entry) => ({
      id: entry._id.toString(),
      actorUserId: entry.actorUserId?.toString() ?? null,
      action: entry.action,
      targetType: entry.targetType,
      targetId: entry.targetId,
      changes: entry.changes,
      createdAt: entry.createdAt.toISOString(),
    }));
  }
}
