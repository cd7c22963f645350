// Delivery: brotli or gzip as the client asks, never for event streams (which still arrive event by event), and
// hashed assets cached for a year as immutable while index.html revalidates.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { expect } from 'chai';
import { createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { startSlowStreamProvider, type SlowStreamProvider } from '../support/slow-stream-provider';
import { buildClientIfStale, ROOT } from '../support/client-build';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** When each body chunk arrived, in ms after the request was sent. */
  chunkTimes: number[];
}

function rawRequest(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.request(url, { method: options.method ?? 'GET', headers: options.headers }, (response) => {
      const chunks: Buffer[] = [];
      const chunkTimes: number[] = [];
      response.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        chunkTimes.push(performance.now() - started);
      });
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: Buffer.concat(chunks), chunkTimes }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('delivery: compression and caching', function () {
  this.timeout(120_000);
  let platform: TestPlatform;
  let provider: SlowStreamProvider;
  let owner: TestUser;

  before(async function () {
    this.timeout(120_000);
    buildClientIfStale();
    provider = await startSlowStreamProvider({ chunks: 6, intervalMs: 250 });
    platform = await startTestPlatform({ env: { OPENAI_BASE_URL: provider.url } });
    owner = await registerUser(platform.url, 'Delivery Tester');
  });
  after(async () => {
    await platform?.stop();
    await provider?.close();
  });

  it('answers JSON in brotli or gzip as asked, identical once decoded', async () => {
    const plain = await rawRequest(`${platform.url}/api/openapi.json`);
    expect(plain.headers['content-encoding']).to.equal(undefined);
    const brotli = await rawRequest(`${platform.url}/api/openapi.json`, { headers: { 'accept-encoding': 'br, gzip' } });
    expect(brotli.headers['content-encoding']).to.equal('br');
    expect(zlib.brotliDecompressSync(brotli.body).equals(plain.body)).to.equal(true);
    expect(brotli.body.length).to.be.lessThan(plain.body.length / 4);
    const gzip = await rawRequest(`${platform.url}/api/openapi.json`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gzip.headers['content-encoding']).to.equal('gzip');
    expect(zlib.gunzipSync(gzip.body).equals(plain.body)).to.equal(true);
    expect(String(gzip.headers.vary)).to.match(/accept-encoding/i);
  });

  it('does not compress an SSE stream, which arrives event by event', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-delivery-stream' });
    const response = await rawRequest(`${platform.url}/api/workspaces/${owner.workspace.id}/agents/${agent.id}/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner.token}`, 'accept-encoding': 'br, gzip' },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'stream please' }], stream: true }),
    });
    expect(response.status).to.equal(200);
    expect(response.headers['content-type']).to.match(/text\/event-stream/);
    expect(response.headers['content-encoding']).to.equal(undefined);
    const text = response.body.toString('utf8');
    expect(text.match(/"type":"delta"/g)?.length).to.be.at.least(6);
    expect(text).to.contain('"type":"end"');
    // Six chunks 250 ms apart: the first event arrived long before the last one (nothing buffered to the end).
    const spread = response.chunkTimes[response.chunkTimes.length - 1]! - response.chunkTimes[0]!;
    expect(response.chunkTimes.length).to.be.at.least(4);
    expect(spread).to.be.greaterThan(750);
  });

  it('caches hashed assets for a year as immutable; index.html revalidates', async () => {
    const assets = fs.readdirSync(path.join(ROOT, 'client', 'dist', 'assets'));
    const script = assets.find((name) => name.endsWith('.js'))!;
    const asset = await rawRequest(`${platform.url}/assets/${script}`, { headers: { 'accept-encoding': 'br' } });
    expect(asset.status).to.equal(200);
    expect(asset.headers['cache-control']).to.equal('public, max-age=31536000, immutable');
    expect(asset.headers['content-encoding']).to.equal('br');
    const missing = await rawRequest(`${platform.url}/assets/nothing-here-123.js`);
    expect(missing.status).to.equal(404);
    expect(missing.headers['cache-control'] ?? '').to.not.contain('immutable');
    for (const page of ['/', '/index.html', '/some/deep/link']) {
      const html = await rawRequest(`${platform.url}${page}`);
      expect(html.status, page).to.equal(200);
      expect(html.headers['cache-control'], page).to.equal('no-cache');
    }
  });
});
