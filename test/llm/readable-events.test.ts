// ReadableEvents (#20): the plain async iterator a provider's streamed answer is read through. Values made from a
// chunk come before the end or the failure; stopping early destroys the source; a source that closes without an end
// is a failure; a consumer that falls behind pauses the source; openedOnFirstNext opens at the first next().
import { expect } from 'chai';
import { PassThrough, Readable } from 'node:stream';
import { openedOnFirstNext, ReadableEvents, type ChunkHandler } from '../../server/llm/readable-events';

/** Splits each chunk into its words; the end adds "END"; a failure is rethrown as "failed: …". */
function wordsHandler(): ChunkHandler<string> {
  return {
    chunk(piece, out) {
      const text = piece.toString('utf8');
      if (text.includes('BOOM')) throw new Error('bad chunk');
      for (const word of text.split(' ').filter(Boolean)) out.push(word);
    },
    end(out) {
      out.push('END');
    },
    failed(error) {
      throw new Error(`failed: ${(error as Error).message}`);
    },
  };
}

async function collect(iterator: AsyncIterable<string>): Promise<{ values: string[]; error?: string }> {
  const values: string[] = [];
  try {
    for await (const value of iterator) values.push(value);
    return { values };
  } catch (error) {
    return { values, error: (error as Error).message };
  }
}

describe('ReadableEvents: a provider stream read as one plain async iterator', () => {
  it('hands out every value of every chunk in order, then the end', async () => {
    const source = new PassThrough();
    const events = new ReadableEvents(source, wordsHandler());
    const reading = collect(events);
    source.write('a b c');
    await new Promise((resolve) => setImmediate(resolve));
    source.write('d');
    source.end('e f');
    expect(await reading).to.deep.equal({ values: ['a', 'b', 'c', 'd', 'e', 'f', 'END'] });
  });

  it('values made before a failure come first; the failure is thrown once, then the iteration is done', async () => {
    const source = new PassThrough();
    const events = new ReadableEvents(source, wordsHandler());
    source.write('a b');
    source.write('BOOM');
    source.write('never read');
    await new Promise((resolve) => setImmediate(resolve));
    expect(await collect(events)).to.deep.equal({ values: ['a', 'b'], error: 'failed: bad chunk' });
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
    expect(source.destroyed).to.equal(true);
  });

  it('a source error, and a source destroyed without an error, are failures', async () => {
    const erring = new PassThrough();
    const first = collect(new ReadableEvents(erring, wordsHandler()));
    erring.write('x');
    await new Promise((resolve) => setImmediate(resolve));
    erring.destroy(new Error('socket hang up'));
    expect(await first).to.deep.equal({ values: ['x'], error: 'failed: socket hang up' });

    const closed = new PassThrough();
    const second = collect(new ReadableEvents(closed, wordsHandler()));
    closed.destroy();
    expect((await second).error).to.match(/^failed: .*closed before it ended/);
  });

  it('stopping early (break) destroys the source', async () => {
    const source = new PassThrough();
    const events = new ReadableEvents(source, wordsHandler());
    source.write('a b c d');
    const seen: string[] = [];
    for await (const value of events) {
      seen.push(value);
      if (seen.length === 2) break;
    }
    expect(seen).to.deep.equal(['a', 'b']);
    expect(source.destroyed).to.equal(true);
    expect(await events.next()).to.deep.equal({ value: undefined, done: true });
  });

  it('a consumer that falls behind pauses the source, and reading on resumes it', async () => {
    const words = Array.from({ length: 1000 }, (_, index) => `w${index}`);
    const source = Readable.from([Buffer.from(words.slice(0, 600).join(' ')), Buffer.from(` ${words.slice(600).join(' ')}`)], { objectMode: false });
    const events = new ReadableEvents(source, wordsHandler());
    await new Promise((resolve) => setImmediate(resolve));
    // 600 values queued from the first chunk: more than the reader keeps before it pauses its source.
    expect(source.isPaused()).to.equal(true);
    const { values } = await collect(events);
    expect(values).to.deep.equal([...words, 'END']);
  });

  it('openedOnFirstNext opens at the first next(), once; a failure to open is that next()\'s', async () => {
    let opened = 0;
    const iterable = openedOnFirstNext(async () => {
      opened += 1;
      const source = new PassThrough();
      source.end('one two');
      return new ReadableEvents(source, wordsHandler());
    });
    const iterator = iterable[Symbol.asyncIterator]();
    expect(opened).to.equal(0);
    const [first, second] = await Promise.all([iterator.next(), iterator.next()]);
    expect(opened).to.equal(1);
    expect([first.value, second.value]).to.deep.equal(['one', 'two']);

    const failing = openedOnFirstNext<string>(() => Promise.reject(new Error('connect refused')));
    expect(await collect(failing)).to.deep.equal({ values: [], error: 'connect refused' });
  });
});
