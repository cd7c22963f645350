// The benchmarks' fake LLM provider: a minimal node:http OpenAI chat-completions server with a fixed JSON body
// (with `usage`) after a fixed delay. Run in its own process by scripts/bench.ts. Not the simulator: no parsing,
// no tokenizer, nothing that could be slower than the code it measures.
//   POST /v1/chat/completions   → the fixed completion after the current delay (a body offering tools: a fixed tool call)
//   POST /__bench/delay?ms=50   → sets the delay for the following requests
//   a body with "stream":true   → SSE: STREAM_DELTAS content deltas, one every STREAM_INTERVAL_MS (first after the
//                                 delay), then a usage chunk and [DONE] (the burst-of-streams case)
//   POST /__bench/stream?deltas=100&intervalMs=50 → sets the stream's shape
// Prints one line `{"port":…}` on stdout when listening; exits when its parent does.
import http from 'node:http';
import { serveForBenchmark } from './bench-child-server';

let delayMs = Number(process.env.FAKE_DELAY_MS ?? 0);
let streamDeltas = 100;
let streamIntervalMs = 50;

const COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000000',
    object: 'chat.completion',
    created: 1_790_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello! How can I help you today?', refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 19, completion_tokens: 9, total_tokens: 28, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    system_fingerprint: 'fp_bench',
  }),
);
const HEADERS = { 'content-type': 'application/json', 'content-length': String(COMPLETION.length), 'x-request-id': 'req_fake_bench' };
// A request offering tools is answered with a tool call (the bench's tools case).
const TOOL_COMPLETION = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench0000000000000000000001',
    object: 'chat.completion',
    created: 1_790_000_000,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: null, refusal: null, tool_calls: [{ id: 'call_bench0001', type: 'function', function: { name: 'get_weather', arguments: '{"query":"Paris"}' } }] },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: { prompt_tokens: 180, completion_tokens: 14, total_tokens: 194, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } },
    system_fingerprint: 'fp_bench',
  }),
);
const TOOL_HEADERS = { ...HEADERS, 'content-length': String(TOOL_COMPLETION.length) };

const STREAM_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-request-id': 'req_fake_bench_stream' };
const chunkOf = (body: object) => `data: ${JSON.stringify({ id: 'chatcmpl-benchstream', object: 'chat.completion.chunk', created: 1_790_000_000, model: 'gpt-4o-mini-2024-07-18', ...body })}\n\n`;
const DELTA_CHUNK = chunkOf({ choices: [{ index: 0, delta: { content: 'word ' }, finish_reason: null }] });
const ROLE_CHUNK = chunkOf({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });

function sendStream(response: http.ServerResponse): void {
  response.writeHead(200, STREAM_HEADERS);
  response.write(ROLE_CHUNK);
  let sent = 0;
  const timer = setInterval(() => {
    response.write(DELTA_CHUNK);
    sent += 1;
    if (sent < streamDeltas) return;
    clearInterval(timer);
    response.write(chunkOf({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
    response.write(chunkOf({ choices: [], usage: { prompt_tokens: 19, completion_tokens: streamDeltas, total_tokens: 19 + streamDeltas } }));
    response.end('data: [DONE]\n\n');
  }, streamIntervalMs);
  response.once('close', () => clearInterval(timer));
}

const server = http.createServer((request, response) => {
  const url = request.url ?? '';
  // Read (not parsed): only whether the body asks for a stream or offers tools.
  let streamed = false;
  let offersTools = false;
  request.on('data', (chunk: Buffer) => {
    if (!streamed && chunk.includes('"stream":true')) streamed = true;
    if (!offersTools && chunk.includes('"tools"')) offersTools = true;
  });
  request.on('end', () => {
    if (request.method === 'POST' && url.startsWith('/__bench/stream')) {
      const query = new URL(url, 'http://x').searchParams;
      streamDeltas = Number(query.get('deltas') ?? streamDeltas);
      streamIntervalMs = Number(query.get('intervalMs') ?? streamIntervalMs);
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'POST' && url.endsWith('/chat/completions') && streamed) {
      if (delayMs > 0) setTimeout(() => sendStream(response), delayMs);
      else sendStream(response);
      return;
    }
    if (request.method === 'POST' && url.startsWith('/__bench/delay')) {
      delayMs = Number(new URL(url, 'http://x').searchParams.get('ms') ?? 0);
      response.writeHead(204).end();
      return;
    }
    if (request.method === 'POST' && url.endsWith('/chat/completions')) {
      const send = offersTools ? () => response.writeHead(200, TOOL_HEADERS).end(TOOL_COMPLETION) : () => response.writeHead(200, HEADERS).end(COMPLETION);
      if (delayMs > 0) setTimeout(send, delayMs);
      else send();
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found","type":"invalid_request_error"}}');
  });
});
serveForBenchmark(server, Number(process.env.FAKE_PORT ?? 0));
