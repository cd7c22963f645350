// Server-sent events from a provider's streamed answer, read as text (WHATWG "event stream" parsing: lines end with
// CRLF, LF or CR; `data:` lines of one event are joined with LF; `:` comments and unknown fields are skipped; an
// empty line ends the event). Used by the OpenAI-compatible adapter's stream (#20): the SDK's own reader copies every
// network chunk into new byte arrays twice and decodes it line by line through three generators, which was the
// largest part of a streamed delta's CPU in the profile (docs/BENCHMARKS.md, "bursts of streams").
import { StringDecoder } from 'node:string_decoder';

export interface ServerSentEvent {
  /** The `event:` field, null when the event had none. */
  event: string | null;
  data: string;
}

/**
 * Parses a byte (UTF-8) or text stream into events, chunk by chunk as they arrive: `feed` returns the events a chunk
 * completed (a plain array: no generator step per event on the hot path). Bytes are decoded here (a character split
 * across chunks is joined). An event still open when the stream ends is dropped, as the standard says.
 */
export class ServerSentEventParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private event: string | null = null;
  private data: string[] = [];
  /** The previous chunk ended with CR: an LF starting this one belongs to that line end. */
  private afterCarriageReturn = false;

  feed(piece: Uint8Array | string): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    const chunk = typeof piece === 'string' ? piece : this.decoder.write(piece as Buffer);
    if (chunk.length === 0) return events;
    let start = 0;
    if (this.afterCarriageReturn && chunk.charCodeAt(0) === 10) start = 1;
    this.afterCarriageReturn = false;
    const buffer = this.pending.length > 0 ? this.pending + chunk.slice(start) : start > 0 ? chunk.slice(start) : chunk;
    this.pending = '';
    let position = 0;
    for (;;) {
      const lineFeed = buffer.indexOf('\n', position);
      const carriageReturn = buffer.indexOf('\r', position);
      let end: number;
      let next: number;
      if (carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed)) {
        end = carriageReturn;
        if (carriageReturn + 1 === buffer.length) {
          this.afterCarriageReturn = true;
          next = carriageReturn + 1;
        } else {
          next = buffer.charCodeAt(carriageReturn + 1) === 10 ? carriageReturn + 2 : carriageReturn + 1;
        }
      } else if (lineFeed !== -1) {
        end = lineFeed;
        next = lineFeed + 1;
      } else {
        this.pending = buffer.slice(position);
        return events;
      }
      const line = buffer.slice(position, end);
      position = next;
      if (line.length === 0) {
        if (this.data.length > 0 || this.event !== null) {
          events.push({ event: this.event, data: this.data.length === 1 ? this.data[0]! : this.data.join('\n') });
          this.event = null;
          this.data = [];
        }
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ':' a comment
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') this.data.push(value);
      else if (field === 'event') this.event = value;
    }
  }
}

/** The events of a whole stream (ServerSentEventParser over every chunk). */
export async function* serverSentEvents(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const parser = new ServerSentEventParser();
  for await (const piece of stream) yield* parser.feed(piece);
}
