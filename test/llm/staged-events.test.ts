// StagedEvents: the layers of a streamed answer (router, runner, response cache) as stages of one iterator. Each test
// checks what the nested async generators it replaced did: every event once and in order through every stage, the
// failure handed from stage to stage, each stage's end once (ended, failed, or stopped), and the source returned
// when the consumer stops early.
import { expect } from 'chai';
import { StagedEvents, startingWith, type EventStage, type StreamOutcome } from '../../server/llm/staged-events';

interface Source {
  iterable: AsyncIterable<number>;
  returned(): boolean;
  pulled(): number;
}

/** A source of `values`, then `failure` if given; counts what was pulled and whether it was returned. */
function source(values: number[], failure?: Error): Source {
  let index = 0;
  let returned = false;
  let pulled = 0;
  const iterator: AsyncIterator<number> = {
    async next() {
      pulled += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (index < values.length) return { value: values[index++]!, done: false };
      if (failure) throw failure;
      return { value: undefined, done: true };
    },
    async return() {
      returned = true;
      return { value: undefined, done: true };
    },
  };
  return { iterable: { [Symbol.asyncIterator]: () => iterator }, returned: () => returned, pulled: () => pulled };
}

function recordingStage(name: string, log: string[], extra: Partial<EventStage<number, number>> = {}): EventStage<number, number> {
  return {
    event: (value) => {
      log.push(`${name}:${value}`);
      return value;
    },
    failed: (error) => {
      log.push(`${name}:failed:${(error as Error).message}`);
      return new Error(`${name}(${(error as Error).message})`);
    },
    finished: (outcome: StreamOutcome) => void log.push(`${name}:${outcome}`),
    ...extra,
  };
}

async function readAll<T>(events: AsyncIterable<T>): Promise<{ values: T[]; error?: Error }> {
  const values: T[] = [];
  try {
    for await (const value of events) values.push(value);
  } catch (error) {
    return { values, error: error as Error };
  }
  return { values };
}

describe('StagedEvents: the layers of a stream as stages of one iterator', () => {
  it('stages added in turn join one iterator: every event once, in order, through the stages innermost first; each end once', async () => {
    const log: string[] = [];
    const values = Array.from({ length: 300 }, (_, index) => index);
    const inner = StagedEvents.through(source(values).iterable, recordingStage('a', log));
    const outer = StagedEvents.through(inner, { ...recordingStage('b', log), event: (value: number) => (log.push(`b:${value}`), value * 2) });
    const { values: read, error } = await readAll(outer);
    expect(error).to.equal(undefined);
    expect(read).to.deep.equal(values.map((value) => value * 2));
    expect(log.filter((line) => line.startsWith('a:') && /^\w:\d+$/.test(line))).to.have.length(300);
    expect(log.slice(0, 4)).to.deep.equal(['a:0', 'b:0', 'a:1', 'b:1']);
    expect(log.slice(-2)).to.deep.equal(['a:ended', 'b:ended']);
    // The inner one was joined: reading it too would read the same source twice.
    await inner.next().then(
      () => expect.fail('the joined stream was read'),
      (rejection: Error) => expect(rejection.message).to.match(/stage added/),
    );
    expect(await outer.next()).to.deep.equal({ value: undefined, done: true });
    expect(log.filter((line) => line.endsWith(':ended'))).to.have.length(2);
  });

  it('a source failure goes through every stage innermost first, each handing on its own error, and each ends once as failed', async () => {
    const log: string[] = [];
    const from = source([1, 2, 3], new Error('cut'));
    const events = StagedEvents.through(StagedEvents.through(from.iterable, recordingStage('a', log)), {
      ...recordingStage('b', log),
      // An async catch (the runner's domain error) is awaited.
      failed: async (error) => {
        log.push(`b:failed:${(error as Error).message}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
        return new Error(`b(${(error as Error).message})`);
      },
    });
    const { values, error } = await readAll(events);
    expect(values).to.deep.equal([1, 2, 3]);
    expect(error?.message).to.equal('b(a(cut))');
    expect(log.slice(-4)).to.deep.equal(['a:failed:cut', 'a:failed', 'b:failed:a(cut)', 'b:failed']);
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });

  it('stopping early returns the source and ends every stage once as stopped; nothing more is read', async () => {
    const log: string[] = [];
    const from = source([1, 2, 3, 4, 5]);
    const events = StagedEvents.through(StagedEvents.through(from.iterable, recordingStage('a', log)), recordingStage('b', log));
    for await (const value of events) if (value === 2) break;
    expect(from.returned()).to.equal(true);
    expect(log.slice(-2)).to.deep.equal(['a:stopped', 'b:stopped']);
    const pulled = from.pulled();
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
    expect(from.pulled()).to.equal(pulled);
    await events.return();
    expect(log.filter((line) => line.endsWith('stopped'))).to.have.length(2);
  });

  it('a stage whose last event has passed ends the stream at the next read without reading the source on', async () => {
    const log: string[] = [];
    const from = source([1, 2, 99, 4, 5]);
    const events = StagedEvents.through(StagedEvents.through(from.iterable, { ...recordingStage('a', log), last: (value) => value === 99 }), recordingStage('b', log));
    const { values } = await readAll(events);
    expect(values).to.deep.equal([1, 2, 99]);
    expect(from.pulled()).to.equal(3);
    expect(log.slice(-2)).to.deep.equal(['a:ended', 'b:ended']);
  });

  it('an end that throws (a finally that fails) is the failure the outer stages see and the consumer gets', async () => {
    const log: string[] = [];
    const events = StagedEvents.through(
      StagedEvents.through(source([1]).iterable, {
        ...recordingStage('a', log),
        finished: () => {
          log.push('a:finished');
          throw new Error('meter down');
        },
      }),
      recordingStage('b', log),
    );
    const { values, error } = await readAll(events);
    expect(values).to.deep.equal([1]);
    expect(error?.message).to.equal('b(meter down)');
    expect(log.slice(-3)).to.deep.equal(['a:finished', 'b:failed:meter down', 'b:failed']);
  });

  it('a stage that throws on an event fails the stream from that stage out; the stages inside it end as stopped', async () => {
    const log: string[] = [];
    const events = StagedEvents.through(
      StagedEvents.through(source([1, 2, 3]).iterable, recordingStage('a', log)),
      {
        ...recordingStage('b', log),
        event: (value: number) => {
          if (value === 2) throw new Error('bad event');
          return value;
        },
      },
    );
    const { values, error } = await readAll(events);
    expect(values).to.deep.equal([1]);
    expect(error?.message).to.equal('b(bad event)');
    expect(log.slice(-3)).to.deep.equal(['a:stopped', 'b:failed:bad event', 'b:failed']);
  });

  it('startingWith hands out a result already read, then the rest; its return returns the rest', async () => {
    const from = source([2, 3]);
    const iterator = from.iterable[Symbol.asyncIterator]();
    const { values } = await readAll(StagedEvents.through({ [Symbol.asyncIterator]: () => startingWith({ value: 1, done: false }, iterator) }, {}));
    expect(values).to.deep.equal([1, 2, 3]);
    const empty = await readAll(StagedEvents.through({ [Symbol.asyncIterator]: () => startingWith<number>({ value: undefined, done: true }, source([7]).iterable[Symbol.asyncIterator]()) }, {}));
    expect(empty.values).to.deep.equal([]);
    const stopped = source([2, 3]);
    const events = StagedEvents.through({ [Symbol.asyncIterator]: () => startingWith({ value: 1, done: false }, stopped.iterable[Symbol.asyncIterator]()) }, {});
    for await (const value of events) if (value === 1) break;
    expect(stopped.returned()).to.equal(true);
  });
});
