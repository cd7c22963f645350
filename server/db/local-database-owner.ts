// One process owns a data directory's local database (the built-in store's journal, or the embedded mongod's files).
// It records its URI in a lock file; any other process (`npm run vault:rotate`, `migrate`, `usage:reconcile`, a
// second start) connects to that URI instead of opening the same files, which would overwrite each other's writes.
import fs from 'node:fs';
import path from 'node:path';

interface OwnerRecord {
  pid: number;
  /** Set once the database listens; a record without it is a start in progress. */
  uri?: string;
}

export type LocalDatabaseClaim =
  | { owned: true; publish(uri: string): void; release(): void }
  | { owned: false; uri: string; ownerPid: number };

const LOCK_FILE = 'local-database.lock';
const STARTING_WAIT_MS = 30_000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readRecord(lockPath: string): OwnerRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(lockPath, 'utf8')) as OwnerRecord;
  } catch {
    return undefined;
  }
}

function writeRecord(lockPath: string, record: OwnerRecord): void {
  const temporary = `${lockPath}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify(record), { mode: 0o600 });
  fs.renameSync(temporary, lockPath);
}

/** Becomes the owner of `dataDir`'s local database, or finds the live process that is. */
export async function claimLocalDatabase(dataDir: string): Promise<LocalDatabaseClaim> {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lockPath = path.join(dataDir, LOCK_FILE);
  const deadline = Date.now() + STARTING_WAIT_MS;
  for (;;) {
    try {
      const descriptor = fs.openSync(lockPath, 'wx', 0o600);
      fs.writeSync(descriptor, JSON.stringify({ pid: process.pid } satisfies OwnerRecord));
      fs.closeSync(descriptor);
      let released = false;
      return {
        owned: true,
        publish: (uri) => writeRecord(lockPath, { pid: process.pid, uri }),
        release: () => {
          if (released) return;
          released = true;
          if (readRecord(lockPath)?.pid === process.pid) fs.rmSync(lockPath, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const record = readRecord(lockPath);
    if (record && isAlive(record.pid)) {
      if (record.uri) return { owned: false, uri: record.uri, ownerPid: record.pid };
      if (Date.now() > deadline) throw new Error(`process ${record.pid} has been starting the local database in ${dataDir} for too long`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    // The owner is gone (or the record is unreadable): the lock is stale.
    fs.rmSync(lockPath, { force: true });
  }
}
