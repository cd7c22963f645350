// An OpenAI-compatible upstream whose streams are long: one content chunk every `intervalMs`, so a test can cut a
// stream (client hang-up, shutdown) while it is running. Point OPENAI_BASE_URL at it and use a BYOK openai agent.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlowStreamProvider {
  url: string;
  /** Content chunks written so far, over all streams. */
  chunksSent(): number;
  /** Streams whose connection is still open. */
  openStreams(): number;
  /** Resolves once `count` content chunks have been written (or rejects after `timeoutMs`). */
  waitForChunks(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSlowStreamProvider(options: { chunks: number; intervalMs: number }): Promise<SlowStreamProvider> {
  let sent = 0;
  let open = 0;
  const waiters = new Set<{ count: number; resolve: () => void }>();
  const notify = () => {
    for (const waiter of waiters) if (sent >= waiter.count) {
      waiters.delete(waiter);
      waiter.resolve();
    }
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (!request.url?.endsWith('/chat/completions')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: 'gpt-4o-mini', object: 'model' }] }));
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { model?: string; stream?: boolean };
      const base = { id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: body.model ?? 'gpt-4o-mini' };
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({ ...base, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 } }),
        );
        return;
      }
      open += 1;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      const event = (value: unknown) => response.write(`data: ${JSON.stringify(value)}\n\n`);
      event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      let index = 0;
      const timer = setInterval(() => {
        if (index < options.chunks) {
          event({ ...base, choices: [{ index: 0, delta: { content: `word${index} ` }, finish_reason: null }] });
          index += 1;
          sent += 1;
          notify();
          return;
        }
        clearInterval(timer);
        event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
        event({ ...base, choices: [], usage: { prompt_tokens: 20, completion_tokens: options.chunks * 2, total_tokens: 20 + options.chunks * 2 } });
        response.end('data: [DONE]\n\n');
      }, options.intervalMs);
      response.on('close', () => {
        clearInterval(timer);
        open -= 1;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    chunksSent: () => sent,
    openStreams: () => open,
    waitForChunks(count, timeoutMs = 20_000) {
      if (sent >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const waiter = { count, resolve: () => (clearTimeout(timer), resolve()) };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`${count} chunks not sent within ${timeoutMs} ms (${sent} were)`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
