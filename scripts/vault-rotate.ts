// `npm run vault:rotate [-- --database <name>]`: re-seals every stored provider key and webhook signing secret under the newest VAULT_KEYS entry.
// Rotation: add the new key last (VAULT_KEYS=old:...,new:...), restart the servers, run this, then drop the old key.
import path from 'node:path';
import { loadConfig, type Config } from '../server/config/config';
import { createLogger, type Logger } from '../server/logger';
import { connectDatabase } from '../server/db/database';
import { createModels } from '../server/platform-models';
import { createVault } from '../server/vault/vault.service';
import { loadCatalog } from '../server/catalog/catalog.service';
import { WorkspaceService } from '../server/workspaces/workspace.service';
import { TemplateService } from '../agents/template.service';
import { AgentService } from '../agents/agent.service';
import { WebhookService } from '../server/webhooks/webhook.service';

export interface VaultRotationCounts {
  total: number;
  resealed: number;
  alreadyCurrent: number;
  failed: number;
}

const TEMPLATES_DIRECTORY = path.join(__dirname, '..', 'templates');

/** Connects to the configured database and re-seals every BYOK key that names an older master key. */
export async function rotateVaultKeys(config: Config, logger: Logger, options: { databaseName?: string } = {}): Promise<VaultRotationCounts> {
  const vault = await createVault(config.vaultKeys);
  const database = await connectDatabase(config, logger, { databaseName: options.databaseName });
  try {
    const models = createModels(database.connection);
    const agents = new AgentService(models, config, loadCatalog(config.catalogFile), new TemplateService(TEMPLATES_DIRECTORY), vault, new WorkspaceService(models));
    const agentCounts = await agents.resealAllKeys();
    // Webhook signing secrets are sealed by the same vault: counted with the provider keys.
    const webhookCounts = await new WebhookService(models, vault, { allowPrivate: config.allowPrivateWebhookUrls }).resealAllSecrets();
    const counts = {
      total: agentCounts.total + webhookCounts.total,
      resealed: agentCounts.resealed + webhookCounts.resealed,
      alreadyCurrent: agentCounts.alreadyCurrent + webhookCounts.alreadyCurrent,
      failed: agentCounts.failed + webhookCounts.failed,
    };
    logger.info({ ...counts, newestKeyId: vault.newestKeyId }, 'vault rotation finished');
    return counts;
  } finally {
    await database.close();
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const databaseIndex = args.indexOf('--database');
  const databaseName = databaseIndex >= 0 ? args[databaseIndex + 1] : undefined;
  if (databaseIndex >= 0 && !databaseName) throw new Error('--database needs a name');
  const config = loadConfig();
  // Logs go to stderr, so stdout carries only the counts.
  const logger = createLogger({ level: 'warn', destination: process.stderr });
  const counts = await rotateVaultKeys(config, logger, { databaseName });
  process.stdout.write(`${JSON.stringify(counts)}\n`);
  if (counts.failed > 0) {
    process.stderr.write(`vault:rotate: ${counts.failed} key(s) could not be re-sealed (unknown master key or a record changed meanwhile); run again, and keep the old key configured until failed is 0\n`);
    process.exitCode = 1;
  }
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`vault:rotate failed: ${(error as Error).message}\n`);
    process.exit(1);
  });
}
