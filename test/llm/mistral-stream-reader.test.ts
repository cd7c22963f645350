// Mistral's streamed answer read by our event reader (#20) from the response the official SDK sent, on the platform's
// keep-alive fetch: however the bytes arrive (one write, every byte its own write, characters and events split between
// reads), the adapter gives the events the SDK's own reader gave — deltas in order (text and text chunks), whole tool
// calls, one end with the wire's usage — and a connection cut mid-answer fails with what was streamed so far.
import { expect } from 'chai';
import { createKeepAliveFetch, type KeepAliveFetch } from '../../server/llm/keep-alive-fetch';
import { LlmCallError } from '../../server/llm/llm-call.error';
import type { StreamEvent } from '../../server/llm/llm.types';
import { getProviderAdapter } from '../../server/llm/providers/provider-registry';
import { everyByte, ragged, startScriptedEventStream, whole, type Writes } from '../support/scripted-event-stream';

const base = { id: 'cmpl-scripted', object: 'chat.completion.chunk', created: 1_790_000_000, model: 'mistral-small-2503' };
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const TEXTS = ['Bonjour', ' wörld 🦊', ' 漢字', ' "quoted" \\ line\nbreak', ' e\u0301'];

function answer(ending: 'complete' | 'cut'): string {
  const parts = [
    data({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }),
    ...TEXTS.slice(0, -1).map((content) => data({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })),
    // Content as a list of chunks: only text chunks are reply text.
    data({ ...base, choices: [{ index: 0, delta: { content: [{ type: 'text', text: TEXTS.at(-1) }, { type: 'reference', reference_ids: [1] }] }, finish_reason: null }] }),
  ];
  if (ending === 'cut') return parts.join('');
  return [
    ...parts,
    data({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ id: 'call_m1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] }, finish_reason: null }] }),
    data({ ...base, choices: [{ index: 0, delta: { content: '' }, finish_reason: 'tool_calls' }], usage: { prompt_tokens: 21, completion_tokens: 37, total_tokens: 58, prompt_tokens_details: { cached_tokens: 5 } } }),
    'data: [DONE]\n\n',
  ].join('');
}

describe('the Mistral stream through its SDK, read by our event reader', function () {
  this.timeout(60_000);
  let upstream: Awaited<ReturnType<typeof startScriptedEventStream>>;
  let baseUrl: string;
  let keepAlive: KeepAliveFetch;
  let script: { ending: 'complete' | 'cut'; writes: Writes } = { ending: 'complete', writes: whole };

  before(async () => {
    upstream = await startScriptedEventStream({ 'x-request-id': 'req_mistral_scripted' }, () => ({ body: answer(script.ending), writes: script.writes, cut: script.ending === 'cut' }));
    baseUrl = upstream.baseUrl;
    keepAlive = createKeepAliveFetch();
  });
  after(async () => {
    await keepAlive?.close();
    await upstream?.close();
  });

  async function streamed(): Promise<{ events: StreamEvent[]; error?: unknown }> {
    const events: StreamEvent[] = [];
    try {
      const iterable = getProviderAdapter('mistral').stream(
        { model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Weather in Paris?' }], maxTokens: 64 },
        { apiKey: 'sk-mistral-scripted', baseUrl, signal: new AbortController().signal, timeoutMs: 20_000, fetch: keepAlive.fetch },
      );
      for await (const event of iterable) events.push(event);
    } catch (error) {
      return { events, error };
    }
    return { events };
  }

  const expectedDeltas = TEXTS.map((content) => ({ type: 'delta', content }));

  for (const [name, writes] of [['one write', whole], ['every byte its own write', everyByte], ['ragged cuts with pauses', ragged]] as const) {
    it(`a whole answer (${name}): the deltas in order, the tool call, one end with the wire's usage`, async () => {
      script = { ending: 'complete', writes };
      const { events, error } = await streamed();
      expect(error).to.equal(undefined);
      expect(events.filter((event) => event.type === 'delta')).to.deep.equal(expectedDeltas);
      expect(events.filter((event) => event.type === 'tool_call')).to.deep.equal([{ type: 'tool_call', index: 0, id: 'call_m1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
      expect(events.map((event) => event.type)).to.deep.equal([...TEXTS.map(() => 'delta'), 'tool_call', 'end']);
      const end = events.at(-1) as Extract<StreamEvent, { type: 'end' }>;
      expect(end.finishReason).to.equal('tool_calls');
      expect(end.model).to.equal('mistral-small-2503');
      expect(end.providerRequestId).to.equal('req_mistral_scripted');
      expect(end.usage).to.include({ inputTokens: 21, outputTokens: 37, cachedInputTokens: 5, source: 'provider' });
    });
  }

  it('a connection cut mid-answer: the deltas before it, then an LlmCallError with the partial output', async () => {
    script = { ending: 'cut', writes: ragged };
    const { events, error } = await streamed();
    expect(events).to.deep.equal(expectedDeltas);
    expect(error).to.be.instanceOf(LlmCallError);
    expect((error as LlmCallError).provider).to.equal('mistral');
    expect((error as LlmCallError).partial?.content).to.equal(TEXTS.join(''));
  });
});
