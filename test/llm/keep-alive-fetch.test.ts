// The fetch the SDKs get: answers must behave like WHATWG fetch's (status, headers, body reads, streams, failures).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { BufferedResponse, createKeepAliveFetch, type KeepAliveFetch } from '../../server/llm/keep-alive-fetch';

describe('keep-alive fetch (server/llm/keep-alive-fetch.ts)', () => {
  let server: http.Server;
  let base: string;
  let client: KeepAliveFetch;
  const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];
  let slowBodyEndedAt = 0;

  before(async () => {
    server = http.createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        seen.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        switch (request.url) {
          case '/json':
            response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'x-request-id': 'req_1', 'set-cookie': ['a=1', 'b=2'] });
            response.end(JSON.stringify({ ok: true, text: 'héllo' }));
            return;
          case '/json-gzip':
            response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
            response.end(zlib.gzipSync(JSON.stringify({ zipped: true })));
            return;
          case '/gzip-cut': {
            // Half of a gzip body, then the connection breaks.
            const zipped = zlib.gzipSync(JSON.stringify({ text: 'x'.repeat(20_000) }), { level: 0 });
            response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(zipped.length) });
            response.write(zipped.subarray(0, zipped.length >> 1), () => setTimeout(() => response.socket?.destroy(), 20));
            return;
          }
          case '/text-gzip-cut': {
            // A compressed text answer (streamed, not read whole): half of it, then the connection breaks.
            const zipped = zlib.gzipSync('z'.repeat(20_000), { level: 0 });
            response.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': String(zipped.length) });
            response.write(zipped.subarray(0, zipped.length >> 1), () => setTimeout(() => response.socket?.destroy(), 20));
            return;
          }
          case '/gzip-slow': {
            // A compressed JSON answer whose second half comes 300 ms after its headers.
            const zipped = zlib.gzipSync(JSON.stringify({ text: 'y'.repeat(5_000) }), { level: 0 });
            response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
            response.write(zipped.subarray(0, zipped.length >> 1));
            setTimeout(() => {
              slowBodyEndedAt = Date.now();
              response.end(zipped.subarray(zipped.length >> 1));
            }, 300);
            return;
          }
          case '/error':
            response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
            response.end(JSON.stringify({ error: { message: 'slow down' } }));
            return;
          case '/empty':
            response.writeHead(204);
            response.end();
            return;
          case '/sse':
            response.writeHead(200, { 'content-type': 'text/event-stream' });
            response.write('data: one\n\n');
            setTimeout(() => response.end('data: two\n\n'), 30);
            return;
          case '/hang':
            return; // never answers
          default:
            response.writeHead(200, { 'content-type': 'text/plain' });
            response.end('plain');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createKeepAliveFetch();
  });

  after(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('sends method, headers and body, and answers JSON as a BufferedResponse that reads like fetch', async () => {
    const response = await client.fetch(`${base}/json`, { method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: 'Bearer k' }, body: '{"q":1}' });
    const request = seen.at(-1)!;
    expect([request.method, request.headers.authorization, request.headers['content-type'], request.body]).to.deep.equal(['POST', 'Bearer k', 'application/json', '{"q":1}']);
    expect(response).to.be.instanceOf(BufferedResponse);
    expect([response.status, response.ok, response.headers.get('x-request-id')]).to.deep.equal([200, true, 'req_1']);
    expect(response.headers.getSetCookie()).to.deep.equal(['a=1', 'b=2']);
    expect(response.bodyUsed).to.equal(false);
    const copy = response.clone();
    expect(await response.json()).to.deep.equal({ ok: true, text: 'héllo' });
    expect(response.bodyUsed).to.equal(true);
    let second: unknown;
    await response.text().catch((error: unknown) => (second = error));
    expect(second).to.be.instanceOf(TypeError);
    expect(String((second as Error).message)).to.match(/unusable/);
    expect(() => response.clone()).to.throw(TypeError);
    // Asking for the stream after a read: a disturbed stream, still used, still unreadable.
    expect(response.body).to.not.equal(null);
    expect(response.bodyUsed).to.equal(true);
    let third: unknown;
    await response.blob().catch((error: unknown) => (third = error));
    expect(third).to.be.instanceOf(TypeError);
    expect(await copy.text()).to.equal('{"ok":true,"text":"héllo"}');
  });

  it('gives the same bytes through arrayBuffer(), bytes(), blob() and the body stream', async () => {
    const expected = JSON.stringify({ ok: true, text: 'héllo' });
    const asArrayBuffer = await (await client.fetch(`${base}/json`)).arrayBuffer();
    expect(Buffer.from(asArrayBuffer).toString('utf8')).to.equal(expected);
    const asBytes = await (await client.fetch(`${base}/json`)).bytes();
    expect(Buffer.from(asBytes).toString('utf8')).to.equal(expected);
    expect(await (await (await client.fetch(`${base}/json`)).blob()).text()).to.equal(expected);
    const streamed = await client.fetch(`${base}/json`);
    const chunks: Uint8Array[] = [];
    for await (const chunk of streamed.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    expect(Buffer.concat(chunks).toString('utf8')).to.equal(expected);
    expect(streamed.bodyUsed).to.equal(true);
    let again: unknown;
    await streamed.json().catch((error: unknown) => (again = error));
    expect(again).to.be.instanceOf(TypeError);
  });

  it('decodes a gzip JSON body, keeps error statuses and headers, and answers 204 without a body', async () => {
    expect(await (await client.fetch(`${base}/json-gzip`)).json()).to.deep.equal({ zipped: true });
    const limited = await client.fetch(`${base}/error`);
    expect([limited.status, limited.ok, limited.headers.get('retry-after')]).to.deep.equal([429, false, '2']);
    expect(await limited.json()).to.deep.equal({ error: { message: 'slow down' } });
    const empty = await client.fetch(`${base}/empty`);
    expect([empty.status, empty.body]).to.deep.equal([204, null]);
    expect(await (await client.fetch(`${base}/plain`)).text()).to.equal('plain');
  });

  it('a compressed JSON body cut mid-way fails the fetch (it is read whole) instead of hanging', async () => {
    const outcome = await Promise.race([
      client.fetch(`${base}/gzip-cut`).then(
        async (response) => `answered ${response.status}: ${await response.text()}`,
        (error: unknown) => (error instanceof TypeError ? 'failed' : `failed otherwise: ${String(error)}`),
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 3_000)),
    ]);
    expect(outcome).to.equal('failed');
  });

  it('a compressed streamed body cut mid-way fails its read (the decoder gets the source error) instead of crashing or hanging', async () => {
    const response = await client.fetch(`${base}/text-gzip-cut`);
    expect(response.status).to.equal(200);
    expect(response).to.not.be.instanceOf(BufferedResponse);
    const outcome = await Promise.race([
      response.text().then(
        () => 'read',
        () => 'failed',
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 3_000)),
    ]);
    expect(outcome).to.equal('failed');
  });

  it('a compressed JSON answer resolves only once its whole body is in (an SDK timeout then covers the body)', async () => {
    const response = await client.fetch(`${base}/gzip-slow`);
    const resolvedAt = Date.now();
    expect(response).to.be.instanceOf(BufferedResponse);
    expect(slowBodyEndedAt).to.be.greaterThan(0);
    expect(resolvedAt).to.be.at.least(slowBodyEndedAt);
    expect(await response.json()).to.deep.equal({ text: 'y'.repeat(5_000) });
  });

  it('streams an event stream as it arrives', async () => {
    const response = await client.fetch(`${base}/sse`);
    expect(response).to.not.be.instanceOf(BufferedResponse);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(Buffer.from(first.value!).toString('utf8')).to.equal('data: one\n\n');
    let rest = '';
    for (let part = await reader.read(); !part.done; part = await reader.read()) rest += Buffer.from(part.value).toString('utf8');
    expect(rest).to.equal('data: two\n\n');
  });

  it('fails like fetch: an abort rejects with the signal reason, a refused connection with TypeError("fetch failed")', async () => {
    const controller = new AbortController();
    const pending = client.fetch(`${base}/hang`, { signal: controller.signal });
    const reason = new Error('caller gave up');
    setTimeout(() => controller.abort(reason), 20);
    let aborted: unknown;
    await pending.catch((error: unknown) => (aborted = error));
    expect(aborted).to.equal(reason);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    let refused: unknown;
    await client.fetch(`http://127.0.0.1:${port}/json`).catch((error: unknown) => (refused = error));
    expect(refused).to.be.instanceOf(TypeError);
    expect((refused as Error).message).to.equal('fetch failed');
  });
});
