// The auth feature's own records: sign-in sessions (one per issued token) and single-use password reset links.
import { Schema, type Connection, type InferSchemaType, type Model } from 'mongoose';

/**
 * One document per issued user token, keyed by the token's `jti`. A token is accepted only while its session exists
 * and carries the user's current `tokenVersion`; the TTL index drops the record when the token expires anyway.
 */
export const sessionSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    /** The user's tokenVersion when the session started: bumping the user's version ends every older session at once. */
    tokenVersion: { type: Number, required: true },
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'sessions', autoIndex: false, versionKey: false },
);

/** A reset link: only the SHA-256 of its random token is stored, as `_id`; redeeming deletes it (single use). */
export const passwordResetSchema = new Schema(
  {
    _id: { type: String, required: true },
    userId: { type: Schema.Types.ObjectId, required: true, index: true },
    /** Who issued it, for the log: `operator` (the CLI) today. */
    issuedBy: { type: String, required: true },
    expiresAt: { type: Date, required: true, index: { expireAfterSeconds: 0 } },
  },
  { timestamps: { createdAt: true, updatedAt: false }, collection: 'password_resets', autoIndex: false, versionKey: false },
);

export type SessionDocument = InferSchemaType<typeof sessionSchema>;
export type PasswordResetDocument = InferSchemaType<typeof passwordResetSchema>;

export const createAuthModels = (connection: Connection) => ({
  Session: connection.model<SessionDocument>('Session', sessionSchema) as Model<SessionDocument>,
  PasswordReset: connection.model<PasswordResetDocument>('PasswordReset', passwordResetSchema) as Model<PasswordResetDocument>,
});
export type AuthModels = ReturnType<typeof createAuthModels>;
