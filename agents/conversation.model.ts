// conversations: what a published chat's visitor (or a builder in the playground) and the agent said, kept only while
// the agent's retention allows; a TTL index on expiresAt removes each one when its time is up.
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: string;
  at: Date;
}

export interface ConversationDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  source: 'published' | 'playground';
  /** The anonymous visitor of a published chat (null in the playground). */
  visitorId: string | null;
  /** The builder who chatted in the playground (null for visitors). */
  userId: Types.ObjectId | null;
  title: string;
  messages: ConversationMessage[];
  messageCount: number;
  createdAt: Date;
  updatedAt: Date;
  /** createdAt of the last message + the agent's retention days; the TTL index deletes the conversation then. */
  expiresAt: Date;
}

const conversationSchema = new Schema<ConversationDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    source: { type: String, enum: ['published', 'playground'], required: true },
    visitorId: { type: String, default: null },
    userId: { type: Schema.Types.ObjectId, default: null },
    title: { type: String, default: '' },
    messages: { type: Schema.Types.Mixed, default: [] },
    messageCount: { type: Number, default: 0 },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'conversations', autoIndex: false, versionKey: false, timestamps: true, minimize: false },
);
conversationSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });
conversationSchema.index({ agentId: 1, source: 1, updatedAt: -1 });
conversationSchema.index({ agentId: 1, visitorId: 1, updatedAt: -1 });

export const createConversationModels = (connection: Connection) => ({
  Conversation: connection.model<ConversationDocument>('Conversation', conversationSchema) as Model<ConversationDocument>,
});
export type ConversationModels = ReturnType<typeof createConversationModels>;
