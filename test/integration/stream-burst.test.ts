// A burst of streams (#20): N streamed calls started at once through /v1 with the official `openai` SDK, more than the
// old 256-connection cap of the upstream pool, all held open upstream at the same time (the simulator answers each
// after a delay). Every stream must carry its whole answer in order and be metered exactly once, with the tokens the
// client was told. No timings are asserted (speed is measured by `npm run bench -- --only=streams`).
import { expect } from 'chai';
import OpenAI from 'openai';
import { Types } from 'mongoose';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { createSimulatedReply } from '../../server/llm/simulator/simulated-reply';
import { createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';

const STREAMS = 300;
/** Long enough that every stream is open upstream before the first one is answered. */
const SIMULATOR_LATENCY_MS = 1_500;

interface StreamOutcome {
  index: number;
  agentId: string;
  requestId: string;
  contents: string[];
  usage: OpenAI.Completions.CompletionUsage | undefined;
  finishReason: string | null | undefined;
}

describe('a burst of streams through /v1 (openai SDK, simulator)', function () {
  this.timeout(180_000);
  let simulator: SimulatorHandle;
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0, latencyMs: SIMULATOR_LATENCY_MS });
    platform = await startTestPlatform({ simulator });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
    await simulator?.close();
  });

  it(`${STREAMS} streams started at once each deliver every delta in order and are metered exactly once`, async () => {
    // Two agents on the same upstream origin: a BYOK key (no limit) and a managed plan (allowance, month-to-date price).
    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-stream-burst-0001' });
    const managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const clients = new Map<string, OpenAI>();
    for (const agent of [byok, managed]) {
      clients.set(agent.id, new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0, timeout: 120_000 }));
    }
    const promptOf = (index: number) => `Tell me story number ${index} of the burst`;

    const outcomes = await Promise.all(
      Array.from({ length: STREAMS }, async (_, index): Promise<StreamOutcome> => {
        const agentId = index % 3 === 2 ? managed.id : byok.id;
        const { data: stream, response } = await clients
          .get(agentId)!
          .chat.completions.create({ model: agentId, messages: [{ role: 'user', content: promptOf(index) }], stream: true, stream_options: { include_usage: true } })
          .withResponse();
        const outcome: StreamOutcome = { index, agentId, requestId: response.headers.get('x-request-id') ?? '', contents: [], usage: undefined, finishReason: undefined };
        for await (const chunk of stream) {
          const choice = chunk.choices[0];
          if (choice?.delta.content) outcome.contents.push(choice.delta.content);
          if (choice?.finish_reason) outcome.finishReason = choice.finish_reason;
          if (chunk.usage) outcome.usage = chunk.usage;
        }
        return outcome;
      }),
    );
    // Every stream was open upstream at once: the simulator received all of them (each exactly once: no retries).
    expect(simulator.requestCount()).to.equal(STREAMS);

    for (const outcome of outcomes) {
      // The simulator's deterministic answer to this prompt, chunk by chunk: every delta, in order, none twice.
      const expected = createSimulatedReply({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: promptOf(outcome.index) }], maxTokens: undefined, stream: true });
      expect(outcome.contents, `stream ${outcome.index}`).to.deep.equal(expected.chunks.filter((chunk) => chunk.length > 0));
      expect(outcome.finishReason, `stream ${outcome.index}`).to.equal('stop');
      expect(outcome.usage?.completion_tokens, `stream ${outcome.index}`).to.equal(expected.outputTokens);
      expect(outcome.requestId).to.match(/^req_[0-9a-f]{32}$/);
    }
    expect(new Set(outcomes.map((outcome) => outcome.requestId)).size).to.equal(STREAMS);

    await platform.platform.meter.drain();
    const { MeterEvent, UsageMonthly } = platform.platform.models;
    for (const agent of [byok, managed]) {
      const streamed = outcomes.filter((outcome) => outcome.agentId === agent.id);
      const events = await MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
      // Exactly one event per stream, under the request id the client got, with the tokens its usage chunk reported.
      expect(events, agent.id).to.have.length(streamed.length);
      const byRequestId = new Map(events.map((event) => [event.requestId, event]));
      expect(byRequestId.size).to.equal(streamed.length);
      for (const outcome of streamed) {
        const event = byRequestId.get(outcome.requestId);
        expect(event, `meter event of stream ${outcome.index}`).to.not.equal(undefined);
        expect(event).to.include({ status: 'ok', requestType: 'stream', usageSource: 'provider', tokensInput: outcome.usage!.prompt_tokens, tokensOutput: outcome.usage!.completion_tokens });
      }
      if (agent === managed) {
        // Each answer of the plan's first burst is priced (the month-to-date total read once for all of them): inside
        // the allowance, nothing to pay, every token included.
        for (const outcome of streamed) {
          const details = (outcome.usage as unknown as { cost_details?: { cost_micros: number; included_tokens: number; overage_tokens: number } }).cost_details;
          expect(details, `price of stream ${outcome.index}`).to.deep.include({ cost_micros: 0, included_tokens: outcome.usage!.prompt_tokens + outcome.usage!.completion_tokens, overage_tokens: 0 });
        }
      }
      const tokens = streamed.reduce((total, outcome) => total + outcome.usage!.prompt_tokens + outcome.usage!.completion_tokens, 0);
      const rollups = await UsageMonthly.collection.find({ agentId: new Types.ObjectId(agent.id) }).toArray();
      expect(rollups.reduce((total, rollup) => total + (rollup.tokens as number), 0), `rollup tokens of ${agent.id}`).to.equal(tokens);
      expect(rollups.reduce((total, rollup) => total + (rollup.requests as number), 0), `rollup requests of ${agent.id}`).to.equal(streamed.length);
    }
  });
});
