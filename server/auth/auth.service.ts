// Accounts: register (with a first workspace), login, and who-am-I.
import { Types } from 'mongoose';
import type { UserModels } from '../users/user.model';
import { isDuplicateKeyError } from '../db/driver-errors';
import { DomainError, conflict } from '../errors/domain-error';
import { hashPassword, verifyPassword } from '../vault/password-hashing';
import type { TokenService } from './token.service';
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
    private readonly tokens: TokenService,
    private readonly workspaces: WorkspaceService,
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
      return { token: this.tokens.issue(userId.toString()), user: { id: userId.toString(), email, name: input.name.trim() }, workspace };
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
    return { token: this.tokens.issue(user._id.toString()), user: { id: user._id.toString(), email: user.email, name: user.name } };
  }

  async me(userId: string) {
    const user = await this.models.User.findById(userId).lean();
    if (!user) throw new DomainError('UNAUTHORIZED', 'This account no longer exists.');
    return {
      user: { id: user._id.toString(), email: user.email, name: user.name },
      workspaces: await this.workspaces.listForUser(userId),
    };
  }
}
