// The streamed /v1 path read as one staged iterator (router, runner and cache stages, #20): through the official
// openai SDK, every delta reaches the client once and in order, and every stream is metered exactly once however it
// ends — completed, the provider's error in the middle, the provider going silent (idle timeout), the client hanging up.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import OpenAI from 'openai';
import { Types } from 'mongoose';
import { createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';

/**
 * An OpenAI-compatible upstream whose stream the request's last message chooses: `count:N` (N numbered deltas, in
 * bursts of several per network write), `error:K` (K deltas, then an error payload), `stall:K` (K deltas, then silence),
 * `slow:N` (N deltas 30 ms apart).
 */
async function startScriptedUpstream(): Promise<{ url: string; openStreams(): number; close(): Promise<void> }> {
  let open = 0;
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as { messages?: Array<{ content: string }>; stream?: boolean };
      const [mode, countText] = String(body.messages?.at(-1)?.content ?? 'count:1').split(':');
      const count = Number(countText);
      const base = { id: 'chatcmpl-staged', object: 'chat.completion.chunk', created: 1_790_000_000, model: 'gpt-4o-mini' };
      const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
      const delta = (index: number) => event({ ...base, choices: [{ index: 0, delta: { content: `w${index} ` }, finish_reason: null }] });
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      open += 1;
      response.write(event({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }));
      let index = 0;
      const finish = () => {
        response.write(event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }));
        response.write(event({ ...base, choices: [], usage: { prompt_tokens: 11, completion_tokens: count, total_tokens: 11 + count } }));
        response.end('data: [DONE]\n\n');
      };
      const timer = setInterval(
        () => {
          if (mode === 'slow') {
            if (index < count) response.write(delta(index++));
            else (clearInterval(timer), finish());
            return;
          }
          // 1–7 deltas in one write, so the reader sees several events per network read and events split across reads.
          let burst = '';
          for (let inBurst = 0; inBurst < 1 + (index % 7) && index < count; inBurst += 1) burst += delta(index++);
          if (burst.length > 0) response.write(burst.slice(0, 5)), response.write(burst.slice(5));
          if (index < count) return;
          clearInterval(timer);
          if (mode === 'error') response.end(event({ error: { message: 'The model overloaded mid-answer.', type: 'server_error' } }));
          else if (mode === 'count') finish();
          // stall: nothing more, the connection stays open.
        },
        mode === 'slow' ? 30 : 2,
      );
      response.on('close', () => {
        clearInterval(timer);
        open -= 1;
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    openStreams: () => open,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('streams through the staged /v1 path: every delta once, in order; every stream metered once', function () {
  this.timeout(60_000);
  let upstream: Awaited<ReturnType<typeof startScriptedUpstream>>;
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    upstream = await startScriptedUpstream();
    platform = await startTestPlatform({ env: { OPENAI_BASE_URL: upstream.url }, retryPolicy: { streamIdleTimeoutMs: 700 } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    await upstream?.close();
  });

  /** A new agent and an openai SDK client on its /v1 key (no SDK retries: one call is one stream). */
  async function newClient() {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-staged-stream' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    return { agent, client: new OpenAI({ apiKey: key, baseURL: `${platform.url}/v1`, maxRetries: 0 }) };
  }

  /** The agent's meter events once the meter is drained, waiting (briefly) for the ones still being finished. */
  async function meterEventsOf(agentId: string, expected: number) {
    const deadline = Date.now() + 10_000;
    for (;;) {
      await platform.platform.meter.drain();
      const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
      if (events.length >= expected || Date.now() > deadline) {
        // Nothing more arrives after a moment: exactly, not at least.
        await new Promise((resolve) => setTimeout(resolve, 200));
        await platform.platform.meter.drain();
        return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async function read(client: OpenAI, content: string, stopAfter?: number) {
    const contents: string[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    let error: Error | undefined;
    const stream = await client.chat.completions.create({ model: 'agent', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content }] });
    try {
      for await (const chunk of stream) {
        const text = chunk.choices[0]?.delta?.content;
        if (text) contents.push(text);
        if (chunk.usage) usage = chunk.usage;
        if (stopAfter !== undefined && contents.length >= stopAfter) {
          stream.controller.abort();
          break;
        }
      }
    } catch (caught) {
      error = caught as Error;
    }
    return { contents, usage, error };
  }

  const numbered = (count: number) => Array.from({ length: count }, (_, index) => `w${index} `);

  it('streams side by side each get every delta exactly once and in order, and each is metered once with the provider\'s usage', async () => {
    const { agent, client } = await newClient();
    const results = await Promise.all([400, 250, 1].map((count) => read(client, `count:${count}`)));
    expect(results.map((result) => result.error)).to.deep.equal([undefined, undefined, undefined]);
    expect(results[0]!.contents).to.deep.equal(numbered(400));
    expect(results[1]!.contents).to.deep.equal(numbered(250));
    expect(results[2]!.contents).to.deep.equal(numbered(1));
    expect(results.map((result) => result.usage?.completion_tokens)).to.deep.equal([400, 250, 1]);
    const events = await meterEventsOf(agent.id, 3);
    expect(events).to.have.length(3);
    expect(events.map((event) => event.status)).to.deep.equal(['ok', 'ok', 'ok']);
    expect(events.map((event) => event.tokensOutput).sort((a, b) => a - b)).to.deep.equal([1, 250, 400]);
    expect(events.every((event) => event.requestType === 'stream' && event.usageSource === 'provider')).to.equal(true);
  });

  it('a provider error mid-stream: the deltas before it, then the error in the stream; one partial meter event', async () => {
    const { agent, client } = await newClient();
    const result = await read(client, 'error:37');
    expect(result.contents).to.deep.equal(numbered(37));
    expect(result.error, 'the SDK sees the error event').to.be.instanceOf(Error);
    const events = await meterEventsOf(agent.id, 1);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ status: 'partial', requestType: 'stream' });
    expect(events[0]!.tokensOutput).to.be.greaterThan(0);
  });

  it('a provider that goes silent mid-stream is cut by the idle timeout: the deltas before it, an error; one meter event', async () => {
    const { agent, client } = await newClient();
    const startedAt = Date.now();
    const result = await read(client, 'stall:12');
    expect(result.contents).to.deep.equal(numbered(12));
    expect(result.error).to.be.instanceOf(Error);
    expect(Date.now() - startedAt).to.be.at.least(650);
    const events = await meterEventsOf(agent.id, 1);
    expect(events).to.have.length(1);
    expect(events[0]!.status).to.be.oneOf(['partial', 'timeout']);
    expect(events[0]!.tokensOutput).to.be.greaterThan(0);
  });

  it('a client that hangs up mid-stream: the deltas it read were in order; one partial meter event, the upstream call ended', async () => {
    const { agent, client } = await newClient();
    const result = await read(client, 'slow:200', 5);
    expect(result.contents).to.deep.equal(numbered(5));
    const events = await meterEventsOf(agent.id, 1);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ status: 'partial', usageSource: 'estimated', requestType: 'stream' });
    expect(events[0]!.tokensOutput).to.be.at.least(5);
    const deadline = Date.now() + 5_000;
    while (upstream.openStreams() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(upstream.openStreams(), 'the upstream stream was closed').to.equal(0);
  });
});
