// `npm run statements:operator-export -- --month 2026-11`: every closed statement of a month with the platform's cost
// of its managed calls, as CSV on stdout (operators only; customers get statement-views.ts over HTTP).
import { loadConfig } from '../server/config/config';
import { createLogger } from '../server/logger';
import { connectDatabase } from '../server/db/database';
import { createModels } from '../server/platform-models';
import { operatorStatementCsv } from '../server/metering/billing/statement-operator-export';
import type { StatementDocument } from '../server/metering/billing/statement.models';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const month = args[args.indexOf('--month') + 1];
  if (!args.includes('--month') || !month || !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error('--month must look like 2026-11');
  const config = loadConfig();
  const database = await connectDatabase(config, createLogger({ level: 'warn' }));
  try {
    const statements = (await createModels(database.connection).Statement.collection.find({ month }).sort({ number: 1 }).toArray()) as unknown as StatementDocument[];
    process.stdout.write(operatorStatementCsv(statements));
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`statements:operator-export failed: ${(error as Error).message}\n`);
  process.exit(1);
});
