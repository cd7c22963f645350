// A streamed answer passed through several layers (the router, the runner, the response cache) as ONE async iterator
// (#20). Each layer used to wrap the one below in an async generator: three generator steps and their promises per
// delta before the HTTP loop saw it. A layer now adds a stage instead: its per-event work runs synchronously as the
// event is handed out, and its `catch`/`finally` work runs once, when the stream fails or is over. A layer that adds a
// stage to a StagedEvents does not wrap it: the stages join the same iterator (one promise per event for all of them).
//
// The order is the nested generators' order: events go through the stages from the innermost (the first added) out;
// when the stream is over, each stage, innermost first, sees the failure (`failed`, which gives the error to hand on)
// and then its end (`finished`); a throw from a stage's hook is the failure the outer stages see.

/** What one layer does with the events of a stream that passes through it. */
export interface EventStage<In, Out = In> {
  /** Each event on its way out (synchronously): the event to hand on. A throw fails the stream from this stage out. */
  event?(value: In): Out;
  /** After this event the layer is done (its generator returned): the stream ends at the next `next()`. */
  last?(value: Out): boolean;
  /** The stream failed below (or in) this stage: the error to hand on (a `catch` that rethrows). */
  failed?(error: unknown): unknown;
  /** The stream is over (once): it ended, failed, or the consumer stopped it early (`return`). A `finally`. */
  finished?(outcome: StreamOutcome): void | Promise<void>;
}

export type StreamOutcome = 'ended' | 'failed' | 'stopped';

const DONE: IteratorResult<never> = Object.freeze({ value: undefined, done: true }) as IteratorResult<never>;
const NO_ERROR: unknown = Symbol('no error');

/** The stages' own types are checked where each is added (`through`). */
type AnyStage = EventStage<any, any>;

/**
 * An async iterator over a source's events through stages. One `next()` at a time (as `for await` calls it).
 * Stopping early (`return`) returns the source too (a stream left mid-answer is not read on).
 */
export class StagedEvents<T> implements AsyncIterableIterator<T> {
  /** 'open'; 'ending': a stage's last event was handed out; 'over': the stages have run their end (or are running it). */
  private state: 'open' | 'ending' | 'over' = 'open';
  /** Set once another stage joined: this object must not be read any more (the joined one is). */
  private joined = false;
  private started = false;

  private constructor(
    private readonly source: AsyncIterator<unknown>,
    private readonly stages: readonly AnyStage[],
  ) {}

  /** `events` through `stage`: the same iterator with one more stage when it is a StagedEvents not yet read, else a new one. */
  static through<In, Out>(events: AsyncIterable<In>, stage: EventStage<In, Out>): StagedEvents<Out> {
    if (events instanceof StagedEvents && !events.joined && events.state === 'open' && !events.started) {
      events.joined = true;
      return new StagedEvents<Out>(events.source, [...events.stages, stage]);
    }
    return new StagedEvents<Out>(events[Symbol.asyncIterator](), [stage]);
  }

  next(): Promise<IteratorResult<T>> {
    this.started = true;
    if (this.joined) return Promise.reject(new Error('This stream is read through the stage added to it.'));
    if (this.state === 'over') return Promise.resolve(DONE);
    if (this.state === 'ending') return this.close('ended', NO_ERROR, 0);
    return this.source.next().then(
      (result) => (result.done ? this.close('ended', NO_ERROR, 0) : this.pass(result.value)),
      (error: unknown) => this.close('failed', error, 0),
    );
  }

  private pass(value: unknown): IteratorResult<T> | Promise<IteratorResult<T>> {
    let index = 0;
    try {
      for (; index < this.stages.length; index += 1) {
        const stage = this.stages[index]!;
        if (stage.event) value = stage.event(value);
        if (stage.last?.(value)) this.state = 'ending';
      }
    } catch (error) {
      // The stages below it handed the event out and are stopped; this one and those outside it see the failure.
      return this.close('failed', error, index);
    }
    return { value: value as T, done: false };
  }

  /** Runs every stage's end, innermost first; resolves done, or rejects with the failure the outermost stage handed on. */
  private async close(outcome: StreamOutcome, failure: unknown, failedFrom: number): Promise<IteratorResult<T>> {
    this.state = 'over';
    let error = failure;
    for (let index = 0; index < this.stages.length; index += 1) {
      const stage = this.stages[index]!;
      const failing = error !== NO_ERROR && index >= failedFrom;
      try {
        if (failing && stage.failed) error = stage.failed(error);
        if (error instanceof Promise) error = await error;
      } catch (thrown) {
        error = thrown;
      }
      try {
        await stage.finished?.(failing ? 'failed' : index < failedFrom && error !== NO_ERROR ? 'stopped' : outcome);
      } catch (thrown) {
        // A `finally` that throws replaces the error, as in a generator.
        error = thrown;
        failedFrom = Math.min(failedFrom, index + 1);
      }
    }
    if (error !== NO_ERROR) throw error;
    return DONE;
  }

  async return(): Promise<IteratorResult<T>> {
    this.started = true;
    if (this.joined || this.state === 'over') return DONE;
    this.state = 'over';
    try {
      await this.source.return?.();
    } catch {
      // The source's own clean-up failing does not change that the consumer stopped.
    }
    let error = NO_ERROR;
    for (const stage of this.stages) {
      try {
        await stage.finished?.('stopped');
      } catch (thrown) {
        error = thrown;
      }
    }
    if (error !== NO_ERROR) throw error;
    return DONE;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/** An iterator that hands out `first` (a result already read from `rest`), then the rest. */
export function startingWith<T>(first: IteratorResult<T>, rest: AsyncIterator<T>): AsyncIterator<T> {
  let handed = false;
  return {
    next() {
      if (handed) return rest.next();
      handed = true;
      return Promise.resolve(first);
    },
    return() {
      return rest.return ? rest.return() : Promise.resolve(DONE);
    },
  };
}
