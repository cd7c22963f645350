// Runs the built-in MongoDB-wire-compatible store on its own (development/tests only), in memory unless --journal
// is given, and prints its connection string. Usage:
//   npm run db:store [-- --port 27017] [-- --journal .data/dev-store.journal]
// Then point the platform at it: MONGODB_URI=<printed uri> npm start
// With --exit-with-parent the store stops when its parent process goes away (used by the benchmarks).
import path from 'node:path';
import { startWireStore } from '../server/db/wire-store';
import pino from 'pino';
import { createLogger } from '../server/logger';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  if (index >= 0) return process.argv[index + 1];
  const inline = process.argv.find((value) => value.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const portText = argument('port') ?? '0';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be 0-65535, got "${portText}"`);
  const journalArgument = argument('journal');
  const journalPath = journalArgument ? path.resolve(journalArgument) : undefined;
  // Logs go to stderr so that stdout carries only the connection line.
  const logger = createLogger({ level: process.env.LOG_LEVEL ?? 'info', destination: pino.destination(2) });
  const store = await startWireStore({ host: argument('host') ?? '127.0.0.1', port, journalPath, logger });
  // One machine-readable line first (the benchmarks read it), then a human note.
  process.stdout.write(`${JSON.stringify({ uri: store.uri, port: store.port, journal: journalPath ?? null })}\n`);
  process.stderr.write(
    `Built-in MongoDB-compatible store (development/tests only) at ${store.uri}${journalPath ? `, journal ${journalPath}` : ', in memory (data is lost on exit)'}\n`,
  );

  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`wire store stopping (${reason})\n`);
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    store.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  if (process.argv.includes('--exit-with-parent')) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop('parent exited');
    }, 500).unref();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`wire store failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
