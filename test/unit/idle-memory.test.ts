import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import { expect } from 'chai';
import { startIdleMemoryTrim } from '../../server/idle-memory';

const MiB = 1024 * 1024;

function newSpaceCommitted(): number {
  return v8.getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')!.physical_space_size;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Grows the young generation the way start-up does: many objects that survive several scavenges. */
function growYoungGeneration(): void {
  let keep: Array<{ i: number; text: string }> = [];
  for (let round = 0; round < 60 && newSpaceCommitted() <= 4 * MiB; round++) {
    for (let i = 0; i < 60_000; i++) keep.push({ i, text: `item ${round}:${i}` });
    if (keep.length > 600_000) keep = keep.slice(300_000);
  }
  keep = [];
  expect(newSpaceCommitted(), 'precondition: the young generation has grown').to.be.greaterThan(4 * MiB);
}

/** CPU-bound for `ms`, yielding every 20 ms so timers run (the way a stream of requests keeps a server busy). */
async function busyFor(ms: number): Promise<number> {
  const until = Date.now() + ms;
  let spin = 0;
  while (Date.now() < until) {
    const slice = Date.now() + 20;
    while (Date.now() < slice) spin += Math.sqrt(spin + 1);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return spin;
}

describe('idle memory trim (server/idle-memory.ts)', () => {
  it('gives the young generation back once the process is quiet, and only then', async function () {
    this.timeout(30_000);
    growYoungGeneration();

    const gcBefore = (globalThis as { gc?: unknown }).gc;
    // Busy (CPU-bound, yielding so the trim's timer runs): intervals with more CPU than the idle share do not trim.
    const trim = startIdleMemoryTrim({ intervalMs: 300, idleCpuShare: 0.2 });
    try {
      const busyUntil = Date.now() + 1_500;
      let spin = 0;
      while (Date.now() < busyUntil) {
        const slice = Date.now() + 20;
        while (Date.now() < slice) spin += Math.sqrt(spin + 1);
        await new Promise((resolve) => setImmediate(resolve));
      }
      expect(spin).to.be.greaterThan(0);
      expect(newSpaceCommitted(), 'no collection while busy').to.be.greaterThan(4 * MiB);
      // Quiet: full collections until the young generation is back to its minimum.
      const deadline = Date.now() + 15_000;
      while (newSpaceCommitted() > 2 * MiB && Date.now() < deadline) await sleep(100);
      expect(newSpaceCommitted()).to.be.at.most(2 * MiB);
    } finally {
      trim.stop();
    }
    // The application does not get a `gc` it did not have (it is obtained in a throw-away context).
    expect((globalThis as { gc?: unknown }).gc).to.equal(gcBefore);
  });

  it('does not collect when a burst starts just before its tick (the whole interval still looks idle)', async function () {
    this.timeout(30_000);
    const majorCollections: number[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if ((entry as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majorCollections.push(entry.startTime);
      }
    });
    growYoungGeneration();
    observer.observe({ entryTypes: ['gc'] });
    // A 1 s interval is idle below 200 ms of CPU; the burst starts 900 ms in, so the first tick sees ~100 ms: idle.
    const trim = startIdleMemoryTrim({ intervalMs: 1_000, idleCpuShare: 0.2, confirmMs: 200, maxCollections: 1 });
    try {
      await sleep(900);
      const burstStartedAt = performance.now();
      expect(await busyFor(900)).to.be.greaterThan(0);
      const burstEndedAt = performance.now();
      await sleep(50);
      expect(majorCollections.filter((at) => at >= burstStartedAt && at <= burstEndedAt), 'no full collection inside the burst').to.deep.equal([]);
      // Once it is quiet again, the trim still does its job (the burst made the next interval busy, then one quiet one).
      const deadline = Date.now() + 6_000;
      while (Date.now() < deadline && !majorCollections.some((at) => at > burstEndedAt)) await sleep(100);
      expect(majorCollections.some((at) => at > burstEndedAt), 'a full collection after the burst').to.equal(true);
    } finally {
      trim.stop();
      observer.disconnect();
    }
  });
});
