// Writes one streamed answer's server-sent events to its response, coalescing events that come close together into
// one write (#20). A write to the client is a system call that also runs the receiving side of a loopback or LAN
// socket: in the profile of a burst of 1,000 streams it was the largest single cost (one `writev` per delta). An event
// that comes after a quiet spell of COALESCE_MS is written at once (so a stream's first delta, and every delta of a
// stream paced slower than that, go out as before); events that follow sooner wait, at most COALESCE_MS, and go out
// together. Each event stays its own `data:` event on the wire: a client's SSE reader sees every delta, in order.
import type { ServerResponse } from 'node:http';

/** The longest an event waits to be written with the ones after it: 20 ms, below what a reader of streamed text or a
 * voice pipeline notices, and enough to put a model's 10–30 ms tokens, or a backlog after a busy turn, in one write. */
export const COALESCE_MS = 20;

/**
 * Starts a server-sent-event answer: 200, the event-stream type, no caching or proxy buffering (and any headers of the
 * call's own, such as routing or cache outcome), sent at once so the client sees the stream open before the first event.
 */
export function openEventStream(response: ServerResponse, headers: Readonly<Record<string, string>> = {}): void {
  response.statusCode = 200;
  for (const [name, value] of Object.entries(headers)) response.setHeader(name, value);
  response.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  response.setHeader('Cache-Control', 'no-cache, no-transform');
  response.setHeader('X-Accel-Buffering', 'no');
  response.flushHeaders();
}

/** Writers holding events, flushed together by one timer (not a timer per stream or per delta). */
const pending = new Set<SseWriter>();
let flushTimer: NodeJS.Timeout | undefined;

function flushPending(): void {
  flushTimer = undefined;
  const writers = [...pending];
  pending.clear();
  for (const writer of writers) writer.flush();
}

export class SseWriter {
  private buffered = '';
  private lastWriteAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly response: ServerResponse) {}

  /** Keeps an event for the next write without starting the clock (the stream's opening chunk: its first delta follows). */
  hold(event: string): void {
    this.buffered += event;
  }

  /** An event: written now after a quiet spell, else with the next flush (at most COALESCE_MS later). */
  write(event: string): void {
    const now = performance.now();
    if (now - this.lastWriteAt >= COALESCE_MS) {
      const text = this.buffered.length > 0 ? this.buffered + event : event;
      this.buffered = '';
      this.lastWriteAt = now;
      this.send(text);
      return;
    }
    this.buffered += event;
    if (!pending.has(this)) {
      pending.add(this);
      flushTimer ??= setTimeout(flushPending, COALESCE_MS);
    }
  }

  /** Writes what is held. */
  flush(): void {
    pending.delete(this);
    if (this.buffered.length === 0) return;
    const text = this.buffered;
    this.buffered = '';
    this.lastWriteAt = performance.now();
    this.send(text);
  }

  /** Writes what is held and `last`, and ends the response, in one write. */
  end(last = ''): void {
    pending.delete(this);
    const text = this.buffered + last;
    this.buffered = '';
    if (this.response.destroyed || this.response.writableEnded) return void this.response.end();
    if (text.length > 0) this.response.end(text);
    else this.response.end();
  }

  private send(text: string): void {
    if (!this.response.destroyed && !this.response.writableEnded) this.response.write(text);
  }
}
