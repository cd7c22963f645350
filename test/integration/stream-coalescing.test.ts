// How a stream's bytes arrive upstream and leave downstream must not change what the client's SDK sees (#20): the
// upstream reader turns each network chunk into its events at once (several events in one read, one event split over
// many reads, a character split between reads), and the SSE writer puts events that come close together into one
// write. Through /v1 with the official `openai` SDK against a scripted OpenAI-compatible upstream: every delta, in
// order, the finish reason, the usage chunk, one meter event. No timings are asserted.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import OpenAI from 'openai';
import { Types } from 'mongoose';
import { createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';

/** One write of the upstream's answer, after a pause. */
interface Piece {
  bytes: Buffer;
  delayMs: number;
}
type Script = (deltas: string[]) => Piece[];

const base = { id: 'chatcmpl-scripted', object: 'chat.completion.chunk', created: 1_790_000_000, model: 'gpt-4o-mini-2024-07-18' };
const sse = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

/** The whole answer as SSE text: role, the deltas, finish, usage, [DONE]. */
function answerText(deltas: string[]): string {
  return [
    sse({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    ...deltas.map((content) => sse({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
    sse({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }),
    sse({ ...base, choices: [], usage: { prompt_tokens: 11, completion_tokens: deltas.length, total_tokens: 11 + deltas.length } }),
    'data: [DONE]\n\n',
  ].join('');
}

/** Deltas with what JSON and UTF-8 make hard: quotes, backslashes, newlines, NUL, emoji, CJK, combining marks. */
function trickyDeltas(count: number): string[] {
  const pool = ['plain ', '"quoted" ', 'back\\slash ', 'line\nbreak ', 'nul\u0000 ', '🦊 ', '漢字 ', 'e\u0301 ', 'data: not an event ', '\r\n '];
  return Array.from({ length: count }, (_, index) => `${index}:${pool[index % pool.length]}`);
}

async function startScriptedUpstream(): Promise<{ url: string; use(deltas: number, script: Script): void; requests(): number; close(): Promise<void> }> {
  let script: Script = (deltas) => [{ bytes: Buffer.from(answerText(deltas)), delayMs: 0 }];
  let count = 10;
  let requests = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      requests += 1;
      response.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_scripted' });
      const pieces = script(trickyDeltas(count));
      let index = 0;
      const next = () => {
        if (index === pieces.length) return void response.end();
        const piece = pieces[index]!;
        index += 1;
        setTimeout(() => {
          if (!response.destroyed) response.write(piece.bytes);
          next();
        }, piece.delayMs);
      };
      next();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    use: (deltas, next) => {
      count = deltas;
      script = next;
    },
    requests: () => requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Cuts a buffer at the given byte offsets. */
function cut(bytes: Buffer, offsets: number[], delayMs: number): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    if (offset > start) pieces.push({ bytes: bytes.subarray(start, offset), delayMs });
    start = Math.max(start, offset);
  }
  return pieces;
}

describe('stream bytes upstream and downstream: the SDK still sees every delta in order', function () {
  this.timeout(120_000);
  let upstream: Awaited<ReturnType<typeof startScriptedUpstream>>;
  let platform: TestPlatform;
  let owner: TestUser;
  let agentId: string;
  let client: OpenAI;

  before(async () => {
    upstream = await startScriptedUpstream();
    platform = await startTestPlatform({ env: { OPENAI_BASE_URL: upstream.url } });
    owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-scripted-upstream' });
    agentId = agent.id;
    client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0, timeout: 60_000 });
  });
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  const meterEventsOf = async (requestId: string) => {
    await platform.platform.meter.drain();
    return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId), requestId }).lean();
  };

  /** One streamed call through /v1 with the SDK: the deltas, finish reason, usage and request id it saw. */
  async function streamOnce(deltas: number) {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'agent', messages: [{ role: 'user', content: 'go' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const contents: string[] = [];
    let finishReason: string | null | undefined;
    let usage: OpenAI.Completions.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) contents.push(choice.delta.content);
      if (choice?.finish_reason) finishReason = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    return { contents, finishReason, usage, requestId: response.headers.get('x-request-id') ?? '' };
  }

  async function expectWhole(deltas: number) {
    const outcome = await streamOnce(deltas);
    expect(outcome.contents).to.deep.equal(trickyDeltas(deltas));
    expect(outcome.finishReason).to.equal('stop');
    expect(outcome.usage).to.include({ prompt_tokens: 11, completion_tokens: deltas });
    const events = await meterEventsOf(outcome.requestId);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ status: 'ok', usageSource: 'provider', tokensInput: 11, tokensOutput: deltas, requestType: 'stream' });
  }

  it('a whole answer in one upstream write (one network read, hundreds of events)', async () => {
    upstream.use(600, (deltas) => [{ bytes: Buffer.from(answerText(deltas)), delayMs: 0 }]);
    // More events than the reader queues before it pauses its source (backpressure, then resumed).
    await expectWhole(600);
  });

  it('every byte its own write: events, lines and UTF-8 characters split between reads', async () => {
    upstream.use(12, (deltas) => {
      const bytes = Buffer.from(answerText(deltas));
      return cut(bytes, Array.from({ length: bytes.length }, (_, index) => index), 0);
    });
    await expectWhole(12);
  });

  it('pieces cut at every kind of boundary, with pauses between them', async () => {
    upstream.use(40, (deltas) => {
      const bytes = Buffer.from(answerText(deltas));
      const offsets: number[] = [];
      // Inside the emoji (4 bytes) and the CJK characters (3 bytes), between the two LFs of an event end, mid-field.
      for (const needle of ['🦊', '漢', '\n\n', 'data:', '"content"']) {
        let at = bytes.indexOf(needle);
        while (at !== -1) {
          offsets.push(at + 1);
          at = bytes.indexOf(needle, at + 1);
        }
      }
      return cut(bytes, [...new Set(offsets)].sort((a, b) => a - b), 1);
    });
    await expectWhole(40);
  });

  it('deltas faster than the write window reach the client in fewer network chunks, each delta still its own event', async () => {
    const deltas = 60;
    // One delta per upstream write, 2 ms apart: well inside the downstream write window.
    upstream.use(deltas, (all) => {
      const text = answerText(all);
      const events = text.split(/(?<=\n\n)/);
      return events.map((event, index) => ({ bytes: Buffer.from(event), delayMs: index === 0 ? 0 : 2 }));
    });
    await expectWhole(deltas);
    // The same stream read as raw bytes: fewer network chunks than deltas, and the events parse back to every delta.
    const response = await fetch(`${platform.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'agent', stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    let reads = 0;
    let text = '';
    const decoder = new TextDecoder();
    for await (const piece of response.body as unknown as AsyncIterable<Uint8Array>) {
      reads += 1;
      text += decoder.decode(piece, { stream: true });
    }
    const contents = text
      .split('\n\n')
      .filter((event) => event.startsWith('data: {'))
      .map((event) => JSON.parse(event.slice(6)) as { choices: { delta: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta.content)
      .filter((content): content is string => Boolean(content));
    expect(contents).to.deep.equal(trickyDeltas(deltas));
    expect(text.endsWith('data: [DONE]\n\n')).to.equal(true);
    // Written as they came (no window), the client would see about one network chunk per delta.
    expect(reads).to.be.below(deltas / 4);
  });

  it('the playground chat API gets the same deltas from a whole answer in one upstream write', async () => {
    upstream.use(50, (deltas) => [{ bytes: Buffer.from(answerText(deltas)), delayMs: 0 }]);
    const workspaceId = owner.workspace.id;
    const response = await fetch(`${platform.url}/api/workspaces/${workspaceId}/agents/${agentId}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ stream: true, messages: [{ role: 'user', content: 'go' }] }),
    });
    expect(response.status).to.equal(200);
    const text = await response.text();
    const events = text
      .split('\n\n')
      .filter((event) => event.startsWith('data: '))
      .map((event) => JSON.parse(event.slice(6)) as { type: string; content?: string; usage?: { outputTokens: number } });
    expect(events.filter((event) => event.type === 'delta').map((event) => event.content)).to.deep.equal(trickyDeltas(50));
    expect(events.at(-1)).to.include({ type: 'end' });
    expect(events.at(-1)!.usage).to.include({ outputTokens: 50 });
  });
});
