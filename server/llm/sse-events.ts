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
 * Parses a byte (UTF-8) or text stream into events; an event still open when the stream ends is dropped, as the
 * standard says. Bytes are decoded here (a character split across chunks is joined), not by a layer in between.
 */
export async function* serverSentEvents(stream: AsyncIterable<Uint8Array | string>): AsyncGenerator<ServerSentEvent> {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let event: string | null = null;
  let data: string[] = [];
  /** The previous chunk ended with CR: an LF starting this one belongs to that line end. */
  let afterCarriageReturn = false;
  for await (const piece of stream) {
    const chunk = typeof piece === 'string' ? piece : decoder.write(piece as Buffer);
    if (chunk.length === 0) continue;
    let start = 0;
    if (afterCarriageReturn && chunk.charCodeAt(0) === 10) start = 1;
    afterCarriageReturn = false;
    const buffer = pending.length > 0 ? pending + chunk.slice(start) : start > 0 ? chunk.slice(start) : chunk;
    pending = '';
    let position = 0;
    for (;;) {
      const lineFeed = buffer.indexOf('\n', position);
      const carriageReturn = buffer.indexOf('\r', position);
      let end: number;
      let next: number;
      if (carriageReturn !== -1 && (lineFeed === -1 || carriageReturn < lineFeed)) {
        end = carriageReturn;
        if (carriageReturn + 1 === buffer.length) {
          afterCarriageReturn = true;
          next = carriageReturn + 1;
        } else {
          next = buffer.charCodeAt(carriageReturn + 1) === 10 ? carriageReturn + 2 : carriageReturn + 1;
        }
      } else if (lineFeed !== -1) {
        end = lineFeed;
        next = lineFeed + 1;
      } else {
        pending = buffer.slice(position);
        break;
      }
      const line = buffer.slice(position, end);
      position = next;
      if (line.length === 0) {
        if (data.length > 0 || event !== null) {
          yield { event, data: data.length === 1 ? data[0]! : data.join('\n') };
          event = null;
          data = [];
        }
        continue;
      }
      if (line.charCodeAt(0) === 58) continue; // ':' a comment
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.charCodeAt(0) === 32) value = value.slice(1);
      if (field === 'data') data.push(value);
      else if (field === 'event') event = value;
    }
  }
}
