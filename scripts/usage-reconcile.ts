// `npm run usage:reconcile [-- --month 2026-11] [-- --fix]`: recompute rollups from meter events, report drift, repair with --fix.
import { loadConfig } from '../server/config/config';
import { createLogger } from '../server/logger';
import { connectDatabase } from '../server/db/database';
import { createModels } from '../server/platform-models';
import { reconcileUsage } from '../server/metering/usage-reconcile.service';
import { retentionSeconds } from '../server/metering/event-retention';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const monthIndex = args.indexOf('--month');
  const month = monthIndex >= 0 ? args[monthIndex + 1] : undefined;
  if (month !== undefined && !/^\d{4}-(0[1-9]|1[0-2])$/.test(month)) throw new Error('--month must look like 2026-11');
  const fix = args.includes('--fix');
  const config = loadConfig();
  const logger = createLogger({ level: 'warn' });
  const database = await connectDatabase(config, logger);
  try {
    const months = config.meterEventRetentionMonths;
    const keptSince = months > 0 ? new Date(Date.now() - retentionSeconds(months) * 1000) : undefined;
    const result = await reconcileUsage(createModels(database.connection), { month, fix, keptSince });
    if (result.fromMonth && !month) process.stdout.write(`months before ${result.fromMonth} are past the ${months}-month event retention and are not compared\n`);
    process.stdout.write(`checked ${result.checked} agent-months${month ? ` in ${month}` : ''}; ${result.drifts.length} drifting counters\n`);
    for (const drift of result.drifts) {
      process.stdout.write(`  agent ${drift.agentId} ${drift.month} ${drift.field}: rollup ${drift.rollup}, events ${drift.events}\n`);
    }
    if (fix) process.stdout.write(`repaired ${result.repaired} rollups\n`);
    else if (result.drifts.length > 0) process.stdout.write('run again with --fix to repair\n');
  } finally {
    await database.close();
  }
}

main().catch((error) => {
  process.stderr.write(`usage:reconcile failed: ${(error as Error).message}\n`);
  process.exit(1);
});
