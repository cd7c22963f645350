// Gives memory back when the server goes quiet. V8 keeps its young generation at the size the last busy period grew
// it to (up to 2 × --max-semi-space-size: ~14 MiB committed right after start-up, where nearly everything allocated
// survives) and shrinks it only when its memory reducer decides the process is idle: after start-up that took about
// 100 s, so an idle server sat ~13 MiB above what it needs. This watches the process's CPU time; after an interval in
// which it was (nearly) idle, following start-up or a busy interval, it runs a full collection, and again on the next
// quiet interval until the young generation is back to its minimum (at most `maxCollections` times). Then it waits for
// the next busy interval. A collection runs only when the process has been idle for a whole interval (tens of ms of
// CPU on a 40-60 MB heap), never while requests keep it busy. A burst that starts just before the tick is too short to
// make the whole interval look busy, so the collection waits for one more short window (`confirmMs`) and runs only if
// that window was idle too: a collection never lands in the first moments of a burst.
import v8 from 'node:v8';
import vm from 'node:vm';

export interface IdleMemoryOptions {
  /** How often the CPU time is looked at (default 5 s). */
  intervalMs?: number;
  /** An interval with less CPU time than this share of it is idle (default 5 %). */
  idleCpuShare?: number;
  /** Full collections after one busy period at most (default 3). */
  maxCollections?: number;
  /** The short window just before a collection that must be idle as well (default 250 ms). */
  confirmMs?: number;
}

/** The young generation's committed size once V8 has shrunk it (two 512 KiB semi-spaces) is below this. */
const SHRUNK_NEW_SPACE_BYTES = 2 * 1024 * 1024;
/**
 * V8 shrinks the young generation at a collection only when the allocation rate it measured over the ~5 s before it
 * was low; right after a busy period it is not, so the collection that shrinks comes at least this long after the
 * previous one (the first one collects, the next one shrinks).
 */
const MIN_COLLECTION_GAP_MS = 5_500;

type Collect = () => void;

let collectFunction: Collect | undefined;

/**
 * V8's `gc` function without exposing it to the application: the flag is set only while one throw-away context is
 * made (the way test runners get it), then cleared again. Undefined where the runtime refuses.
 */
function fullCollection(): Collect | undefined {
  if (collectFunction) return collectFunction;
  const existing = (globalThis as { gc?: Collect }).gc;
  if (typeof existing === 'function') return (collectFunction = existing);
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    if (typeof gc === 'function') collectFunction = gc as Collect;
  } catch {
    // not available: nothing is trimmed
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return collectFunction;
}

function newSpaceCommittedBytes(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.physical_space_size ?? 0;
}

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

export function startIdleMemoryTrim(options: IdleMemoryOptions = {}): { stop(): void } {
  const intervalMs = options.intervalMs ?? 5_000;
  const idleCpuShare = options.idleCpuShare ?? 0.05;
  const idleCpuMs = intervalMs * idleCpuShare;
  const maxCollections = options.maxCollections ?? 3;
  const confirmMs = options.confirmMs ?? 250;
  // Start-up counts as busy: the first quiet interval after it trims.
  let pending = true;
  let collections = 0;
  let lastCpu = cpuMs(process.cpuUsage());
  let lastCollectionAt = 0;
  let confirming: NodeJS.Timeout | undefined;

  const becameBusy = (): void => {
    pending = true;
    collections = 0;
  };

  /** The last `confirmMs` were idle too: collect now (nothing else runs between the check and the collection). */
  const collectIfStillIdle = (cpuAtStart: number): void => {
    confirming = undefined;
    const now = cpuMs(process.cpuUsage());
    lastCpu = now;
    if (now - cpuAtStart > confirmMs * idleCpuShare) {
      becameBusy();
      return;
    }
    const collect = fullCollection();
    if (!collect) {
      pending = false;
      return;
    }
    collect();
    collections += 1;
    lastCollectionAt = Date.now();
    // The collection's own CPU time does not make the next interval look busy.
    lastCpu = cpuMs(process.cpuUsage());
  };

  const timer = setInterval(() => {
    if (confirming) return;
    const now = cpuMs(process.cpuUsage());
    const used = now - lastCpu;
    lastCpu = now;
    if (used > idleCpuMs) {
      becameBusy();
      return;
    }
    if (!pending) return;
    if (collections >= maxCollections || newSpaceCommittedBytes() <= SHRUNK_NEW_SPACE_BYTES) {
      pending = false;
      return;
    }
    if (Date.now() - lastCollectionAt < MIN_COLLECTION_GAP_MS) return;
    confirming = setTimeout(collectIfStillIdle, confirmMs, now);
    confirming.unref();
  }, intervalMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      if (confirming) clearTimeout(confirming);
    },
  };
}
