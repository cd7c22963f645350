// The router's one retry loop over every provider's real SDK against the simulator; key pools and failover.
import { expect } from 'chai';
import { LlmRouter, DEFAULT_RETRY_POLICY, type AttemptReport, type RouteTarget } from '../../server/llm/llm-router';
import { KeyPool } from '../../server/llm/key-pool';
import { PROVIDER_IDS, type ProviderId } from '../../server/llm/llm.types';
import { LlmCallError } from '../../server/llm/llm-call.error';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { getProviderAdapter } from '../../server/llm/providers/provider-registry';

const MODELS: Record<ProviderId, string> = {
  openai: 'gpt-4o-mini',
  anthropic: 'claude-haiku-4-5',
  mistral: 'mistral-small-latest',
  groq: 'llama-3.1-8b-instant',
  minimax: 'MiniMax-M2.5',
  openrouter: 'openai/gpt-4o-mini',
  custom: 'llama3.1:8b',
};

const router = new LlmRouter({ ...DEFAULT_RETRY_POLICY, baseDelayMs: 20, maxDelayMs: 100, attemptTimeoutMs: 800 });

function byokTarget(simulator: SimulatorHandle, provider: ProviderId, apiKey: string): RouteTarget {
  return { provider, model: MODELS[provider], baseUrl: simulator.baseUrls[provider], credential: { kind: 'byok', reference: `byok:test:${provider}`, open: () => apiKey }, sandbox: false, maxTokens: 32 };
}

function call(targets: RouteTarget[], reports: AttemptReport[], deadlineMs = 10_000) {
  return {
    targets,
    request: { messages: [{ role: 'user' as const, content: 'Hello router' }] },
    signal: new AbortController().signal,
    deadlineAt: Date.now() + deadlineMs,
    onAttempt: (report: AttemptReport) => void reports.push(report),
  };
}

describe('LLM router', function () {
  this.timeout(30_000);
  let simulator: SimulatorHandle;
  before(async () => {
    simulator = await startProviderSimulator();
    // Load every adapter's SDK once (they load on first use), so no test's first attempt pays for it.
    for (const provider of PROVIDER_IDS) {
      await getProviderAdapter(provider).checkKey({ apiKey: 'sk-ant-warm-up', baseUrl: simulator.baseUrls[provider], signal: new AbortController().signal, timeoutMs: 10_000 });
    }
  });
  after(async () => simulator?.close());
  afterEach(() => simulator.faults.clear());

  for (const provider of PROVIDER_IDS) {
    describe(provider, () => {
      const key = provider === 'anthropic' ? 'sk-ant-router-test' : `sk-router-test-${provider}`;

      it('429 with a retry-after, then success: waits as told, one attempt metered with usage', async () => {
        simulator.faults.script(provider, [{ status: 429, retryAfterMs: 400 }], { apiKey: key });
        const reports: AttemptReport[] = [];
        const startedAt = Date.now();
        const { result } = await router.generate(call([byokTarget(simulator, provider, key)], reports));
        expect(Date.now() - startedAt).to.be.at.least(380);
        expect(result.content).to.not.equal('');
        expect(reports.map((report) => report.status)).to.deep.equal(['error', 'ok']);
        expect(reports[0]!.errorKind).to.equal('rate_limit');
        expect(reports[1]!.usage!.source).to.equal('provider');
      });

      it('500 then success, and a streamed answer after a 503', async () => {
        simulator.faults.script(provider, [{ status: 500 }], { apiKey: key });
        const reports: AttemptReport[] = [];
        const { result } = await router.generate(call([byokTarget(simulator, provider, key)], reports));
        expect(result.usage.outputTokens).to.be.greaterThan(0);
        expect(reports.map((report) => report.errorKind ?? report.status)).to.deep.equal(['server', 'ok']);
        simulator.faults.script(provider, [{ status: 503 }], { apiKey: key });
        const streamReports: AttemptReport[] = [];
        const session = await router.openStream(call([byokTarget(simulator, provider, key)], streamReports));
        let text = '';
        for await (const event of session.events) if (event.type === 'delta') text += event.content;
        expect(text).to.not.equal('');
        expect(streamReports.map((report) => report.status)).to.deep.equal(['error', 'ok']);
      });

      it('never retries an auth error', async () => {
        const reports: AttemptReport[] = [];
        const failure = await router.generate(call([byokTarget(simulator, provider, 'sk-test-invalid-key')], reports)).catch((error) => error);
        expect(failure).to.be.instanceOf(LlmCallError);
        expect(failure.kind).to.equal('auth');
        expect(reports).to.have.length(1);
      });

      it('a timeout is retried inside the deadline', async () => {
        simulator.faults.script(provider, [{ kind: 'timeout', delayMs: 1_500 }], { apiKey: key });
        const reports: AttemptReport[] = [];
        const { result } = await router.generate(call([byokTarget(simulator, provider, key)], reports));
        expect(result.content).to.not.equal('');
        expect(reports[0]!.status).to.equal('timeout');
      });
    });
  }

  it('a stream longer than one attempt\'s timeout is not cut while its events keep coming; one that goes silent is', async () => {
    const key = 'sk-router-long-stream';
    const target = byokTarget(simulator, 'openai', key);
    const router = new LlmRouter({ ...DEFAULT_RETRY_POLICY, attemptTimeoutMs: 800, streamIdleTimeoutMs: 2_000 });
    // Every event 400 ms after the last (well inside the 2 s idle timeout): the whole answer takes several times the
    // attempt's timeout (800 ms, and the router's 1 s of slack on top).
    simulator.faults.script('openai', [{ kind: 'slow_stream', eventIntervalMs: 400 }], { apiKey: key });
    const reports: AttemptReport[] = [];
    const startedAt = Date.now();
    const session = await router.openStream(call([target], reports, 60_000));
    const types: string[] = [];
    for await (const event of session.events) types.push(event.type);
    expect(Date.now() - startedAt, 'the answer outlasted one attempt timeout').to.be.greaterThan(2_500);
    expect(types.at(-1)).to.equal('end');
    expect(reports.map((report) => report.status)).to.deep.equal(['ok']);

    // Once answering, a provider that stays silent for longer than the idle timeout is cut (reported partial).
    const strict = new LlmRouter({ ...DEFAULT_RETRY_POLICY, attemptTimeoutMs: 5_000, streamIdleTimeoutMs: 1_000 });
    simulator.faults.script('openai', [{ kind: 'slow_stream', eventIntervalMs: 1_500 }], { apiKey: key });
    const silentReports: AttemptReport[] = [];
    const silent = await strict.openStream(call([target], silentReports, 60_000));
    const failure = await (async () => {
      for await (const event of silent.events) void event;
    })().catch((error: unknown) => error);
    expect(failure).to.be.instanceOf(LlmCallError);
    expect(silentReports.map((report) => report.status)).to.deep.equal(['partial']);
  });

  it('anthropic 529 overloaded is retried', async () => {
    simulator.faults.script('anthropic', [{ status: 529 }], { apiKey: 'sk-ant-529' });
    const reports: AttemptReport[] = [];
    await router.generate(call([byokTarget(simulator, 'anthropic', 'sk-ant-529')], reports));
    expect(reports.map((report) => report.errorKind ?? report.status)).to.deep.equal(['overloaded', 'ok']);
  });

  it('managed: rotates pool keys round robin, cools a rate-limited key down, fails over to the next backend', async () => {
    const openaiPool = new KeyPool('openai', ['sk-pool-a', 'sk-pool-b']);
    const anthropicPool = new KeyPool('anthropic', ['sk-ant-pool-c']);
    const targets: RouteTarget[] = [
      { provider: 'openai', model: 'gpt-4o-mini', baseUrl: simulator.baseUrls.openai, credential: { kind: 'pool', pool: openaiPool }, sandbox: false, maxTokens: 16 },
      { provider: 'anthropic', model: 'claude-haiku-4-5', baseUrl: simulator.baseUrls.anthropic, credential: { kind: 'pool', pool: anthropicPool }, sandbox: false, maxTokens: 16 },
    ];
    // Round robin over healthy keys.
    const used: string[] = [];
    for (let index = 0; index < 4; index += 1) {
      const reports: AttemptReport[] = [];
      await router.generate(call(targets, reports));
      used.push(reports[0]!.credentialReference);
    }
    expect(new Set(used).size).to.equal(2);
    expect(used[0]).to.not.equal(used[1]);

    // Both openai keys rate limited → answered by anthropic at once; the keys then cool down (no openai request).
    simulator.faults.script('openai', [{ status: 429, retryAfterSeconds: 30 }, { status: 429, retryAfterSeconds: 30 }]);
    const reports: AttemptReport[] = [];
    const { target } = await router.generate(call(targets, reports));
    expect(target.provider).to.equal('anthropic');
    expect(reports.map((report) => `${report.provider}:${report.status}`)).to.deep.equal(['openai:error', 'anthropic:ok']);
    const openaiRequests = simulator.requestCount('openai');
    const next: AttemptReport[] = [];
    await router.generate(call(targets, next));
    expect(next.map((report) => report.provider)).to.include('anthropic');
    const cooledAll = next.every((report) => report.provider === 'anthropic') || next[0]!.credentialReference !== reports[0]!.credentialReference;
    expect(cooledAll).to.equal(true);
    expect(simulator.requestCount('openai') - openaiRequests).to.be.at.most(1);
  });

  it('KeyPool: round robin, cooldown, and the wait until the first key is back', () => {
    let now = 1_000;
    const pool = new KeyPool('openai', ['k1', 'k2'], () => now);
    const first = pool.lease()!;
    const second = pool.lease()!;
    expect(first.reference).to.not.equal(second.reference);
    expect(first.reference).to.not.contain('k1');
    pool.coolDown(first.reference, 5_000);
    expect(pool.lease()!.reference).to.equal(second.reference);
    expect(pool.lease()!.reference).to.equal(second.reference);
    pool.coolDown(second.reference, 2_000);
    expect(pool.lease()).to.equal(undefined);
    expect(pool.msUntilAvailable()).to.equal(2_000);
    now += 2_000;
    expect(pool.lease()!.reference).to.equal(second.reference);
  });
});
