// Password reset without email: the operator issues a single-use link that expires; only its token's hash is stored.
import crypto from 'node:crypto';
import type { UserModels } from '../users/user.model';
import type { AuthModels } from './auth.models';
import { DomainError, notFound } from '../errors/domain-error';

export const RESET_LINK_LIFETIME_MS = 30 * 60_000;

export function hashResetToken(token: string): string {
  return crypto.hash('sha256', token, 'hex');
}

/** The web client's reset page for a token (the host is the caller's: the CLI's --base-url, the browser's origin). */
export function resetLinkPath(token: string): string {
  return `/#/reset?token=${encodeURIComponent(token)}`;
}

export class PasswordResetService {
  constructor(private readonly models: UserModels & AuthModels) {}

  /** A new link for the account with this (normalized) email; any earlier link of that account stops working. */
  async issue(email: string, options: { issuedBy: string; lifetimeMs?: number }): Promise<{ token: string; userId: string; expiresAt: Date }> {
    const user = await this.models.User.findOne({ email }, { _id: 1 }).lean();
    if (!user) throw notFound('User');
    const token = crypto.randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + (options.lifetimeMs ?? RESET_LINK_LIFETIME_MS));
    await this.models.PasswordReset.deleteMany({ userId: user._id });
    await this.models.PasswordReset.create({ _id: hashResetToken(token), userId: user._id, issuedBy: options.issuedBy, expiresAt });
    return { token, userId: user._id.toString(), expiresAt };
  }

  /** Consumes the link (one atomic delete: two racing redemptions cannot both win) and names its user. */
  async redeem(token: string): Promise<string> {
    const record = await this.models.PasswordReset.findOneAndDelete({ _id: hashResetToken(token) }).lean();
    if (!record || record.expiresAt.getTime() <= Date.now()) {
      throw new DomainError('RESET_LINK_INVALID', 'This reset link is invalid, already used or expired. Ask for a new one.');
    }
    await this.models.PasswordReset.deleteMany({ userId: record.userId });
    return record.userId.toString();
  }
}
