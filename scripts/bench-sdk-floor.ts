// The SDK floor of a gateway that, like Agent Host, must call providers through their official SDK, for `npm run bench`:
// a bare node:http server that reads the body, parses it, calls `chat.completions.create` of the `openai` SDK (one shared
// client, the caller's key in the request's Authorization header, on the platform's own keep-alive fetch — the same
// transport Agent Host uses), and answers with the SDK's result re-serialized (streams: each chunk re-serialized as SSE).
// No auth, no metering, no logging. Between the node:http floor and this one is what the SDK costs; above this one is
// what Agent Host's own work costs.
//   UPSTREAM=http://127.0.0.1:port  (the fake provider)   PORT=0
// Prints one line `{"port":…}` on stdout when listening; exits when its parent does.
import http from 'node:http';
import { serveForBenchmark } from './bench-child-server';
import OpenAI from 'openai';
import { createKeepAliveFetch } from '../server/llm/keep-alive-fetch';

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:1';
const transport = createKeepAliveFetch({ connections: 4096 });
const client = new OpenAI({ apiKey: 'per-request', baseURL: `${upstream}/v1`, maxRetries: 0, fetch: transport.fetch, organization: null, project: null, logLevel: 'off' });

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    void (async () => {
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      } catch {
        response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
        return;
      }
      const options = { headers: { Authorization: request.headers.authorization ?? '' } };
      try {
        if (body.stream === true) {
          const stream = await client.chat.completions.create({ ...(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming), stream: true }, options);
          response.writeHead(200, { 'content-type': 'text/event-stream' });
          for await (const chunk of stream) response.write(`data: ${JSON.stringify(chunk)}\n\n`);
          response.end('data: [DONE]\n\n');
          return;
        }
        const completion = await client.chat.completions.create(body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming, options);
        const text = JSON.stringify(completion);
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
      } catch {
        if (!response.headersSent) response.writeHead(502);
        response.end();
      }
    })();
  });
});
serveForBenchmark(server, Number(process.env.PORT ?? 0));
