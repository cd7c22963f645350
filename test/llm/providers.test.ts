// Every provider adapter, through its real SDK, against the provider simulator: replies, streams,
// usage, and every failure rewritten to the one LlmCallError.
import { expect } from 'chai';
import { Agent, fetch as undiciFetch } from 'undici';
import { isLlmCallError, type LlmCallError } from '../../server/llm/llm-call.error';
import {
  PROVIDER_IDS,
  type ChatRequest,
  type ProviderCallOptions,
  type ProviderId,
  type StreamEvent,
} from '../../server/llm/llm.types';
import { getProviderAdapter, providerAdapters } from '../../server/llm/providers/provider-registry';
import { classifyProviderError, readRetryAfterMs, redactApiKey } from '../../server/llm/providers/provider-support';
import type { SimulatorHandle } from '../../server/llm/simulator';
import { simulatorForTests } from '../support/simulator-for-tests';
import { countTokens } from '../../server/llm/token-estimator';

const MODELS: Record<ProviderId, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  mistral: 'mistral-small-latest',
  groq: 'llama-3.3-70b-versatile',
  minimax: 'MiniMax-M2.5',
  openrouter: 'openai/gpt-4o-mini',
  custom: 'llama3.1:8b',
};

const API_KEY = 'sk-sandbox-0123456789abcdef';
const SHORT_TIMEOUT_MS = 200;

function chatRequest(provider: ProviderId, maxTokens?: number): ChatRequest {
  return {
    model: MODELS[provider],
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'Write a short greeting for the Agent Host test suite, please.' },
    ],
    ...(maxTokens === undefined ? {} : { maxTokens }),
    temperature: 0.2,
  };
}

async function expectLlmCallError(promise: Promise<unknown>): Promise<LlmCallError> {
  try {
    await promise;
  } catch (error) {
    expect(isLlmCallError(error), `expected an LlmCallError, got ${String(error)}`).to.equal(true);
    return error as LlmCallError;
  }
  throw new Error('expected the call to fail');
}

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const collected: StreamEvent[] = [];
  for await (const event of events) collected.push(event);
  return collected;
}

/** Consumes a stream that is expected to break, keeping the deltas seen before the break. */
async function collectUntilError(events: AsyncIterable<StreamEvent>): Promise<{ deltas: string; error: LlmCallError }> {
  let deltas = '';
  try {
    for await (const event of events) if (event.type === 'delta') deltas += event.content;
  } catch (error) {
    expect(isLlmCallError(error), `expected an LlmCallError, got ${String(error)}`).to.equal(true);
    return { deltas, error: error as LlmCallError };
  }
  throw new Error('expected the stream to break');
}

describe('provider adapters (real SDKs) against the provider simulator', () => {
  const providerSimulator = simulatorForTests({ clearFaultsAfterEach: true });
  let simulator: SimulatorHandle;
  before(() => ({ simulator } = providerSimulator));

  it('registers one adapter per provider', () => {
    expect(providerAdapters.map((adapter) => adapter.id).sort()).to.deep.equal([...PROVIDER_IDS].sort());
    for (const id of PROVIDER_IDS) expect(getProviderAdapter(id).id).to.equal(id);
  });

  for (const provider of PROVIDER_IDS) {
    describe(provider, () => {
      const adapter = () => getProviderAdapter(provider);
      const callOptions = (overrides: Partial<ProviderCallOptions> = {}): ProviderCallOptions => ({
        apiKey: API_KEY,
        baseUrl: simulator.baseUrls[provider],
        signal: new AbortController().signal,
        timeoutMs: 5_000,
        ...overrides,
      });

      it('generates a reply with the provider usage', async () => {
        const result = await adapter().generate(chatRequest(provider), callOptions());
        expect(result.content).to.match(/^Sandbox reply to: "Write a short greeting/);
        expect(result.finishReason).to.equal('stop');
        expect(result.model).to.equal(MODELS[provider]);
        expect(result.providerRequestId).to.be.a('string').and.not.be.empty;
        expect(result.usage.source).to.equal('provider');
        expect(result.usage.inputTokens).to.be.greaterThan(0);
        expect(result.usage.outputTokens).to.equal(countTokens(result.content));
        expect(simulator.requestCount(provider, { apiKey: API_KEY })).to.be.greaterThan(0);
      });

      it('sends the system prompt and max tokens in the provider format, and stops at max tokens', async () => {
        const result = await adapter().generate(chatRequest(provider, 5), callOptions());
        expect(result.finishReason).to.equal('length');
        expect(result.usage.outputTokens).to.equal(5);
        const body = simulator.lastRequest(provider)?.body as Record<string, unknown>;
        if (provider === 'anthropic') {
          expect(body.system).to.equal('You are a helpful assistant.');
          expect(body.max_tokens).to.equal(5);
        } else {
          expect((body.messages as Array<{ role: string }>)[0]?.role).to.equal('system');
          expect(body.max_completion_tokens ?? body.max_tokens).to.equal(5);
        }
      });

      it('streams deltas that concatenate to the reply, then exactly one end with the provider usage', async () => {
        const expected = await adapter().generate(chatRequest(provider), callOptions());
        const events = await collect(adapter().stream(chatRequest(provider), callOptions()));
        const deltas = events.filter((event) => event.type === 'delta');
        const ends = events.filter((event) => event.type === 'end');
        expect(deltas.length).to.be.greaterThan(2);
        expect(ends).to.have.length(1);
        expect(events.at(-1)?.type).to.equal('end');
        expect(deltas.map((event) => event.content).join('')).to.equal(expected.content);
        const end = ends[0] as Extract<StreamEvent, { type: 'end' }>;
        expect(end.usage.source).to.equal('provider');
        expect(end.usage.inputTokens).to.equal(expected.usage.inputTokens);
        expect(end.usage.outputTokens).to.equal(expected.usage.outputTokens);
        expect(end.finishReason).to.equal('stop');
        expect(end.providerRequestId).to.be.a('string').and.not.be.empty;
      });

      if (provider === 'anthropic') {
        it('keeps the last cumulative message_delta usage instead of adding it to message_start', async () => {
          // The simulator's message_start says output_tokens: 1, its message_delta the cumulative total.
          const events = await collect(adapter().stream(chatRequest(provider), callOptions()));
          const text = events.map((event) => (event.type === 'delta' ? event.content : '')).join('');
          const end = events.at(-1) as Extract<StreamEvent, { type: 'end' }>;
          expect(end.usage.outputTokens).to.equal(countTokens(text));
          expect(end.usage.raw).to.include({ output_tokens: countTokens(text) });
        });
      }

      it('turns a 401 into kind auth, never echoing the key', async () => {
        simulator.faults.script(provider, [{ status: 401 }]);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
        expect(error.kind).to.equal('auth');
        expect(error.status).to.equal(401);
        expect(error.retryable).to.equal(false);
        expect(error.provider).to.equal(provider);
        expect(error.message).to.not.include(API_KEY);
      });

      it('turns an invalid key (sandbox convention) into kind auth', async () => {
        const invalidKey = 'sk-invalid-0123456789abcdef';
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions({ apiKey: invalidKey })));
        expect(error.kind).to.equal('auth');
        expect(error.message).to.not.include(invalidKey);
        expect(JSON.stringify(error)).to.not.include(invalidKey);
      });

      it('turns a 429 with retry-after into kind rate_limit with retryAfterMs', async () => {
        simulator.faults.script(provider, [{ status: 429, retryAfterSeconds: 1 }]);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
        expect(error.kind).to.equal('rate_limit');
        expect(error.status).to.equal(429);
        expect(error.retryable).to.equal(true);
        expect(error.retryAfterMs).to.equal(1000);
        expect(error.providerRequestId).to.be.a('string').and.not.be.empty;
      });

      it('prefers retry-after-ms when the provider sends it', async () => {
        simulator.faults.script(provider, [{ status: 429, retryAfterSeconds: 2, retryAfterMs: 250 }]);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
        expect(error.retryAfterMs).to.equal(250);
      });

      it('turns a quota error (sandbox convention) into kind quota, not retryable', async () => {
        const error = await expectLlmCallError(
          adapter().generate(chatRequest(provider), callOptions({ apiKey: 'sk-noquota-0123456789' })),
        );
        expect(error.kind).to.equal('quota');
        expect(error.retryable).to.equal(false);
      });

      it('turns a 500 into kind server, retryable', async () => {
        simulator.faults.script(provider, [{ status: 500 }]);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
        expect(error.kind).to.equal('server');
        expect(error.status).to.equal(500);
        expect(error.retryable).to.equal(true);
      });

      it('turns a context-length 400 into kind context_length', async () => {
        simulator.faults.script(provider, [{ status: 400, error: 'context_length' }]);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
        expect(error.kind).to.equal('context_length');
        expect(error.retryable).to.equal(false);
      });

      if (provider === 'anthropic') {
        it('turns a 529 overloaded_error into kind overloaded', async () => {
          simulator.faults.script(provider, [{ status: 529 }]);
          const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions()));
          expect(error.kind).to.equal('overloaded');
          expect(error.status).to.equal(529);
          expect(error.retryable).to.equal(true);
        });
      }

      it('turns a slow answer into kind timeout', async () => {
        simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 1_000 }]);
        const error = await expectLlmCallError(
          adapter().generate(chatRequest(provider), callOptions({ timeoutMs: SHORT_TIMEOUT_MS })),
        );
        expect(error.kind).to.equal('timeout');
        expect(error.retryable).to.equal(true);
      });

      it('turns the caller aborting into kind aborted', async () => {
        simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 1_000 }]);
        const controller = new AbortController();
        setTimeout(() => controller.abort(), 50);
        const error = await expectLlmCallError(
          adapter().generate(chatRequest(provider), callOptions({ signal: controller.signal })),
        );
        expect(error.kind).to.equal('aborted');
        expect(error.retryable).to.equal(false);
      });

      it('turns a cut stream into kind network with the partial output and its estimated usage', async () => {
        simulator.faults.script(provider, [{ kind: 'cut', afterChunks: 2 }]);
        const request = chatRequest(provider);
        const { deltas, error } = await collectUntilError(adapter().stream(request, callOptions()));
        expect(error.kind).to.equal('network');
        expect(error.retryable).to.equal(true);
        expect(deltas).to.not.equal('');
        expect(error.partial?.content).to.equal(deltas);
        expect(error.partial?.usage.source).to.equal('estimated');
        expect(error.partial?.usage.outputTokens).to.equal(countTokens(deltas));
        expect(error.partial?.usage.inputTokens).to.be.greaterThan(0);
      });

      it('turns the caller aborting mid-stream into kind aborted, keeping the partial output', async () => {
        const controller = new AbortController();
        let deltas = '';
        let error: LlmCallError | undefined;
        try {
          for await (const event of adapter().stream(chatRequest(provider), callOptions({ signal: controller.signal }))) {
            if (event.type === 'delta') deltas += event.content;
            if (deltas) controller.abort();
          }
        } catch (caught) {
          error = caught as LlmCallError;
        }
        expect(isLlmCallError(error)).to.equal(true);
        expect(error?.kind).to.equal('aborted');
        expect(error?.partial?.content).to.equal(deltas);
        expect(error?.partial?.usage.source).to.equal('estimated');
      });

      if (provider !== 'anthropic') {
        it('estimates the usage of a stream that ends without any', async () => {
          simulator.faults.script(provider, [{ kind: 'omit_usage' }]);
          const events = await collect(adapter().stream(chatRequest(provider), callOptions()));
          const text = events.map((event) => (event.type === 'delta' ? event.content : '')).join('');
          const end = events.at(-1) as Extract<StreamEvent, { type: 'end' }>;
          expect(end.type).to.equal('end');
          expect(end.usage.source).to.equal('estimated');
          expect(end.usage.outputTokens).to.equal(countTokens(text));
          expect(end.usage.inputTokens).to.be.greaterThan(0);
        });
      }

      it('checks a working key with the cheapest authenticated call', async () => {
        await adapter().checkKey(callOptions());
        expect(simulator.lastRequest(provider)?.method).to.equal('GET');
      });

      it('reports an invalid key from checkKey as kind auth', async () => {
        const error = await expectLlmCallError(adapter().checkKey(callOptions({ apiKey: 'sk-invalid-check' })));
        expect(error.kind).to.equal('auth');
      });

      it('refuses an empty key without calling the provider', async () => {
        const before = simulator.requestCount(provider);
        const error = await expectLlmCallError(adapter().generate(chatRequest(provider), callOptions({ apiKey: '' })));
        expect(error.kind).to.equal('auth');
        expect(simulator.requestCount(provider)).to.equal(before);
      });
    });
  }

  describe('with a fetch from the undici package (the platform keep-alive pool)', () => {
    let dispatcher: Agent;
    let keepAliveFetch: typeof fetch;

    before(() => {
      dispatcher = new Agent({ keepAliveTimeout: 10_000 });
      keepAliveFetch = ((input: Parameters<typeof undiciFetch>[0], init?: Parameters<typeof undiciFetch>[1]) =>
        undiciFetch(input, { ...init, dispatcher })) as unknown as typeof fetch;
    });

    after(async () => {
      await dispatcher.close();
    });

    for (const provider of PROVIDER_IDS) {
      it(`${provider}: generates, streams, checks the key and times out through it`, async () => {
        const adapter = getProviderAdapter(provider);
        const options = (timeoutMs = 5_000): ProviderCallOptions => ({
          apiKey: API_KEY,
          baseUrl: simulator.baseUrls[provider],
          signal: new AbortController().signal,
          timeoutMs,
          fetch: keepAliveFetch,
        });
        const result = await adapter.generate(chatRequest(provider), options());
        const events = await collect(adapter.stream(chatRequest(provider), options()));
        expect(events.map((event) => (event.type === 'delta' ? event.content : '')).join('')).to.equal(result.content);
        await adapter.checkKey(options());
        simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 1_000 }]);
        const error = await expectLlmCallError(adapter.generate(chatRequest(provider), options(SHORT_TIMEOUT_MS)));
        expect(error.kind).to.equal('timeout');
      });
    }
  });

  describe('fault scripts', () => {
    it('consume one fault per request, then answer normally', async () => {
      const adapter = getProviderAdapter('openai');
      const options: ProviderCallOptions = {
        apiKey: API_KEY,
        baseUrl: simulator.baseUrls.openai,
        signal: new AbortController().signal,
        timeoutMs: 5_000,
      };
      simulator.faults.script('openai', [{ status: 500 }, 'ok', { status: 429, retryAfterSeconds: 0 }]);
      expect((await expectLlmCallError(adapter.generate(chatRequest('openai'), options))).kind).to.equal('server');
      expect((await adapter.generate(chatRequest('openai'), options)).usage.source).to.equal('provider');
      expect((await expectLlmCallError(adapter.generate(chatRequest('openai'), options))).retryAfterMs).to.equal(0);
      expect(simulator.faults.pending('openai')).to.equal(0);
      expect((await adapter.generate(chatRequest('openai'), options)).finishReason).to.equal('stop');
    });

    it('can be scoped to one key, leaving other keys alone', async () => {
      const adapter = getProviderAdapter('mistral');
      const options = (apiKey: string): ProviderCallOptions => ({
        apiKey,
        baseUrl: simulator.baseUrls.mistral,
        signal: new AbortController().signal,
        timeoutMs: 5_000,
      });
      simulator.faults.script('mistral', [{ status: 503 }], { apiKey: 'sk-pool-key-a' });
      await adapter.generate(chatRequest('mistral'), options('sk-pool-key-b'));
      const error = await expectLlmCallError(adapter.generate(chatRequest('mistral'), options('sk-pool-key-a')));
      expect(error.kind).to.equal('server');
      expect(error.status).to.equal(503);
      expect(simulator.requestCount('mistral', { apiKey: 'sk-pool-key-a' })).to.equal(1);
      expect(simulator.requestCount('mistral', { apiKey: 'sk-pool-key-never-used' })).to.equal(0);
    });

    it('setRate fails the given share of requests', async () => {
      const adapter = getProviderAdapter('groq');
      const options: ProviderCallOptions = {
        apiKey: API_KEY,
        baseUrl: simulator.baseUrls.groq,
        signal: new AbortController().signal,
        timeoutMs: 5_000,
      };
      simulator.faults.setRate('groq', { status: 500, probability: 1 });
      expect((await expectLlmCallError(adapter.generate(chatRequest('groq'), options))).kind).to.equal('server');
      simulator.faults.setRate('groq', { status: 500, probability: 0 });
      expect((await adapter.generate(chatRequest('groq'), options)).finishReason).to.equal('stop');
    });
  });
});

describe('provider error classification', () => {
  const headers = (values: Record<string, string>) => new Headers(values);

  it('reads a 429 that says the quota or credit is gone as quota, not rate_limit', () => {
    expect(classifyProviderError({ status: 429, headers: undefined, errorType: 'insufficient_quota' })).to.equal('quota');
    expect(classifyProviderError({ status: 429, headers: undefined, errorCode: 'enforced_spend_limit_reached' })).to.equal('quota');
    expect(
      classifyProviderError({ status: 400, headers: undefined, providerMessage: 'Your credit balance is too low to access the Anthropic API.' }),
    ).to.equal('quota');
    expect(classifyProviderError({ status: 429, headers: undefined, errorType: 'rate_limit_error' })).to.equal('rate_limit');
  });

  it('reads an error event inside a stream by its type', () => {
    expect(classifyProviderError({ status: undefined, headers: undefined, errorType: 'overloaded_error' })).to.equal('overloaded');
    expect(classifyProviderError({ status: undefined, headers: undefined, errorType: 'api_error' })).to.equal('server');
  });

  it('treats a redirect as a bad request (redirects are never followed)', () => {
    expect(classifyProviderError({ status: 302, headers: undefined })).to.equal('bad_request');
  });

  it('parses retry-after as seconds or an HTTP date, retry-after-ms first', () => {
    expect(readRetryAfterMs(headers({ 'retry-after': '3' }))).to.equal(3000);
    expect(readRetryAfterMs(headers({ 'retry-after': '1', 'retry-after-ms': '1500.4' }))).to.equal(1500);
    const inTenSeconds = new Date(Date.now() + 10_000).toUTCString();
    expect(readRetryAfterMs(headers({ 'retry-after': inTenSeconds }))).to.be.within(8_000, 10_000);
    expect(readRetryAfterMs(headers({ 'retry-after': 'soon' }))).to.equal(undefined);
    expect(readRetryAfterMs(headers({}))).to.equal(undefined);
  });

  it('removes the key from any message', () => {
    expect(redactApiKey('bad key sk-secret-123 given', 'sk-secret-123')).to.equal('bad key [redacted] given');
  });
});
