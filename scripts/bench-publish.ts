// `npm run bench:publish`: the embeddable chat's cost to a website and to a visitor. Writes the "publish" section of
// docs/BENCHMARKS.md: the widget script's size (raw and gzipped, as served), and time to first token of a streamed
// answer through the public chat endpoint next to /v1 for the same agent (one platform in this process, built-in
// store, provider simulator; sequential calls after a warm-up). Flags: --calls=<n> (default 200), --no-write.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform } from '../test/support/test-platform';
import { writeBenchmarkSection } from './benchmark-report';

const ROOT = path.resolve(__dirname, '..');
const args = Object.fromEntries(process.argv.slice(2).map((arg) => arg.replace(/^--/, '').split('=')) as Array<[string, string | undefined]>);
const CALLS = Number(args.calls ?? 200);
const WARMUP = 20;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Time to the first streamed content and to the end, for one SSE POST. */
async function timeStream(url: string, init: RequestInit, isContent: (data: string) => boolean): Promise<{ firstMs: number; totalMs: number }> {
  const started = performance.now();
  const response = await fetch(url, init);
  if (!response.ok || !response.body) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let firstMs = -1;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let boundary: number;
    while (firstMs < 0 && (boundary = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, boundary);
      buffer = buffer.slice(boundary + 2);
      if (block.startsWith('data: ') && isContent(block.slice(6))) firstMs = performance.now() - started;
    }
  }
  return { firstMs, totalMs: performance.now() - started };
}

async function main(): Promise<void> {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'build-client.mjs')], { cwd: ROOT, stdio: 'inherit' });
  const widget = fs.readFileSync(path.join(ROOT, 'client', 'dist', 'widget', 'widget.js'));
  const gzipped = zlib.gzipSync(widget, { level: 9 }).length;
  const brotli = zlib.brotliCompressSync(widget).length;

  const platform = await startTestPlatform({ publicChatLimits: { visitorRequestsPerMinute: 1e6, addressRequestsPerMinute: 1e6, visitorTokensPerDay: 1e12, addressTokensPerDay: 1e12 } });
  try {
    const owner = await registerUser(platform.url);
    const keptAgent = await createAgent(platform.url, owner);
    const passAgent = await createAgent(platform.url, owner);
    const key = await createAgentApiKey(platform.url, owner, keptAgent.id);
    const publish = async (agentId: string, retentionDays: number) => {
      await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/publishing`, { token: owner.token, body: { retentionDays } });
      return (await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/publishing/publish`, { token: owner.token })).body.slug as string;
    };
    const keptSlug = await publish(keptAgent.id, 30);
    const passSlug = await publish(passAgent.id, 0);
    const question = 'What are your opening hours on public holidays?';
    const cases: Array<{ name: string; run: (index: number) => Promise<{ firstMs: number; totalMs: number }> }> = [
      {
        name: '/v1/chat/completions (stream)',
        run: () =>
          timeStream(`${platform.url}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'agent', stream: true, messages: [{ role: 'user', content: question }] }) }, (data) => data !== '[DONE]' && Boolean(JSON.parse(data).choices?.[0]?.delta?.content)),
      },
      {
        name: 'public chat, retention off (nothing stored)',
        run: (index) =>
          timeStream(`${platform.url}/api/public/agents/${passSlug}/chat`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ visitorId: `v_benchvisitor${String(index % 50).padStart(8, '0')}`, message: question }) }, (data) => JSON.parse(data).type === 'delta'),
      },
      {
        name: 'public chat, retention on (a new conversation each)',
        run: (index) =>
          timeStream(`${platform.url}/api/public/agents/${keptSlug}/chat`, { method: 'POST', headers: { 'content-type': 'application/json', origin: platform.url }, body: JSON.stringify({ visitorId: `v_benchvisitor${String(index % 50).padStart(8, '0')}`, message: question }) }, (data) => JSON.parse(data).type === 'delta'),
      },
    ];
    const rows: string[] = [];
    for (const benchCase of cases) {
      for (let index = 0; index < WARMUP; index += 1) await benchCase.run(index);
      const first: number[] = [];
      const total: number[] = [];
      for (let index = 0; index < CALLS; index += 1) {
        const timing = await benchCase.run(index);
        first.push(timing.firstMs);
        total.push(timing.totalMs);
      }
      rows.push(`| ${benchCase.name} | ${CALLS} | ${quantile(first, 0.5).toFixed(2)} | ${quantile(first, 0.95).toFixed(2)} | ${quantile(total, 0.5).toFixed(2)} | ${quantile(total, 0.95).toFixed(2)} |`);
      console.log(rows.at(-1));
    }
    const body = [
      'The embeddable chat (`client/src/widget`, served at `/widget.js`): one self-contained script with marked and DOMPurify.',
      '',
      '| widget.js | bytes |',
      '| --- | ---: |',
      `| raw (minified) | ${widget.length.toLocaleString('en-US')} |`,
      `| gzip -9 | ${gzipped.toLocaleString('en-US')} |`,
      `| brotli | ${brotli.toLocaleString('en-US')} |`,
      '',
      `Time to first token of a streamed answer, same managed agent (sandbox: the provider simulator answers at once), one`,
      `platform in the benchmark's process, sequential calls after ${WARMUP} warm-up calls. The public chat adds the published-agent`,
      'lookup, the origin check and CORS, two rate limiters, the visitor\'s daily-token check, history trimming and (retention on)',
      'the conversation write after the last token.',
      '',
      '| endpoint | calls | first token p50 ms | first token p95 ms | whole answer p50 ms | whole answer p95 ms |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      ...rows,
    ].join('\n');
    console.log(body);
    if (args['no-write'] === undefined) writeBenchmarkSection('publish', `npm run bench:publish -- --calls=${CALLS}`, body);
  } finally {
    await platform.stop();
  }
}

void main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
