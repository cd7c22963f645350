// A metered call → its `usage:update` over socket.io: the latency a watching dashboard sees. A part of `npm run bench`
// (scripts/bench.ts).
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { CHAT_BODY } from './bench-gateway';
import { percentile, sleep, sortedCopy } from './bench-support';
import { createAgent, createAgentKey, registerUser } from './bench-http-setup';

export interface LiveLatencyResult {
  calls: number;
  spacingMs: number;
  updates: number;
  missed: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  updatesPerSecond: number;
}

export async function benchLiveUpdates(options: { baseUrl: string; calls: number; spacingMs: number }): Promise<LiveLatencyResult> {
  const { baseUrl } = options;
  const user = await registerUser(baseUrl, 'Live bench owner');
  const agentId = await createAgent(baseUrl, user, 'Live agent', { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-bench-live-0123456789' });
  const key = await createAgentKey(baseUrl, user, agentId);

  const updates: Array<{ at: number; requests: number }> = [];
  const socket: Socket = io(baseUrl, { auth: { token: user.token }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (error) => reject(error));
    });
    socket.on('usage:update', (payload: { totals?: { requests?: number } }) => {
      updates.push({ at: performance.now(), requests: Number(payload.totals?.requests ?? 0) });
    });
    const joined = await socket.timeout(5_000).emitWithAck('workspace:join', { workspaceId: user.workspaceId });
    if (joined && typeof joined === 'object' && 'ok' in joined && joined.ok === false) throw new Error(`workspace:join refused: ${JSON.stringify(joined)}`);

    const responses: number[] = [];
    const firstCallAt = performance.now();
    for (let k = 1; k <= options.calls; k++) {
      const sentAt = performance.now();
      const response = await fetch(`${baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: CHAT_BODY,
      });
      const text = await response.text();
      if (response.status !== 200) throw new Error(`live: /v1 call ${k}: HTTP ${response.status}: ${text.slice(0, 300)}`);
      responses.push(performance.now());
      const wait = sentAt + options.spacingMs - performance.now();
      if (wait > 0) await sleep(wait);
    }
    await sleep(2_000);
    const elapsedSeconds = (performance.now() - firstCallAt) / 1000;

    const latencies: number[] = [];
    let missed = 0;
    let cursor = 0;
    for (let k = 1; k <= options.calls; k++) {
      while (cursor < updates.length && updates[cursor]!.requests < k) cursor++;
      const update = updates[cursor];
      if (!update) {
        missed++;
        continue;
      }
      // An update can (rarely) overtake the HTTP response it reflects: that counts as 0 ms.
      latencies.push(Math.max(0, update.at - responses[k - 1]!));
    }
    const sorted = sortedCopy(latencies);
    return {
      calls: options.calls,
      spacingMs: options.spacingMs,
      updates: updates.length,
      missed,
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      max: sorted[sorted.length - 1] ?? NaN,
      updatesPerSecond: updates.length / elapsedSeconds,
    };
  } finally {
    socket.close();
  }
}
