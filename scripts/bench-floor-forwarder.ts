// The physical floor of a JSON gateway on this machine, for `npm run bench`: a bare node:http forwarder that reads the
// request body, parses and re-serializes it, forwards it to the provider over a keep-alive agent, and parses and
// re-serializes the JSON answer. A streamed answer (server-sent events) is read as text, each event's JSON parsed and
// re-serialized and written to the client as it comes, one write per event: the least a JS gateway that looks at the
// deltas must do (the bursts-of-streams floor). No auth, no metering, no logging: any gateway costs at least this much
// CPU per call.
//   UPSTREAM=http://127.0.0.1:port  (the fake provider)   PORT=0
// Prints one line `{"port":…}` on stdout when listening; exits when its parent does.
import http from 'node:http';
import { serveForBenchmark } from './bench-child-server';

const upstream = new URL(process.env.UPSTREAM ?? 'http://127.0.0.1:1');
const agent = new http.Agent({ keepAlive: true, maxSockets: 4096 });

/** Each `data:` event of the upstream stream, its JSON parsed and re-serialized, written as soon as it is complete. */
function forwardEvents(answer: http.IncomingMessage, response: http.ServerResponse): void {
  // utf8 decoding keeps a character cut between two reads whole.
  answer.setEncoding('utf8');
  let pending = '';
  answer.on('data', (text: string) => {
    pending += text;
    let end = pending.indexOf('\n\n');
    while (end >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      if (event.startsWith('data: ')) {
        const data = event.slice(6);
        response.write(data === '[DONE]' ? 'data: [DONE]\n\n' : `data: ${JSON.stringify(JSON.parse(data))}\n\n`);
      }
      end = pending.indexOf('\n\n');
    }
  });
  answer.on('end', () => response.end());
  answer.on('error', () => response.destroy());
  response.on('close', () => {
    if (!answer.complete) answer.destroy();
  });
}

const server = http.createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    let body: string;
    try {
      body = JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
      return;
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, path: request.url, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: request.headers.authorization ?? '' } },
      (answer) => {
        if (String(answer.headers['content-type']).startsWith('text/event-stream')) {
          response.writeHead(answer.statusCode ?? 502, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
          forwardEvents(answer, response);
          return;
        }
        const answerChunks: Buffer[] = [];
        answer.on('data', (chunk: Buffer) => answerChunks.push(chunk));
        answer.on('end', () => {
          const text = JSON.stringify(JSON.parse(Buffer.concat(answerChunks).toString('utf8')));
          response.writeHead(answer.statusCode ?? 502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
        });
      },
    );
    forwarded.once('error', () => response.writeHead(502).end());
    forwarded.end(body);
  });
});
serveForBenchmark(server, Number(process.env.PORT ?? 0));
