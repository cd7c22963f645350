// The one place that reads process.env: validates it with zod at boot and names the variable in every error.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { z } from 'zod';
import { POOLED_PROVIDER_IDS, providerEnvName, type PooledProviderId } from './provider-ids';

export type { PooledProviderId };

export interface VaultMasterKey {
  id: string;
  key: Uint8Array; // 32 bytes
}

export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  isProduction: boolean;
  port: number;
  host: string;
  mongodbUri: string | undefined;
  jwtSecret: string;
  jwtIssuer: string;
  jwtAudience: string;
  jwtExpiresInSeconds: number;
  /** Oldest first; the last one is the newest and seals new keys. */
  vaultKeys: VaultMasterKey[];
  poolKeys: Record<PooledProviderId, string[]>;
  baseUrls: Partial<Record<PooledProviderId, string>>;
  llmSandbox: 'auto' | 'on' | 'off';
  allowPrivateBaseUrls: boolean;
  allowProviderBaseUrlOverride: boolean;
  redisUrl: string | undefined;
  dataDir: string;
  catalogFile: string | undefined;
  logLevel: string;
  jsonBodyLimit: string;
  llmDeadlineMs: number;
  /** A database operation that gets no answer for this long fails (503 DB_UNAVAILABLE) instead of hanging. */
  dbOperationTimeoutMs: number;
  /** The meter starts a batch write at most once per interval (fewer database round trips per call under load). */
  meterFlushIntervalMs: number;
  /** Months raw meter events are kept (0: forever); rollups are kept forever. */
  meterEventRetentionMonths: number;
  /** When the meter's crash spool is fsynced: never, once per batch (default), or per event. */
  meterSpoolSync: 'never' | 'batch' | 'always';
  meterBusyFlushIntervalMs: number;
  trustProxy: boolean;
  /** alerts: ALLOW_PRIVATE_WEBHOOK_URLS accepts loopback/private webhook targets (and plain http to them). */
  allowPrivateWebhookUrls: boolean;
  /** alerts: KEY_CHECK_INTERVAL_HOURS, how often at most a BYOK key in use is checked in the background (0: never). */
  keyCheckIntervalHours: number;
  // Invites (experience-b): mailed when SMTP_URL is set; the link is always shown to the inviter as well.
  /** smtp(s)://user:pass@host:port — a secret: never logged or answered. */
  smtpUrl: string | undefined;
  mailFrom: string;
  /** The address people open the web app at (links in mails); unset: the inviter's own origin. */
  publicUrl: string | undefined;
  inviteLifetimeDays: number;
  /** WEB_CONCURRENCY: worker processes sharing the port (1: this process serves; more: a primary forks them). */
  webConcurrency: number;
  /** Set by the primary in each worker it forks (1..WEB_CONCURRENCY); undefined in a single process. */
  workerSlot: number | undefined;
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const booleanString = z
  .enum(['true', 'false', '1', '0', 'yes', 'no', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  MONGODB_URI: z
    .string()
    .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
    .optional(),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_EXPIRES_IN_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
  VAULT_KEYS: z.string().optional(),
  LLM_SANDBOX: z.enum(['auto', 'on', 'off']).default('auto'),
  ALLOW_PRIVATE_BASE_URLS: booleanString,
  ALLOW_PROVIDER_BASE_URL_OVERRIDE: booleanString,
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').optional(),
  DATA_DIR: z.string().default('.data'),
  CATALOG_FILE: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  JSON_BODY_LIMIT: z.string().default('4mb'),
  LLM_DEADLINE_MS: z.coerce.number().int().positive().default(60_000),
  DB_OPERATION_TIMEOUT_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  METER_FLUSH_INTERVAL_MS: z.coerce.number().int().min(0).max(1000).default(100),
  METER_BUSY_FLUSH_INTERVAL_MS: z.coerce.number().int().min(0).max(5000).default(250),
  METER_EVENT_RETENTION_MONTHS: z.coerce.number().int().min(0).max(1200).default(13),
  METER_SPOOL_SYNC: z.enum(['never', 'batch', 'always']).default('batch'),
  TRUST_PROXY: booleanString,
  ALLOW_PRIVATE_WEBHOOK_URLS: booleanString,
  KEY_CHECK_INTERVAL_HOURS: z.coerce.number().min(0).max(720).default(6),
  // Invites (experience-b)
  SMTP_URL: z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://').optional(),
  MAIL_FROM: z.string().max(320).default('Agent Host <no-reply@localhost>'),
  PUBLIC_URL: z.string().url('must be a URL').optional(),
  INVITE_LIFETIME_DAYS: z.coerce.number().int().min(1).max(90).default(7),
  WEB_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  AGENT_HOST_WORKER_SLOT: z.coerce.number().int().min(1).max(64).optional(),
  ...Object.fromEntries(
    POOLED_PROVIDER_IDS.map(providerEnvName).flatMap((name) => [
      [`${name}_POOL_KEYS`, z.string().optional()],
      [`${name}_BASE_URL`, z.string().url('must be a URL').optional()],
    ]),
  ),
});

/** Parses `id:base64key,id:base64key` (oldest first). */
export function parseVaultKeys(value: string): VaultMasterKey[] {
  const keys = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const separator = entry.indexOf(':');
      if (separator <= 0) throw new ConfigError('VAULT_KEYS: each entry must be "<keyId>:<base64 32-byte key>"');
      const id = entry.slice(0, separator);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new ConfigError('VAULT_KEYS: key ids are 1-32 characters of [A-Za-z0-9_-]');
      const key = Buffer.from(entry.slice(separator + 1), 'base64');
      if (key.length !== 32) throw new ConfigError(`VAULT_KEYS: key "${id}" must decode to 32 bytes`);
      return { id, key: new Uint8Array(key) };
    });
  if (keys.length === 0) throw new ConfigError('VAULT_KEYS: at least one key is required');
  if (new Set(keys.map((key) => key.id)).size !== keys.length) throw new ConfigError('VAULT_KEYS: key ids must be unique');
  return keys;
}

interface DevelopmentSecrets {
  jwtSecret: string;
  vaultKeys: string;
}

/** Outside production, secrets missing from the environment are generated once and kept under the data dir. */
function loadOrCreateDevelopmentSecrets(dataDir: string): DevelopmentSecrets {
  const file = path.join(dataDir, 'dev-secrets.json');
  if (fs.existsSync(file)) {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as DevelopmentSecrets;
  }
  const secrets: DevelopmentSecrets = {
    jwtSecret: crypto.randomBytes(48).toString('base64url'),
    vaultKeys: `dev1:${crypto.randomBytes(32).toString('base64')}`,
  };
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as in most .env tooling.
  const cleaned = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = environmentSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
  }
  const env = parsed.data as z.infer<typeof environmentSchema> & Record<string, string | undefined>;
  const isProduction = env.NODE_ENV === 'production';
  if (env.WEB_CONCURRENCY > 1 && !env.REDIS_URL) {
    // Each worker has its own Socket.IO server: rooms must be shared through Redis, or a dashboard connected to one
    // worker would miss the usage another worker metered.
    throw new ConfigError('WEB_CONCURRENCY above 1 needs REDIS_URL (the workers share live dashboards through Redis)');
  }
  const dataDir = path.resolve(env.DATA_DIR);

  let jwtSecret = env.JWT_SECRET;
  let vaultKeysText = env.VAULT_KEYS;
  if (isProduction) {
    if (!jwtSecret) throw new ConfigError('JWT_SECRET is required when NODE_ENV=production');
    if (!vaultKeysText) throw new ConfigError('VAULT_KEYS is required when NODE_ENV=production');
  } else if (!jwtSecret || !vaultKeysText) {
    const secrets = loadOrCreateDevelopmentSecrets(dataDir);
    jwtSecret ??= secrets.jwtSecret;
    vaultKeysText ??= secrets.vaultKeys;
  }

  const poolKeys = {} as Record<PooledProviderId, string[]>;
  const baseUrls: Partial<Record<PooledProviderId, string>> = {};
  for (const id of POOLED_PROVIDER_IDS) {
    const name = providerEnvName(id);
    poolKeys[id] = (env[`${name}_POOL_KEYS`] ?? '')
      .split(',')
      .map((key) => key.trim())
      .filter(Boolean);
    const baseUrl = env[`${name}_BASE_URL`];
    if (baseUrl) baseUrls[id] = baseUrl.replace(/\/+$/, '');
  }

  return {
    nodeEnv: env.NODE_ENV,
    isProduction,
    port: env.PORT,
    host: env.HOST,
    mongodbUri: env.MONGODB_URI,
    jwtSecret: jwtSecret!,
    jwtIssuer: 'agent-host',
    jwtAudience: 'agent-host-api',
    jwtExpiresInSeconds: env.JWT_EXPIRES_IN_SECONDS,
    vaultKeys: parseVaultKeys(vaultKeysText!),
    poolKeys,
    baseUrls,
    llmSandbox: env.LLM_SANDBOX,
    allowPrivateBaseUrls: env.ALLOW_PRIVATE_BASE_URLS,
    allowProviderBaseUrlOverride: env.ALLOW_PROVIDER_BASE_URL_OVERRIDE,
    redisUrl: env.REDIS_URL,
    dataDir,
    catalogFile: env.CATALOG_FILE,
    logLevel: env.LOG_LEVEL,
    jsonBodyLimit: env.JSON_BODY_LIMIT,
    llmDeadlineMs: env.LLM_DEADLINE_MS,
    dbOperationTimeoutMs: env.DB_OPERATION_TIMEOUT_MS,
    meterFlushIntervalMs: env.METER_FLUSH_INTERVAL_MS,
    meterBusyFlushIntervalMs: env.METER_BUSY_FLUSH_INTERVAL_MS,
    meterEventRetentionMonths: env.METER_EVENT_RETENTION_MONTHS,
    meterSpoolSync: env.METER_SPOOL_SYNC,
    trustProxy: env.TRUST_PROXY,
    allowPrivateWebhookUrls: env.ALLOW_PRIVATE_WEBHOOK_URLS,
    keyCheckIntervalHours: env.KEY_CHECK_INTERVAL_HOURS,
    // Invites (experience-b)
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM,
    publicUrl: env.PUBLIC_URL?.replace(/\/+$/, ''),
    inviteLifetimeDays: env.INVITE_LIFETIME_DAYS,
    webConcurrency: env.WEB_CONCURRENCY,
    workerSlot: env.AGENT_HOST_WORKER_SLOT,
  };
}

/** True when managed plans for this provider should run on the built-in simulator. */
export function isSandboxedProvider(config: Config, provider: PooledProviderId): boolean {
  if (config.llmSandbox === 'on') return true;
  if (config.llmSandbox === 'off') return false;
  return !config.isProduction && config.poolKeys[provider].length === 0;
}
