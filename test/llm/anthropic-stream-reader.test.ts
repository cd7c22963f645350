// Anthropic's streamed answer read by our event reader (anthropic.stream-reader.ts, #20) from the response the
// official SDK sent, on the platform's keep-alive fetch: however the bytes arrive (one write, every byte its own
// write, characters and events split between reads, pings between events), the adapter gives the same events in
// order; an `error` event or a cut connection mid-answer fails with what was streamed so far.
import { expect } from 'chai';
import { createKeepAliveFetch, type KeepAliveFetch } from '../../server/llm/keep-alive-fetch';
import { LlmCallError } from '../../server/llm/llm-call.error';
import type { StreamEvent } from '../../server/llm/llm.types';
import { getProviderAdapter } from '../../server/llm/providers/provider-registry';
import { everyByte, ragged, startScriptedEventStream, whole, type Writes } from '../support/scripted-event-stream';

const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
const TEXTS = ['Hello', ' wörld 🦊', ' 漢字', ' "quoted" \\ line\nbreak', ' e\u0301'];

function answer(ending: 'complete' | 'error' | 'cut'): string {
  const parts = [
    sse('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-haiku-4-5-20251001', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1, cache_read_input_tokens: 3 } } }),
    sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    sse('ping', { type: 'ping' }),
    ...TEXTS.map((text) => sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } })),
    sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
  ];
  if (ending === 'error') return [...parts, sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })].join('');
  if (ending === 'cut') return parts.join('');
  return [
    ...parts,
    sse('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: {} } }),
    sse('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"city":' } }),
    sse('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }),
    sse('content_block_stop', { type: 'content_block_stop', index: 1 }),
    // Cumulative usage: the last value counts, and an absent field keeps the earlier one.
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 20 } }),
    sse('message_delta', { type: 'message_delta', delta: { stop_reason: null, stop_sequence: null }, usage: { output_tokens: 42 } }),
    sse('message_stop', { type: 'message_stop' }),
  ].join('');
}

describe('the Anthropic stream through its SDK, read by our event reader', function () {
  this.timeout(60_000);
  let upstream: Awaited<ReturnType<typeof startScriptedEventStream>>;
  let baseUrl: string;
  let keepAlive: KeepAliveFetch;
  let script: { ending: 'complete' | 'error' | 'cut'; writes: Writes } = { ending: 'complete', writes: whole };

  before(async () => {
    upstream = await startScriptedEventStream({ 'request-id': 'req_anthropic_scripted' }, () => ({ body: answer(script.ending), writes: script.writes, cut: script.ending === 'cut' }));
    baseUrl = upstream.baseUrl;
    keepAlive = createKeepAliveFetch();
  });
  after(async () => {
    await keepAlive?.close();
    await upstream?.close();
  });

  async function streamed(): Promise<{ events: StreamEvent[]; error?: unknown }> {
    const events: StreamEvent[] = [];
    const adapter = getProviderAdapter('anthropic');
    try {
      const iterable = adapter.stream(
        { model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'Weather in Paris?' }], maxTokens: 64 },
        { apiKey: 'sk-ant-scripted', baseUrl, signal: new AbortController().signal, timeoutMs: 20_000, fetch: keepAlive.fetch },
      );
      for await (const event of iterable) events.push(event);
    } catch (error) {
      return { events, error };
    }
    return { events };
  }

  const expectedDeltas = TEXTS.map((content) => ({ type: 'delta', content }));

  for (const [name, writes] of [['one write', whole], ['every byte its own write', everyByte], ['ragged cuts with pauses', ragged]] as const) {
    it(`a whole answer (${name}): the deltas in order, the tool call, one end with the cumulative usage`, async () => {
      script = { ending: 'complete', writes };
      const { events, error } = await streamed();
      expect(error).to.equal(undefined);
      expect(events.filter((event) => event.type === 'delta')).to.deep.equal(expectedDeltas);
      const toolCalls = events.filter((event) => event.type === 'tool_call');
      expect(toolCalls).to.deep.equal([
        { type: 'tool_call', index: 0, id: 'toolu_1', name: 'get_weather', arguments: '' },
        { type: 'tool_call', index: 0, arguments: '{"city":' },
        { type: 'tool_call', index: 0, arguments: '"Paris"}' },
      ]);
      expect(events.map((event) => event.type)).to.deep.equal([...TEXTS.map(() => 'delta'), 'tool_call', 'tool_call', 'tool_call', 'end']);
      const end = events.at(-1) as Extract<StreamEvent, { type: 'end' }>;
      expect(end.finishReason).to.equal('tool_calls');
      expect(end.model).to.equal('claude-haiku-4-5-20251001');
      expect(end.providerRequestId).to.equal('req_anthropic_scripted');
      expect(end.usage.outputTokens).to.equal(42);
      expect(end.usage.inputTokens).to.be.at.least(12);
    });
  }

  for (const [name, writes] of [['one write', whole], ['every byte its own write', everyByte]] as const) {
    it(`an error event mid-answer (${name}): the deltas before it, then an LlmCallError with the partial output`, async () => {
      script = { ending: 'error', writes };
      const { events, error } = await streamed();
      expect(events).to.deep.equal(expectedDeltas);
      expect(error).to.be.instanceOf(LlmCallError);
      const failure = error as LlmCallError;
      expect(failure.provider).to.equal('anthropic');
      expect(failure.message).to.match(/Overloaded/);
      expect(failure.partial?.content).to.equal(TEXTS.join(''));
      expect(failure.partial?.usage.outputTokens).to.be.greaterThan(0);
    });
  }

  it('a connection cut mid-answer: the deltas before it, then an LlmCallError with the partial output', async () => {
    script = { ending: 'cut', writes: ragged };
    const { events, error } = await streamed();
    expect(events).to.deep.equal(expectedDeltas);
    expect(error).to.be.instanceOf(LlmCallError);
    expect((error as LlmCallError).partial?.content).to.equal(TEXTS.join(''));
  });
});
