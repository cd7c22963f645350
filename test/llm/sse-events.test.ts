// The event-stream reader of streamed provider answers (server/llm/sse-events.ts): the WHATWG parsing rules, whatever
// the network chunking (every split point of the bytes is tried, inside CRLF and inside multi-byte characters too).
import { expect } from 'chai';
import { serverSentEvents, type ServerSentEvent } from '../../server/llm/sse-events';

async function parse(pieces: Array<Uint8Array | string>): Promise<ServerSentEvent[]> {
  async function* source() {
    for (const piece of pieces) yield piece;
  }
  const events: ServerSentEvent[] = [];
  for await (const event of serverSentEvents(source())) events.push(event);
  return events;
}

const STREAM =
  ': a comment first\n' +
  'data: {"a":1}\n\n' +
  'data:no space\r\n\r\n' +
  'event: error\rdata: {"error":{"message":"x"}}\r\r' +
  'data: first line\ndata: second line\n\n' +
  'id: 7\nretry: 100\nunknown: field\ndata\n\n' +
  'data: héllo 日本 😀\n\n' +
  'data: [DONE]\n\n' +
  'data: never finished';

const EXPECTED: ServerSentEvent[] = [
  { event: null, data: '{"a":1}' },
  { event: null, data: 'no space' },
  { event: 'error', data: '{"error":{"message":"x"}}' },
  { event: null, data: 'first line\nsecond line' },
  { event: null, data: '' },
  { event: null, data: 'héllo 日本 😀' },
  { event: null, data: '[DONE]' },
];

describe('server-sent events reader (server/llm/sse-events.ts)', () => {
  it('reads events, fields, comments and every line ending in one chunk', async () => {
    expect(await parse([Buffer.from(STREAM)])).to.deep.equal(EXPECTED);
    expect(await parse([STREAM])).to.deep.equal(EXPECTED);
  });

  it('gives the same events for the bytes split in two at every position', async () => {
    const bytes = Buffer.from(STREAM);
    for (let at = 1; at < bytes.length; at++) {
      expect(await parse([bytes.subarray(0, at), bytes.subarray(at)]), `split at byte ${at}`).to.deep.equal(EXPECTED);
    }
  });

  it('gives the same events one byte at a time, and from web byte arrays', async () => {
    const bytes = Buffer.from(STREAM);
    expect(await parse(Array.from(bytes, (byte) => Buffer.from([byte])))).to.deep.equal(EXPECTED);
    expect(await parse(Array.from(bytes, (byte) => new Uint8Array([byte])))).to.deep.equal(EXPECTED);
  });

  it('an empty stream, blank lines only, or an event cut before its blank line give no event', async () => {
    expect(await parse([])).to.deep.equal([]);
    expect(await parse(['\n\n\r\n'])).to.deep.equal([]);
    expect(await parse(['data: cut'])).to.deep.equal([]);
  });
});
