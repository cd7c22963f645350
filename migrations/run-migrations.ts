// `npm run migrate` / Procfile release: connect with the configured database and apply pending migrations.
import { loadConfig } from '../server/config/config';
import { createLogger } from '../server/logger';
import { connectDatabase } from '../server/db/database';
import { runMigrations } from './migration-runner';

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const database = await connectDatabase(config, logger);
  try {
    const applied = await runMigrations(database.connection, logger);
    logger.info({ applied, database: database.mode }, applied.length ? 'migrations applied' : 'no pending migrations');
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`migration failed: ${(error as Error).message}\n`);
  process.exit(1);
});
