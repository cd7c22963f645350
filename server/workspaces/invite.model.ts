// Workspace invites: an email address and a role, redeemed once through a link whose token only the link holds
// (the record keeps its SHA-256). One pending invite per address and workspace (a partial unique index).
import { Schema, Types, type Connection, type Model } from 'mongoose';
import { ROLES, type Role } from './workspace.model';

export const INVITE_STATUSES = ['pending', 'accepted', 'revoked', 'expired'] as const;
export type InviteStatus = (typeof INVITE_STATUSES)[number];

export interface InviteDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  email: string;
  role: Role;
  tokenHash: string;
  status: InviteStatus;
  invitedBy: Types.ObjectId;
  expiresAt: Date;
  acceptedBy: Types.ObjectId | null;
  acceptedAt: Date | null;
  revokedAt: Date | null;
  createdAt: Date;
}

const inviteSchema = new Schema<InviteDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    email: { type: String, required: true },
    role: { type: String, enum: ROLES, required: true },
    tokenHash: { type: String, required: true, unique: true },
    status: { type: String, enum: INVITE_STATUSES, required: true, default: 'pending' },
    invitedBy: { type: Schema.Types.ObjectId, required: true },
    expiresAt: { type: Date, required: true },
    acceptedBy: { type: Schema.Types.ObjectId, default: null },
    acceptedAt: { type: Date, default: null },
    revokedAt: { type: Date, default: null },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'invites', autoIndex: false, versionKey: false },
);
inviteSchema.index({ workspaceId: 1, status: 1, createdAt: -1 });
inviteSchema.index({ workspaceId: 1, email: 1 }, { unique: true, partialFilterExpression: { status: 'pending' }, name: 'one_pending_invite_per_email' });

export const createInviteModel = (connection: Connection): Model<InviteDocument> => connection.model<InviteDocument>('Invite', inviteSchema);
export const createInviteModels = (connection: Connection) => ({ Invite: createInviteModel(connection) });
export type InviteModels = ReturnType<typeof createInviteModels>;
