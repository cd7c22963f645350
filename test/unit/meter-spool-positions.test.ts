// The meter spool keeps each item's position on the item itself (server/metering/meter-spool.ts, SpoolMark) and
// writes an event's line without building a record object: the lines are still the records' JSON, a crash between
// appends replays exactly what was never acknowledged (with the progress it had), and an item is acknowledged once,
// by the spool that holds it. Real files in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { expect } from 'chai';
import { MeterSpool } from '../../server/metering/meter-spool';
import { createErrorItem, createEventItem, type EventItem, type QueueItem } from '../../server/metering/meter-queue-items';
import { meterEventFixture } from '../support/meter-events';

const logger = pino({ level: 'silent' });

const event = (requestId: string) => meterEventFixture({ requestId, agentId: 'agent-1', workspaceId: 'workspace-1' });
const requestIds = (items: QueueItem[]) => items.map((item) => (item.kind === 'event' ? item.event.requestId : `error:${item.agentId}`));

/** What a killed process leaves: its files as they are on disk now, in a directory another start reads. */
function crashCopy(directory: string): string {
  const left = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-positions-left-'));
  for (const name of fs.readdirSync(directory)) fs.copyFileSync(path.join(directory, name), path.join(left, name));
  return left;
}

function linesOf(directory: string): Array<Record<string, unknown>> {
  return fs
    .readdirSync(directory)
    .sort()
    .flatMap((name) => fs.readFileSync(path.join(directory, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('meter spool positions and lines (server/metering/meter-spool.ts)', () => {
  const directories: string[] = [];
  const newDirectory = () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-positions-'));
    directories.push(directory);
    return directory;
  };
  afterEach(() => {
    for (const directory of directories.splice(0)) fs.rmSync(directory, { recursive: true, force: true });
  });

  it('writes each item as its record\'s JSON and marks the item with its position', () => {
    const directory = newDirectory();
    const spool = new MeterSpool({ directory, sync: 'never' }, logger);
    const fresh = createEventItem(event('req-line-1')) as EventItem;
    const replayed: EventItem = { kind: 'event', event: event('req-line-2'), insertAttempted: true, inserted: true, rollupGroupId: 'group-a' };
    const failed = createErrorItem({ workspaceId: 'workspace-1', agentId: 'agent-1', mode: 'byok', plan: null, timestamp: new Date('2026-12-01T10:00:00Z') });
    spool.append(fresh);
    spool.append(replayed);
    spool.append(failed);

    expect(linesOf(directory)).to.deep.equal([
      { s: 1, e: JSON.parse(JSON.stringify(fresh.event)) },
      { s: 2, e: JSON.parse(JSON.stringify(replayed.event)), g: 'group-a', t: 1 },
      { s: 3, x: { workspaceId: 'workspace-1', agentId: 'agent-1', month: '2026-12', mode: 'byok', plan: null } },
    ]);
    expect([fresh.spoolSeq, replayed.spoolSeq, failed.spoolSeq]).to.deep.equal([1, 2, 3]);
    expect(fresh.spoolProgressed).to.equal(false);
    expect(replayed.spoolProgressed, 'a replayed item with its group has its progress written').to.equal(true);

    spool.acknowledge([fresh, replayed, failed]);
    expect(fresh.spoolSeq, 'acknowledged: no position left').to.equal(0);
    expect(fresh.spoolSegment).to.equal(undefined);
    spool.close();
  });

  it('a crash between appends replays exactly the unacknowledged events, with the progress they had', async () => {
    const directory = newDirectory();
    const spool = new MeterSpool({ directory, sync: 'batch' }, logger);
    const first = ['req-a', 'req-b', 'req-c'].map((id) => createEventItem(event(id)) as EventItem);
    for (const item of first) spool.append(item);
    // The batch of a and b: a inserted and grouped, b's insert refused as a replay of an earlier event.
    first[0]!.insertAttempted = true;
    first[0]!.inserted = true;
    first[0]!.rollupGroupId = 'group-1';
    first[1]!.insertAttempted = true;
    first[1]!.inserted = false;
    await spool.recordProgress(first.slice(0, 2));
    spool.acknowledge([first[2]!]);
    // Several calls in one turn, then the process dies before any of them is acknowledged.
    const sameTurn = ['req-d', 'req-e', 'req-f'].map((id) => createEventItem(event(id)));
    for (const item of sameTurn) spool.append(item);

    const left = crashCopy(directory);
    directories.push(left);
    const recovered = MeterSpool.recover(left, logger);
    // a: inserted, to roll up in its group; b: a replay (nothing of its own); c: acknowledged; d–f: new.
    expect(requestIds(recovered.items)).to.deep.equal(['req-a', 'req-d', 'req-e', 'req-f']);
    const replayedA = recovered.items[0] as EventItem;
    expect(replayedA.rollupGroupId).to.equal('group-1');
    expect(replayedA.inserted).to.equal(true);
    expect(recovered.items.slice(1).every((item) => item.kind === 'event' && item.insertAttempted && !item.inserted && !item.rollupGroupId)).to.equal(true);
    spool.close();
  });

  it('an item is acknowledged once, and only by the spool that holds it', () => {
    const directoryA = newDirectory();
    const directoryB = newDirectory();
    const spoolA = new MeterSpool({ directory: directoryA, sync: 'never' }, logger);
    const spoolB = new MeterSpool({ directory: directoryB, sync: 'never' }, logger);
    const inA = createEventItem(event('req-in-a'));
    const inB = createEventItem(event('req-in-b'));
    spoolA.append(inA);
    spoolB.append(inB);

    spoolB.acknowledge([inA]);
    spoolA.acknowledge([inA]);
    spoolA.acknowledge([inA]);
    const acknowledgedA = linesOf(directoryA).filter((line) => 'a' in line);
    expect(acknowledgedA, 'one acknowledgement line in A').to.deep.equal([{ a: [1] }]);
    expect(linesOf(directoryB).filter((line) => 'a' in line), 'B acknowledged nothing of A').to.deep.equal([]);

    const leftB = crashCopy(directoryB);
    directories.push(leftB);
    expect(requestIds(MeterSpool.recover(leftB, logger).items)).to.deep.equal(['req-in-b']);
    spoolA.close();
    spoolB.close();
  });
});
