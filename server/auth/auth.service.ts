// Accounts: register (with a first workspace), login, who-am-I, and the password: change it, reset it from a link.
import { Types } from 'mongoose';
import type { UserModels } from '../users/user.model';
import { isDuplicateKeyError } from '../db/driver-errors';
import { DomainError, conflict } from '../errors/domain-error';
import { hashPassword, verifyPassword } from '../vault/password-hashing';
import type { SessionService } from './session.service';
import type { PasswordResetService } from './password-reset.service';
import type { WorkspaceService } from '../workspaces/workspace.service';

export interface PublicUser {
  id: string;
  email: string;
  name: string;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export class AuthService {
  // A fixed hash to verify against when the email is unknown, so timing does not reveal which emails exist.
  private decoyHash: Promise<string> | undefined;

  constructor(
    private readonly models: UserModels,
    private readonly sessions: SessionService,
    private readonly workspaces: WorkspaceService,
    private readonly resets: PasswordResetService,
  ) {}

  async register(input: { email: string; password: string; name: string }) {
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    const userId = new Types.ObjectId();
    try {
      await this.models.User.create({ _id: userId, email, name: input.name.trim(), passwordHash });
    } catch (error) {
      if (isDuplicateKeyError(error)) throw conflict('EMAIL_TAKEN', 'An account with this email already exists.');
      throw error;
    }
    try {
      const workspace = await this.workspaces.createWorkspace(userId.toString(), `${input.name.trim()}'s workspace`);
      return { token: await this.sessions.start(userId.toString(), 0), user: { id: userId.toString(), email, name: input.name.trim() }, workspace };
    } catch (error) {
      // Nothing half-written: an account without its workspace is removed again.
      await this.models.User.deleteOne({ _id: userId });
      throw error;
    }
  }

  async login(input: { email: string; password: string }) {
    const user = await this.models.User.findOne({ email: normalizeEmail(input.email) }).lean();
    this.decoyHash ??= hashPassword('decoy-password-for-timing');
    const valid = await verifyPassword(user?.passwordHash ?? (await this.decoyHash), input.password);
    if (!user || !valid) throw new DomainError('INVALID_CREDENTIALS', 'Email or password is incorrect.');
    // The version read with the password: a password change racing this login ends the session it starts.
    return { token: await this.sessions.start(user._id.toString(), user.tokenVersion ?? 0), user: publicUser(user) };
  }

  async me(userId: string) {
    const user = await this.models.User.findById(userId).lean();
    if (!user) throw new DomainError('UNAUTHORIZED', 'This account no longer exists.');
    return {
      user: publicUser(user),
      workspaces: await this.workspaces.listForUser(userId),
    };
  }

  /** Needs the current password; ends every session (this one too) and answers with a new token for this device. */
  async changePassword(userId: string, input: { currentPassword: string; newPassword: string }) {
    const user = await this.models.User.findById(userId).lean();
    if (!user) throw new DomainError('UNAUTHORIZED', 'This account no longer exists.');
    if (!(await verifyPassword(user.passwordHash, input.currentPassword))) {
      throw new DomainError('CURRENT_PASSWORD_INCORRECT', 'The current password is not correct.', {
        details: { issues: [{ field: 'currentPassword', message: 'is not correct' }] },
      });
    }
    return this.replacePassword(userId, input.newPassword);
  }

  /** Redeems a reset link: the new password is set, every session ends, and this device is signed in. */
  async resetPassword(input: { token: string; newPassword: string }) {
    const userId = await this.resets.redeem(input.token);
    return this.replacePassword(userId, input.newPassword);
  }

  private async replacePassword(userId: string, newPassword: string) {
    const passwordHash = await hashPassword(newPassword);
    const tokenVersion = await this.sessions.endAll(userId, { passwordHash });
    const user = await this.models.User.findById(userId).lean();
    if (!user) throw new DomainError('UNAUTHORIZED', 'This account no longer exists.');
    return { token: await this.sessions.start(userId, tokenVersion), user: publicUser(user) };
  }
}

function publicUser(user: { _id: Types.ObjectId; email: string; name: string }): PublicUser {
  return { id: user._id.toString(), email: user.email, name: user.name };
}
