// The meter spool's files on disk (server/metering/meter-spool.ts): acknowledgements are appended lines, finished
// segments are deleted once everything in them is acknowledged, and a left-behind file replays exactly what was not
// acknowledged. The spool is driven directly with real files in a temporary directory.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { expect } from 'chai';
import { MeterSpool } from '../../server/metering/meter-spool';
import { createEventItem, type QueueItem } from '../../server/metering/meter-queue-items';
import { meterEventFixture } from '../support/meter-events';

const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function eventItems(count: number, prefix: string): QueueItem[] {
  return Array.from({ length: count }, (_, index) => createEventItem(meterEventFixture({ requestId: `${prefix}-${index}`, agentId: 'agent-1', workspaceId: 'workspace-1' })));
}

async function filesSettleAt(directory: string, count: number): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  let files = fs.readdirSync(directory);
  while (files.length !== count && Date.now() < deadline) {
    await sleep(20);
    files = fs.readdirSync(directory);
  }
  return files;
}

describe('meter spool segments (server/metering/meter-spool.ts)', () => {
  let directory: string;
  beforeEach(() => {
    directory = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-segments-'));
  });
  afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

  it('deletes finished segments once acknowledged, keeps the current one growing with acknowledgement lines', async () => {
    // Small segments: 60 events span several files.
    const spool = new MeterSpool({ directory, sync: 'never', segmentBytes: 4 * 1024 }, logger);
    const items = eventItems(60, 'rotate');
    for (const item of items) spool.append(item);
    const written = fs.readdirSync(directory);
    expect(written.length, 'several segments').to.be.greaterThan(3);

    spool.acknowledge(items.slice(0, 30));
    spool.acknowledge(items.slice(30));
    // Every finished segment goes (off the event loop); the current one stays, not truncated.
    const left = await filesSettleAt(directory, 1);
    expect(left).to.have.length(1);
    const lines = fs.readFileSync(path.join(directory, left[0]!), 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.some((line) => 's' in line), 'its events are still there').to.equal(true);
    expect(lines.at(-1)).to.have.property('a');

    spool.close();
    expect(fs.readdirSync(directory), 'a clean close leaves nothing').to.deep.equal([]);
  });

  it('a file left behind replays exactly the items that were never acknowledged', async () => {
    const spool = new MeterSpool({ directory, sync: 'batch', segmentBytes: 4 * 1024 }, logger);
    const items = eventItems(40, 'crash');
    for (const item of items) spool.append(item);
    spool.acknowledge(items.slice(0, 25));
    spool.acknowledge(items.slice(30, 35));
    await sleep(100);
    // What a killed process leaves: its files as they are on disk now, found by another start.
    const leftBehind = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-left-'));
    try {
      for (const name of fs.readdirSync(directory)) fs.copyFileSync(path.join(directory, name), path.join(leftBehind, name));
      const recovered = MeterSpool.recover(leftBehind, logger);
      const replayed = recovered.items.map((item) => (item.kind === 'event' ? item.event.requestId : 'error'));
      const expected = [...items.slice(25, 30), ...items.slice(35)].map((item) => (item.kind === 'event' ? item.event.requestId : 'error'));
      expect(replayed).to.deep.equal(expected);
    } finally {
      fs.rmSync(leftBehind, { recursive: true, force: true });
      spool.close();
    }
  });
});
