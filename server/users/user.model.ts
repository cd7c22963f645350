// The user account record (login identity); auth and workspaces both read it, so it sits below them.
import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

export const userSchema = new Schema(
  {
    email: { type: String, required: true, unique: true },
    name: { type: String, required: true },
    passwordHash: { type: String, required: true },
    /** Bumped by sign out everywhere, a password change and a password reset: every older session ends (auth/session.service.ts). */
    tokenVersion: { type: Number, default: 0 },
  },
  { timestamps: true, collection: 'users', autoIndex: false },
);

export type UserDocument = InferSchemaType<typeof userSchema> & { _id: import('mongoose').Types.ObjectId };
export const createUserModel = (connection: Connection): Model<UserDocument> => connection.model<UserDocument>('User', userSchema);

export const createUserModels = (connection: Connection) => ({ User: createUserModel(connection) });
export type UserModels = ReturnType<typeof createUserModels>;
