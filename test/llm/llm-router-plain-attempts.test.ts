// Plain (non-stream) attempts on the platform's keep-alive fetch run on the call's own signal, with no controller of
// their own (server/llm/llm-router.ts, callSignalAttempt): each provider's real SDK bounds the attempt by its timeout
// and reports a timeout, which is retried; the caller's abort still cancels the call. Against the provider simulator.
import { expect } from 'chai';
import { LlmRouter, DEFAULT_RETRY_POLICY, type AttemptReport, type RouteTarget } from '../../server/llm/llm-router';
import { PROVIDER_IDS, type ProviderId } from '../../server/llm/llm.types';
import { LlmCallError } from '../../server/llm/llm-call.error';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { getProviderAdapter } from '../../server/llm/providers/provider-registry';
import { createKeepAliveFetch, readsJsonAnswersWhole, type KeepAliveFetch } from '../../server/llm/keep-alive-fetch';

const MODELS: Record<ProviderId, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  mistral: 'mistral-small-latest',
  groq: 'llama-3.1-8b-instant',
  minimax: 'MiniMax-M2.5',
  openrouter: 'openai/gpt-4o-mini',
  custom: 'llama3.1:8b',
};

describe('LLM router: plain attempts on the keep-alive fetch', function () {
  this.timeout(30_000);
  let simulator: SimulatorHandle;
  let keepAlive: KeepAliveFetch;
  const router = new LlmRouter({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 20, maxDelayMs: 100, attemptTimeoutMs: 800 });

  before(async () => {
    simulator = await startProviderSimulator();
    keepAlive = createKeepAliveFetch();
    for (const provider of PROVIDER_IDS) {
      await getProviderAdapter(provider).checkKey({ apiKey: 'sk-ant-warm-up', baseUrl: simulator.baseUrls[provider], signal: new AbortController().signal, timeoutMs: 10_000, fetch: keepAlive.fetch });
    }
  });
  after(async () => {
    await keepAlive?.close();
    await simulator?.close();
  });
  afterEach(() => simulator.faults.clear());

  const target = (provider: ProviderId, apiKey: string): RouteTarget => ({
    provider,
    model: MODELS[provider],
    baseUrl: simulator.baseUrls[provider],
    credential: { kind: 'byok', reference: `byok:plain:${provider}`, open: () => apiKey },
    sandbox: false,
    maxTokens: 32,
    fetch: keepAlive.fetch,
  });
  const call = (targets: RouteTarget[], reports: AttemptReport[], signal: AbortSignal) => ({
    targets,
    request: { messages: [{ role: 'user' as const, content: 'Hello plain attempt' }] },
    signal,
    deadlineAt: Date.now() + 10_000,
    onAttempt: (report: AttemptReport) => void reports.push(report),
  });

  it('only the keep-alive fetch is known to read JSON answers whole', () => {
    expect(readsJsonAnswersWhole(keepAlive.fetch)).to.equal(true);
    expect(readsJsonAnswersWhole(globalThis.fetch)).to.equal(false);
    expect(readsJsonAnswersWhole(undefined)).to.equal(false);
  });

  for (const provider of PROVIDER_IDS) {
    const key = provider === 'anthropic' ? 'sk-ant-plain-attempt' : `sk-plain-attempt-${provider}`;

    it(`${provider}: a slow answer times out by the SDK's own timeout, is retried, and the call answers`, async () => {
      simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 1_500 }], { apiKey: key });
      const reports: AttemptReport[] = [];
      const { result } = await router.generate(call([target(provider, key)], reports, new AbortController().signal));
      expect(result.content).to.not.equal('');
      expect(reports.map((report) => report.status)).to.deep.equal(['timeout', 'ok']);
      expect(reports[0]!.errorKind).to.equal('timeout');
    });

    it(`${provider}: the caller's abort cancels the attempt (the answer would have come) and is not retried`, async () => {
      simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 5_000 }], { apiKey: key });
      const reports: AttemptReport[] = [];
      const controller = new AbortController();
      setTimeout(() => controller.abort(new Error('client closed the connection')), 100);
      const failure = await router.generate(call([target(provider, key)], reports, controller.signal)).catch((error: unknown) => error);
      expect(failure).to.be.instanceOf(LlmCallError);
      expect((failure as LlmCallError).kind).to.equal('aborted');
      expect(reports).to.have.length(1);
    });
  }
});
