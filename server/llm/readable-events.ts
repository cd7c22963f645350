// The events of a provider's streamed answer as one plain async iterator over the Node body stream (#20): each
// network chunk is turned into its events synchronously (SSE parse, JSON parse, our StreamEvents) and queued, and
// `next` hands them out. A delta then costs one resolved promise here instead of the four async-generator steps
// (the body's async iterator, the SSE reader, the chunk loop, the adapter's `yield*`) it took before; when one
// network read carried several events, they are all ready at once.
import type { Readable } from 'node:stream';

/** What a stream's reader does with its source, all synchronously; each method may throw to fail the iteration. */
export interface ChunkHandler<T> {
  /** Adds the values one chunk completes to `out`. */
  chunk(piece: Buffer, out: T[]): void;
  /** The source ended: adds the last values. */
  end(out: T[]): void;
  /** The source failed, or `chunk` threw: throws the error to end the iteration with, or adds last values and returns. */
  failed(error: unknown, out: T[]): void;
}

const NO_FAILURE: unknown = Symbol('no failure');
/** Past this many values waiting for the consumer, the source is paused (it follows the consumer's pace). */
const HIGH_WATER = 256;

interface Waiting<T> {
  resolve(result: IteratorResult<T>): void;
  reject(error: unknown): void;
}

/**
 * An async iterator over the values a ChunkHandler makes of a Node stream. The queued values come first, then the end
 * (or the failure, thrown once). Stopping early (`return`, as `for await` does on break) destroys the source.
 */
export class ReadableEvents<T> implements AsyncIterableIterator<T> {
  private values: T[] = [];
  private head = 0;
  /** The source is over (ended, failed, or given up): after the queued values, the iteration ends. */
  private over = false;
  private failure: unknown = NO_FAILURE;
  /** next() calls waiting for a value (one, from `for await`; more if a caller does not wait for each). */
  private readonly waiting: Waiting<T>[] = [];
  private paused = false;

  constructor(
    private readonly source: Readable,
    private readonly handler: ChunkHandler<T>,
  ) {
    source.on('data', this.onData);
    source.on('end', this.onEnd);
    source.on('error', this.onError);
    source.on('close', this.onClose);
  }

  private readonly onData = (piece: Buffer): void => {
    if (this.over) return;
    try {
      this.handler.chunk(piece, this.values);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (!this.paused && this.values.length - this.head >= HIGH_WATER) {
      this.paused = true;
      this.source.pause();
    }
    this.wake();
  };

  private readonly onEnd = (): void => {
    if (this.over) return;
    this.over = true;
    try {
      this.handler.end(this.values);
    } catch (error) {
      this.failure = error;
    }
    this.wake();
  };

  private readonly onError = (error: unknown): void => {
    if (!this.over) this.fail(error);
  };

  /** Closed without an end or an error (destroyed quietly): a cut stream. */
  private readonly onClose = (): void => {
    if (!this.over) this.fail(new Error('The response body closed before it ended.'));
  };

  private fail(error: unknown): void {
    this.over = true;
    try {
      this.handler.failed(error, this.values);
    } catch (thrown) {
      this.failure = thrown;
    }
    if (!this.source.destroyed) this.source.destroy();
    this.wake();
  }

  private wake(): void {
    while (this.waiting.length > 0 && (this.head < this.values.length || this.over)) {
      const waiting = this.waiting.shift()!;
      this.settle(waiting.resolve, waiting.reject);
    }
  }

  /** Hands out the next value, the end or the failure (there is one, or the source is over). */
  private settle(resolve: (result: IteratorResult<T>) => void, reject: (error: unknown) => void): void {
    if (this.head < this.values.length) {
      const value = this.values[this.head]!;
      this.head += 1;
      if (this.head === this.values.length) {
        this.values = [];
        this.head = 0;
        if (this.paused && !this.over) {
          this.paused = false;
          this.source.resume();
        }
      }
      resolve({ value, done: false });
    } else if (this.failure !== NO_FAILURE) {
      const failure = this.failure;
      this.failure = NO_FAILURE;
      reject(failure);
    } else {
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T>> {
    return new Promise<IteratorResult<T>>((resolve, reject) => {
      if (this.waiting.length === 0 && (this.head < this.values.length || this.over)) this.settle(resolve, reject);
      else this.waiting.push({ resolve, reject });
    });
  }

  return(): Promise<IteratorResult<T>> {
    this.values = [];
    this.head = 0;
    this.failure = NO_FAILURE;
    for (const waiting of this.waiting.splice(0)) waiting.resolve({ value: undefined, done: true });
    if (!this.over) {
      this.over = true;
      // Left mid-answer: the connection is not reusable.
      this.source.destroy();
    }
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * An async iterable whose iterator opens its source at the first `next` (as an async generator's body starts then):
 * `open` sends the request and gives the iterator of its answer; its failure is the first `next`'s.
 */
export function openedOnFirstNext<T>(open: () => Promise<AsyncIterator<T>>): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      let inner: AsyncIterator<T> | undefined;
      let opening: Promise<AsyncIterator<T>> | undefined;
      let closed = false;
      return {
        next() {
          if (inner) return inner.next();
          if (closed) return Promise.resolve({ value: undefined, done: true });
          opening ??= open();
          return opening.then(
            (opened) => {
              inner = opened;
              return opened.next();
            },
            (error: unknown) => {
              closed = true;
              throw error;
            },
          );
        },
        return() {
          closed = true;
          if (inner?.return) return inner.return();
          if (opening) void opening.then((opened) => opened.return?.(), () => undefined);
          return Promise.resolve({ value: undefined, done: true });
        },
      };
    },
  };
}
