// Invites into a workspace: an admin invites an email address with a role; the invitee opens the single-use link,
// signs in (or signs up) with that address and becomes a member. Revocable while pending; expires.
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import type { UserModels } from '../users/user.model';
import type { WorkspaceModels } from './workspace.model';
import type { InviteDocument, InviteModels } from './invite.model';
import type { Role } from './workspace.model';
import type { InviteMailer } from './invite-mailer';
import type { WorkspaceService } from './workspace.service';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../db/driver-errors';
import { conflict, DomainError, forbidden, notFound } from '../errors/domain-error';
import type { InviteCreated, InvitePreview, InviteSummary } from '../../shared/invite-answers';

const DAY_MS = 86_400_000;

export function hashInviteToken(token: string): string {
  return crypto.hash('sha256', token, 'hex');
}

/** The web client's page for an invite token. */
export function inviteLinkPath(token: string): string {
  return `/#/invite?token=${encodeURIComponent(token)}`;
}

const inviteInvalid = () => new DomainError('INVITE_INVALID', 'This invite link is invalid, already used, revoked or expired. Ask for a new invite.');

export class InviteService {
  constructor(
    private readonly models: InviteModels & WorkspaceModels & UserModels,
    private readonly workspaces: WorkspaceService,
    private readonly mailer: InviteMailer,
    private readonly options: { lifetimeDays: number; publicUrl: string | undefined },
  ) {}

  /** Pending invites that ran out become `expired`, which frees their address for a new invite. */
  private async expireDue(filter: Record<string, unknown>): Promise<void> {
    await this.models.Invite.updateMany({ ...filter, status: 'pending', expiresAt: { $lte: new Date() } }, { $set: { status: 'expired' } });
  }

  async create(workspaceId: string, actorUserId: string, input: { email: string; role: Role }, origin: string): Promise<InviteCreated> {
    const workspace = new Types.ObjectId(workspaceId);
    const actorRole = await this.workspaces.findRole(actorUserId, workspaceId);
    if (input.role === 'owner' && actorRole !== 'owner') throw forbidden('Only owners can invite owners.');
    const existingUser = await this.models.User.findOne({ email: input.email }, { _id: 1 }).lean();
    if (existingUser && (await this.models.Membership.exists({ workspaceId: workspace, userId: existingUser._id }))) {
      throw conflict('ALREADY_MEMBER', 'This person is already a member of the workspace.');
    }
    await this.expireDue({ workspaceId: workspace, email: input.email });
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.options.lifetimeDays * DAY_MS);
    let invite: InviteDocument;
    try {
      invite = (await this.models.Invite.create({ workspaceId: workspace, email: input.email, role: input.role, tokenHash: hashInviteToken(token), invitedBy: new Types.ObjectId(actorUserId), expiresAt })).toObject();
    } catch (error) {
      if (isDuplicateKeyError(error)) throw conflict('INVITE_PENDING', 'This address already has a pending invite. Revoke it first to send a new one.');
      throw error;
    }
    const link = `${origin}${inviteLinkPath(token)}`;
    const [workspaceRecord, inviter] = await Promise.all([
      this.models.Workspace.findById(workspace, { name: 1 }).lean(),
      this.models.User.findById(actorUserId, { name: 1 }).lean(),
    ]);
    const mailed = this.mailer.configured
      ? await this.mailer.send({ to: input.email, workspaceName: workspaceRecord?.name ?? 'a workspace', inviterName: inviter?.name ?? 'Someone', role: input.role, link: `${this.options.publicUrl ?? origin}${inviteLinkPath(token)}`, expiresAt })
      : false;
    await this.workspaces.audit({ workspaceId, actorUserId, action: 'invite.create', targetType: 'invite', targetId: invite._id.toString(), changes: { email: input.email, role: input.role, mailed } });
    return { id: invite._id.toString(), email: invite.email, role: invite.role, expiresAt: expiresAt.toISOString(), link, mailed, mailConfigured: this.mailer.configured };
  }

  async listPending(workspaceId: string): Promise<InviteSummary[]> {
    const workspace = new Types.ObjectId(workspaceId);
    const invites = await this.models.Invite.find({ workspaceId: workspace, status: 'pending' }).sort({ createdAt: -1 }).limit(500).lean();
    const inviters = await this.models.User.find({ _id: { $in: [...new Set(invites.map((invite) => invite.invitedBy.toString()))].map((id) => new Types.ObjectId(id)) } }, { name: 1 }).lean();
    const names = new Map(inviters.map((user) => [user._id.toString(), user.name]));
    const now = Date.now();
    return invites.map((invite) => ({
      id: invite._id.toString(),
      email: invite.email,
      role: invite.role,
      status: invite.expiresAt.getTime() <= now ? 'expired' : 'pending',
      invitedBy: { id: invite.invitedBy.toString(), name: names.get(invite.invitedBy.toString()) ?? null },
      createdAt: invite.createdAt.toISOString(),
      expiresAt: invite.expiresAt.toISOString(),
    }));
  }

  /** Revokes a pending invite of this workspace; another workspace's invite (or an unknown id) is a 404. */
  async revoke(workspaceId: string, actorUserId: string, inviteId: string): Promise<void> {
    if (!OBJECT_ID_PATTERN.test(inviteId)) throw notFound('Invite');
    const invite = await this.models.Invite.findOne({ _id: new Types.ObjectId(inviteId), workspaceId: new Types.ObjectId(workspaceId) }, { role: 1, status: 1, email: 1 }).lean();
    if (!invite || invite.status !== 'pending') throw notFound('Invite');
    const actorRole = await this.workspaces.findRole(actorUserId, workspaceId);
    if (invite.role === 'owner' && actorRole !== 'owner') throw forbidden('Only owners can revoke an owner invite.');
    const revoked = await this.models.Invite.updateOne({ _id: invite._id, status: 'pending' }, { $set: { status: 'revoked', revokedAt: new Date() } });
    if (revoked.modifiedCount === 0) throw notFound('Invite');
    await this.workspaces.audit({ workspaceId, actorUserId, action: 'invite.revoke', targetType: 'invite', targetId: inviteId, changes: { email: invite.email } });
  }

  private async findUsable(token: string): Promise<InviteDocument> {
    if (typeof token !== 'string' || token.length < 20) throw inviteInvalid();
    const invite = await this.models.Invite.findOne({ tokenHash: hashInviteToken(token) }).lean<InviteDocument>();
    if (!invite || invite.status !== 'pending' || invite.expiresAt.getTime() <= Date.now()) throw inviteInvalid();
    return invite;
  }

  /** What the invite page shows before anyone signs in: the workspace, the role and the invited address. */
  async preview(token: string): Promise<InvitePreview> {
    const invite = await this.findUsable(token);
    const [workspace, inviter, account] = await Promise.all([
      this.models.Workspace.findById(invite.workspaceId, { name: 1 }).lean(),
      this.models.User.findById(invite.invitedBy, { name: 1 }).lean(),
      this.models.User.exists({ email: invite.email }),
    ]);
    if (!workspace) throw inviteInvalid();
    return { workspaceName: workspace.name, role: invite.role, email: invite.email, invitedBy: inviter?.name ?? null, expiresAt: invite.expiresAt.toISOString(), hasAccount: Boolean(account) };
  }

  /**
   * Redeems the link for the signed-in user, whose email must be the invited one. The invite is consumed by one
   * conditional update (pending and unexpired → accepted), so two redemptions of the same link cannot both win.
   */
  async accept(token: string, userId: string) {
    const invite = await this.findUsable(token);
    const user = await this.models.User.findById(userId, { email: 1 }).lean();
    if (!user) throw inviteInvalid();
    if (user.email !== invite.email) {
      throw new DomainError('INVITE_EMAIL_MISMATCH', `This invite is for ${invite.email}. Sign in with that address to accept it.`);
    }
    const workspace = await this.models.Workspace.findById(invite.workspaceId, { name: 1 }).lean();
    if (!workspace) throw inviteInvalid();
    if (await this.models.Membership.exists({ workspaceId: invite.workspaceId, userId: user._id })) {
      throw conflict('ALREADY_MEMBER', 'You are already a member of this workspace.');
    }
    const consumed = await this.models.Invite.updateOne(
      { _id: invite._id, status: 'pending', expiresAt: { $gt: new Date() } },
      { $set: { status: 'accepted', acceptedBy: user._id, acceptedAt: new Date() } },
    );
    if (consumed.modifiedCount === 0) throw inviteInvalid();
    try {
      await this.models.Membership.create({ workspaceId: invite.workspaceId, userId: user._id, role: invite.role });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw conflict('ALREADY_MEMBER', 'You are already a member of this workspace.');
      // Nothing half-written: the invite works again when the membership could not be written.
      await this.models.Invite.updateOne({ _id: invite._id, status: 'accepted' }, { $set: { status: 'pending', acceptedBy: null, acceptedAt: null } });
      throw error;
    }
    if (invite.role === 'owner') await this.models.Workspace.updateOne({ _id: invite.workspaceId }, { $inc: { ownerCount: 1 } });
    const workspaceId = invite.workspaceId.toString();
    await this.workspaces.audit({ workspaceId, actorUserId: userId, action: 'invite.accept', targetType: 'invite', targetId: invite._id.toString(), changes: { role: invite.role } });
    return { workspace: { id: workspaceId, name: workspace.name, role: invite.role } };
  }
}
