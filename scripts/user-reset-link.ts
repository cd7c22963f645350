// `npm run user:reset-link -- --email <email> [--base-url <url>] [--minutes <n>] [--database <name>]`: prints a
// single-use password reset link for that account (there is no email: the operator hands it over themselves).
// The link expires after 30 minutes by default; only a hash of its token is stored; redeeming it signs the account
// out everywhere. Issuing a new link for the same account voids the previous one.
import { loadConfig, type Config } from '../server/config/config';
import { createLogger, type Logger } from '../server/logger';
import { connectDatabase } from '../server/db/database';
import { createModels } from '../server/platform-models';
import { normalizeEmail } from '../server/auth/auth.service';
import { PasswordResetService, RESET_LINK_LIFETIME_MS, resetLinkPath } from '../server/auth/password-reset.service';

export interface ResetLinkOptions {
  email: string;
  /** Where people open the web client; default http://localhost:<PORT>. */
  baseUrl?: string;
  lifetimeMs?: number;
  databaseName?: string;
}

export async function issueResetLink(config: Config, logger: Logger, options: ResetLinkOptions): Promise<{ link: string; expiresAt: Date }> {
  const database = await connectDatabase(config, logger, { databaseName: options.databaseName });
  try {
    const resets = new PasswordResetService(createModels(database.connection));
    const { token, userId, expiresAt } = await resets.issue(normalizeEmail(options.email), { issuedBy: 'operator', lifetimeMs: options.lifetimeMs });
    // The user id and expiry only: the token itself never goes to the log.
    logger.info({ userId, expiresAt }, 'password reset link issued');
    const baseUrl = (options.baseUrl ?? `http://localhost:${config.port}`).replace(/\/+$/, '');
    return { link: `${baseUrl}${resetLinkPath(token)}`, expiresAt };
  } finally {
    await database.close();
  }
}

function readOption(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const value = args[index + 1];
  if (!value || value.startsWith('--')) throw new Error(`${name} needs a value`);
  return value;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const email = readOption(args, '--email');
  if (!email) throw new Error('usage: npm run user:reset-link -- --email <email> [--base-url <url>] [--minutes <n>] [--database <name>]');
  const minutes = readOption(args, '--minutes');
  const lifetimeMs = minutes === undefined ? RESET_LINK_LIFETIME_MS : Number(minutes) * 60_000;
  if (!Number.isFinite(lifetimeMs) || lifetimeMs <= 0 || lifetimeMs > 24 * 3600_000) throw new Error('--minutes must be a number from 1 to 1440');
  const config = loadConfig();
  // Logs go to stderr, so stdout carries only the link.
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const { link, expiresAt } = await issueResetLink(config, logger, { email, baseUrl: readOption(args, '--base-url'), lifetimeMs, databaseName: readOption(args, '--database') });
  process.stdout.write(`${link}\n`);
  process.stderr.write(`Single use, valid until ${expiresAt.toISOString()}. Redeeming it signs the account out everywhere.\n`);
}

if (require.main === module) {
  main().catch((error) => {
    const message = (error as { code?: string }).code === 'NOT_FOUND' ? 'no account with this email' : (error as Error).message;
    process.stderr.write(`user:reset-link failed: ${message}\n`);
    process.exit(1);
  });
}
