// A scripted provider for stream-reader tests: answers every request with an event stream written in the pieces a
// `Writes` cuts it into (one write, every byte its own write, ragged cuts inside names, JSON and multi-byte characters),
// with a pause now and then so the pieces arrive as separate reads; a `cut` script breaks the connection after the
// last piece instead of ending the answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** How an answer's bytes are cut into writes. */
export type Writes = (bytes: Buffer) => Buffer[];
export const whole: Writes = (bytes) => [bytes];
export const everyByte: Writes = (bytes) => Array.from(bytes, (byte) => Buffer.from([byte]));
/** Cuts of 1–13 bytes: inside names, JSON, multi-byte characters and the blank line between events. */
export const ragged: Writes = (bytes) => {
  const pieces: Buffer[] = [];
  for (let start = 0, size = 1; start < bytes.length; start += size, size = (size % 13) + 1) pieces.push(bytes.subarray(start, start + size));
  return pieces;
};

export interface StreamScript {
  /** The whole answer's text. */
  body: string;
  writes: Writes;
  /** Break the connection after the last piece (an answer cut mid-way). */
  cut: boolean;
}

export async function startScriptedEventStream(headers: Record<string, string>, script: () => StreamScript): Promise<{ baseUrl: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream', ...headers });
      const { body, writes, cut } = script();
      const pieces = writes(Buffer.from(body));
      let index = 0;
      const next = () => {
        if (index === pieces.length) return void (cut ? response.socket?.destroy() : response.end());
        response.write(pieces[index++]!);
        if (index % 8 === 0) setTimeout(next, 1);
        else setImmediate(next);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
