// TTL indexes: like mongod's TTL monitor, deletes expired documents once a minute (not exactly on time).
import type { Logger } from './command-handlers';
import type { Store } from './collection-store';
import { pathValues } from './document-paths';

const TTL_INTERVAL_MS = 60_000;

export function sweepExpired(store: Store, now = Date.now()): number {
  let removed = 0;
  for (const db of store.databaseNames()) {
    for (const coll of store.collections(db)) {
      for (const spec of coll.indexes.specs()) {
        const seconds = typeof spec.expireAfterSeconds === 'number' ? spec.expireAfterSeconds : undefined;
        const fields = Object.keys(spec.key);
        if (seconds === undefined || fields.length !== 1) continue;
        const cutoff = now - seconds * 1000;
        for (const doc of [...coll.docs.values()]) {
          const dates = pathValues(doc, fields[0]!).filter((v): v is Date => v instanceof Date);
          if (dates.length === 0) continue;
          if (Math.min(...dates.map((d) => d.getTime())) <= cutoff) {
            coll.remove(doc);
            removed++;
          }
        }
      }
    }
  }
  return removed;
}

export function startTtlMonitor(store: Store, flush: () => void, logger?: Logger): { stop(): void } {
  const timer = setInterval(() => {
    try {
      if (sweepExpired(store) > 0) flush();
    } catch (err) {
      logger?.error({ err }, 'wire-store: TTL sweep failed');
    }
  }, TTL_INTERVAL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
