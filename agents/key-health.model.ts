// key_status_history: every change of a BYOK key's status (valid, invalid, rate_limited, …), when and what saw it.
import { Schema, Types, type Connection, type Model } from 'mongoose';
import { KEY_STATUSES, type KeyStatus } from './agent.model';

/** What observed the status: an agent call, the background checker, or an owner's "Test connection". */
export type KeyStatusSource = 'call' | 'background_check' | 'connection_test';

export interface KeyStatusChangeDocument {
  _id: Types.ObjectId;
  agentId: Types.ObjectId;
  workspaceId: Types.ObjectId;
  status: KeyStatus;
  previousStatus: KeyStatus | null;
  source: KeyStatusSource;
  /** The key's mask (sk-…a1b2), never the key: tells which key this was about. */
  keyMask: string | null;
  at: Date;
}

const keyStatusChangeSchema = new Schema<KeyStatusChangeDocument>(
  {
    agentId: { type: Schema.Types.ObjectId, required: true },
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    status: { type: String, enum: KEY_STATUSES, required: true },
    previousStatus: { type: String, enum: [...KEY_STATUSES, null], default: null },
    source: { type: String, enum: ['call', 'background_check', 'connection_test'], required: true },
    keyMask: { type: String, default: null },
    at: { type: Date, required: true },
  },
  { collection: 'key_status_history', autoIndex: false, versionKey: false },
);
keyStatusChangeSchema.index({ agentId: 1, at: -1 });

export const createKeyHealthModels = (connection: Connection) => ({
  KeyStatusChange: connection.model<KeyStatusChangeDocument>('KeyStatusChange', keyStatusChangeSchema) as Model<KeyStatusChangeDocument>,
});
export type KeyHealthModels = ReturnType<typeof createKeyHealthModels>;
