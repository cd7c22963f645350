// Measures the web app's first load in real Chromium against a local platform (built client, built-in store): bytes
// transferred (what went over the wire, from the DevTools protocol) and time to the sign-in form, with compression
// (Chromium's own Accept-Encoding: br, gzip), without it (Accept-Encoding: identity), and a second visit with a warm
// cache (immutable hashed assets are not fetched again). Writes its section into docs/BENCHMARKS.md.
// Usage: npm run bench:first-load   (builds client/dist first when it is stale)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { chromium, type BrowserContext } from 'playwright-core';
import { startWireStore } from '../server/db/wire-store';
import { loadConfig } from '../server/config/config';
import { createLogger } from '../server/logger';
import { startPlatform } from '../server/platform';
import { writeBenchmarkSection } from './benchmark-report';
import { fmt, log, markdownTable } from './bench-support';

const ROOT = path.resolve(__dirname, '..');
const RUNS = Number(process.env.BENCH_FIRST_LOAD_RUNS ?? 5);

interface LoadSample {
  bytes: number;
  requests: number;
  fromCache: number;
  formMs: number;
  loadMs: number;
}

async function measure(context: BrowserContext, url: string): Promise<LoadSample> {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  let requests = 0;
  let fromCache = 0;
  cdp.on('Network.loadingFinished', (event: { encodedDataLength: number }) => {
    bytes += event.encodedDataLength;
    requests += 1;
    // Nothing came over the wire: the browser's cache answered (immutable assets are not even revalidated).
    if (event.encodedDataLength === 0) fromCache += 1;
  });
  const started = performance.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  const formMs = performance.now() - started;
  const loadMs = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);
  await page.waitForLoadState('networkidle');
  await page.close();
  return { bytes, requests, fromCache, formMs, loadMs };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-client.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const store = await startWireStore();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agent-host-first-load-'));
  const config = loadConfig({ NODE_ENV: 'development', PORT: '0', HOST: '127.0.0.1', MONGODB_URI: store.uri, DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const platform = await startPlatform({ config, logger: createLogger({ level: 'warn' }), databaseName: 'first-load', meterSpool: false });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] });
  const url = `${platform.url}/#/login`;
  const results: Record<string, LoadSample[]> = { compressed: [], identity: [], warm: [] };
  try {
    for (let run = 0; run < RUNS; run++) {
      const cold = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      results.compressed!.push(await measure(cold, url));
      results.warm!.push(await measure(cold, url));
      await cold.close();
      const identity = await browser.newContext({ viewport: { width: 1280, height: 860 }, extraHTTPHeaders: { 'Accept-Encoding': 'identity' } });
      results.identity!.push(await measure(identity, url));
      await identity.close();
    }
  } finally {
    await browser.close();
    await platform.stop();
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const row = (name: string, samples: LoadSample[]) => [
    name,
    fmt.int(median(samples.map((sample) => sample.requests))),
    fmt.int(median(samples.map((sample) => sample.fromCache))),
    `${(median(samples.map((sample) => sample.bytes)) / 1024).toFixed(1)} KiB`,
    fmt.ms(median(samples.map((sample) => sample.loadMs)), 0),
    fmt.ms(median(samples.map((sample) => sample.formMs)), 0),
  ];
  const table = markdownTable(
    ['load of /#/login', 'requests', 'from cache', 'bytes transferred', 'load event ms', 'sign-in form ms'],
    ['l', 'r', 'r', 'r', 'r', 'r'],
    [row('first visit, compressed (br/gzip)', results.compressed!), row('first visit, Accept-Encoding: identity', results.identity!), row('second visit (warm cache)', results.warm!)],
  );
  log(`\n${table}`);
  const saved = 1 - median(results.compressed!.map((sample) => sample.bytes)) / median(results.identity!.map((sample) => sample.bytes));
  writeBenchmarkSection(
    'experience-b: first load',
    'npm run bench:first-load',
    [
      `Real Chromium (headless, loopback, no throttling) loading the built client from a local platform; medians of ${RUNS} runs`,
      `(machine load average ${os.loadavg()[0]!.toFixed(1)} on ${os.cpus().length} cores while measuring: the times are inflated by the other work, the bytes are not).`,
      'Bytes are what went over the wire (DevTools `encodedDataLength`: headers and compressed bodies). Compression saves',
      `${(saved * 100).toFixed(0)} % of the first visit's bytes; on the second visit the hashed assets (\`Cache-Control: public, max-age=31536000,`,
      'immutable`) come from the cache and only `index.html` (`no-cache`, revalidated) and the API calls go out.',
      '',
      table,
    ].join('\n'),
  );
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
