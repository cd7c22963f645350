import { Schema, Types, type Connection, type Model } from 'mongoose';

export const ROLES = ['viewer', 'builder', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export interface WorkspaceDocument {
  _id: Types.ObjectId;
  name: string;
  createdBy: Types.ObjectId;
  /** How many owners the workspace has: moved with every owner change by a guarded $inc, so it never reaches 0. */
  ownerCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface MembershipDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  userId: Types.ObjectId;
  role: Role;
  createdAt: Date;
}

export interface AuditLogDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  actorUserId: Types.ObjectId | null;
  action: string;
  targetType: string;
  targetId: string | null;
  changes: Record<string, unknown>;
  createdAt: Date;
}

const workspaceSchema = new Schema<WorkspaceDocument>(
  { name: { type: String, required: true }, createdBy: { type: Schema.Types.ObjectId, required: true }, ownerCount: { type: Number, required: true, default: 1 } },
  { timestamps: true, collection: 'workspaces', autoIndex: false },
);

const membershipSchema = new Schema<MembershipDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    userId: { type: Schema.Types.ObjectId, required: true },
    role: { type: String, enum: ROLES, required: true },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'memberships', autoIndex: false },
);
membershipSchema.index({ workspaceId: 1, userId: 1 }, { unique: true });
membershipSchema.index({ userId: 1 });

// Who changed what, when; never the secret itself (callers pass masks, not keys).
const auditLogSchema = new Schema<AuditLogDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    actorUserId: { type: Schema.Types.ObjectId, default: null },
    action: { type: String, required: true },
    targetType: { type: String, required: true },
    targetId: { type: String, default: null },
    changes: { type: Schema.Types.Mixed, default: {} },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'audit_log', autoIndex: false, minimize: false },
);
auditLogSchema.index({ workspaceId: 1, createdAt: -1 });

export const createWorkspaceModel = (connection: Connection): Model<WorkspaceDocument> => connection.model<WorkspaceDocument>('Workspace', workspaceSchema);
export const createMembershipModel = (connection: Connection): Model<MembershipDocument> => connection.model<MembershipDocument>('Membership', membershipSchema);
export const createAuditLogModel = (connection: Connection): Model<AuditLogDocument> => connection.model<AuditLogDocument>('AuditLog', auditLogSchema);

export const createWorkspaceModels = (connection: Connection) => ({
  Workspace: createWorkspaceModel(connection),
  Membership: createMembershipModel(connection),
  AuditLog: createAuditLogModel(connection),
});
export type WorkspaceModels = ReturnType<typeof createWorkspaceModels>;
