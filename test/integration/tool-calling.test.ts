// Tool calling, structured output and images end to end: the official `openai` SDK (tool round trip, its stream
// helpers, its parse helper, an image part) against BYOK agents on OpenAI, Anthropic and Mistral and a managed plan,
// through the real providers' SDKs to the simulator; metering of tool calls; the price in the answer.
import { expect } from 'chai';
import OpenAI from 'openai';
import { zodResponseFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { matchesJsonSchema } from '../../server/llm/json-schema';
import { costMicros } from '../../server/metering/pricing';
import { TINY_PNG, WEATHER_TOOL } from '../support/tool-fixtures';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';

const TIME_TOOL: OpenAI.Chat.Completions.ChatCompletionFunctionTool = {
  type: 'function',
  function: { name: 'get_time', description: 'The local time in a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

async function meterEvents(platform: TestPlatform, agentId: string) {
  await platform.platform.meter.drain();
  return platform.platform.models.MeterEvent.find({ agentId }).sort({ timestamp: 1 }).lean();
}

describe('tool calling, structured output and images (/v1 with the openai SDK)', function () {
  this.timeout(90_000);
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    platform = await startTestPlatform({ env: { JSON_BODY_LIMIT: '10mb' } });
    owner = await registerUser(platform.url);
  });
  after(async () => platform?.stop());
  afterEach(() => platform.simulator.faults.clear());

  const setups = [
    { name: 'BYOK OpenAI', provider: 'openai', llm: { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-tools-openai-0001' } },
    { name: 'BYOK Anthropic', provider: 'anthropic', llm: { mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test-tools-0001' } },
    { name: 'BYOK Mistral', provider: 'mistral', llm: { mode: 'byok', provider: 'mistral', model: 'mistral-small-latest', apiKey: 'mistral-test-tools-0001' } },
    { name: 'managed Pro', provider: 'openai', llm: { mode: 'managed', plan: 'pro' } },
  ] as const;

  for (const setup of setups) {
    describe(setup.name, () => {
      let agentId: string;
      let client: OpenAI;
      before(async () => {
        const agent = await createAgent(platform.url, owner, setup.llm);
        agentId = agent.id;
        client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
      });

      it('a full tool round trip: the model calls the tool, the client sends the result, the model answers from it', async () => {
        const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
        const first = await client.chat.completions.create({ model: agentId, messages, tools: [WEATHER_TOOL], user: 'customer-42', metadata: { ticket: 'T-1' } });
        const choice = first.choices[0]!;
        expect(choice.finish_reason).to.equal('tool_calls');
        const call = choice.message.tool_calls![0]!;
        expect(call.type).to.equal('function');
        if (call.type !== 'function') throw new Error('not a function call');
        expect(call.function.name).to.equal('get_weather');
        expect(call.id).to.be.a('string').and.not.empty;
        const args = JSON.parse(call.function.arguments);
        expect(matchesJsonSchema(WEATHER_TOOL.function.parameters as Record<string, unknown>, args)).to.equal(true);
        expect(args.city).to.equal('Paris');
        // The provider got the tool in its own format.
        const sent = platform.simulator.lastRequest(setup.provider)!.body as Record<string, any>;
        if (setup.provider === 'anthropic') expect(sent.tools[0].input_schema.required).to.deep.equal(['city', 'unit']);
        else expect(sent.tools[0].function.name).to.equal('get_weather');

        messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21, "sky": "sunny"}' });
        const second = await client.chat.completions.create({ model: agentId, messages, tools: [WEATHER_TOOL] });
        expect(second.choices[0]!.finish_reason).to.equal('stop');
        expect(second.choices[0]!.message.content).to.contain('sunny');
        const resent = platform.simulator.lastRequest(setup.provider)!.body as Record<string, any>;
        if (setup.provider === 'anthropic') {
          const toolResult = resent.messages.at(-1).content.find((block: any) => block.type === 'tool_result');
          expect(toolResult.tool_use_id).to.equal(call.id);
        } else {
          expect(resent.messages.at(-1).role).to.equal('tool');
        }

        const events = await meterEvents(platform, agentId);
        const first_ = events.find((event) => event.requestId.endsWith(first.id.replace('chatcmpl-', '')));
        expect(first_!.requestType).to.equal('tool');
        expect(first_!.endUser).to.equal('customer-42');
        expect(first_!.metadata).to.deep.equal({ ticket: 'T-1' });
        expect(events.at(-1)!.requestType).to.equal('chat');
        expect(events.at(-1)!.endUser ?? null).to.equal(null);
      });

      it('streamed tool calls assembled by the SDK stream helper, with stable indexes and ids', async () => {
        const stream = client.chat.completions.stream({
          model: agentId,
          messages: [{ role: 'user', content: 'Use get_weather and get_time for Tokyo' }],
          tools: [WEATHER_TOOL, TIME_TOOL],
          stream_options: { include_usage: true },
        });
        const argumentDeltas: Array<{ index: number; name: string }> = [];
        stream.on('tool_calls.function.arguments.delta', (event) => argumentDeltas.push({ index: event.index, name: event.name }));
        const final = await stream.finalChatCompletion();
        const calls = final.choices[0]!.message.tool_calls!;
        expect(final.choices[0]!.finish_reason).to.equal('tool_calls');
        expect(calls.map((call) => (call.type === 'function' ? call.function.name : '')).sort()).to.deep.equal(['get_time', 'get_weather']);
        for (const call of calls) {
          if (call.type !== 'function') throw new Error('not a function call');
          const tool = [WEATHER_TOOL, TIME_TOOL].find((candidate) => candidate.type === 'function' && candidate.function.name === call.function.name)!;
          expect(matchesJsonSchema((tool as any).function.parameters, JSON.parse(call.function.arguments))).to.equal(true);
        }
        expect(new Set(calls.map((call) => call.id)).size).to.equal(2);
        expect(argumentDeltas.length).to.be.greaterThan(0);
        expect(final.usage!.completion_tokens).to.be.greaterThan(0);
        const events = await meterEvents(platform, agentId);
        expect(events.at(-1)!.requestType).to.equal('tool');
      });

      it('json_schema through the SDK parse helper answers a document valid for the schema', async () => {
        const Answer = z.object({ city: z.string(), temperature: z.number(), tags: z.array(z.string()) });
        const completion = await client.chat.completions.parse({
          model: agentId,
          messages: [{ role: 'user', content: 'Give me the forecast for Rome' }],
          response_format: zodResponseFormat(Answer, 'forecast'),
        });
        const parsed = completion.choices[0]!.message.parsed!;
        expect(Answer.parse(parsed)).to.deep.equal(parsed);
        expect(parsed.city).to.equal('Rome');
      });

      it('an image part reaches the provider and counts in the prompt', async () => {
        const completion = await client.chat.completions.create({
          model: agentId,
          messages: [{ role: 'user', content: [{ type: 'text', text: 'What is in this picture?' }, { type: 'image_url', image_url: { url: TINY_PNG } }] }],
        });
        expect(completion.choices[0]!.message.content).to.contain('What is in this picture?');
        expect(completion.usage!.prompt_tokens).to.be.greaterThan(765);
        const sent = platform.simulator.lastRequest(setup.provider)!.body as Record<string, any>;
        const content = sent.messages.at(-1).content as any[];
        if (setup.provider === 'anthropic') expect(content[1]).to.deep.include({ type: 'image' });
        else expect(JSON.stringify(content[1])).to.contain('iVBORw0KGgo');
      });

      it('the answer carries its price: list price on BYOK, the overage part (none inside the allowance) on a managed plan', async () => {
        const completion = await client.chat.completions.create({ model: agentId, messages: [{ role: 'user', content: 'Hello' }] });
        const usage = completion.usage as any;
        if (setup.llm.mode === 'byok') {
          const catalogModel = platform.platform.catalog.findModel(setup.llm.provider, setup.llm.model)!;
          const expected = costMicros(usage.prompt_tokens, catalogModel.inputUsdPerMillion) + costMicros(usage.completion_tokens, catalogModel.outputUsdPerMillion);
          expect(usage.cost_details).to.deep.equal({ cost_micros: expected, basis: 'list_price', included_tokens: 0, overage_tokens: 0, from_allowance: false });
          expect(usage.cost).to.equal(expected / 1_000_000);
          expect(expected).to.be.greaterThan(0);
        } else {
          expect(usage.cost).to.equal(0);
          expect(usage.cost_details).to.deep.equal({ cost_micros: 0, basis: 'overage', included_tokens: usage.total_tokens, overage_tokens: 0, from_allowance: true });
        }
      });
    });
  }

  it('a managed plan past its allowance reports the overage part, and the stream ends with the price', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    // The month so far: 1,999,990 of Starter's 2,000,000 included tokens.
    const { models } = platform.platform;
    await models.UsageMonthly.collection.insertOne({ agentId: new (require('mongoose').Types.ObjectId)(agent.id), workspaceId: new (require('mongoose').Types.ObjectId)(owner.workspace.id), month: new Date().toISOString().slice(0, 7), tokens: 1_999_990, managedTokens: 1_999_990, mode: 'managed', plan: 'starter' });
    const stream = await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: 'Hello there' }], stream: true, stream_options: { include_usage: true } });
    let usage: any;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    const overage = usage.total_tokens - 10;
    expect(usage.cost_details).to.deep.equal({ cost_micros: overage * 2, basis: 'overage', included_tokens: 10, overage_tokens: overage, from_allowance: false });
    const events = await meterEvents(platform, agent.id);
    expect(events[0]!.priceTotalMicros).to.equal(overage * 2);
  });

  it('a managed plan fails over only to backends that can serve the request (Starter: images and JSON Schema go to Mistral)', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    const minimaxBefore = platform.simulator.requestCount('minimax');
    await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: TINY_PNG } }] }] });
    await client.chat.completions.create({
      model: agent.id,
      messages: [{ role: 'user', content: 'Forecast' }],
      response_format: { type: 'json_schema', json_schema: { name: 'f', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'] } } },
    });
    expect(platform.simulator.requestCount('minimax')).to.equal(minimaxBefore);
    const events = await meterEvents(platform, agent.id);
    expect(events.map((event) => event.provider)).to.deep.equal(['mistral', 'mistral']);
    // A plain call still starts at the primary backend.
    await client.chat.completions.create({ model: agent.id, messages: [{ role: 'user', content: 'Hi' }] });
    expect(platform.simulator.requestCount('minimax')).to.equal(minimaxBefore + 1);
  });

  it('Groq (groq-sdk), OpenRouter and MiniMax pass tools through the OpenAI wire: a round trip and a streamed call each', async () => {
    const others = [
      { provider: 'groq', llm: { mode: 'byok', provider: 'groq', model: 'llama-3.3-70b-versatile', apiKey: 'gsk_test_tools_0001' } },
      { provider: 'openrouter', llm: { mode: 'byok', provider: 'openrouter', model: 'openai/gpt-4o-mini', apiKey: 'sk-or-v1-test-tools-0001' } },
      { provider: 'minimax', llm: { mode: 'byok', provider: 'minimax', model: 'MiniMax-M2.5', apiKey: 'minimax-test-tools-0001' } },
    ] as const;
    for (const other of others) {
      const agent = await createAgent(platform.url, owner, other.llm);
      const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
      const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Berlin?' }];
      const first = await client.chat.completions.create({ model: agent.id, messages, tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_weather' } }, parallel_tool_calls: false });
      const call = first.choices[0]!.message.tool_calls![0]!;
      if (call.type !== 'function') throw new Error('not a function call');
      expect(JSON.parse(call.function.arguments), other.provider).to.deep.equal({ city: 'Berlin', unit: 'celsius' });
      const sent = platform.simulator.lastRequest(other.provider)!.body as Record<string, any>;
      expect(sent.tool_choice, other.provider).to.deep.equal({ type: 'function', function: { name: 'get_weather' } });
      expect(sent.parallel_tool_calls, other.provider).to.equal(false);
      messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: call.id, content: 'rainy' });
      const second = await client.chat.completions.create({ model: agent.id, messages, tools: [WEATHER_TOOL] });
      expect(second.choices[0]!.message.content, other.provider).to.contain('rainy');
      const streamed = await client.chat.completions.stream({ model: agent.id, messages: [{ role: 'user', content: 'Check the weather in Rome' }], tools: [WEATHER_TOOL] }).finalChatCompletion();
      const streamedCall = streamed.choices[0]!.message.tool_calls![0]!;
      expect(streamedCall.type === 'function' && JSON.parse(streamedCall.function.arguments), other.provider).to.deep.equal({ city: 'Rome', unit: 'celsius' });
    }
  });

  it('Anthropic: a stream cut inside a tool_use block (input_json_delta) is metered as a partial tool call', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test-tools-cut-0001' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    // content_block_start (id, name), one input_json_delta, then the connection drops.
    platform.simulator.faults.script('anthropic', [{ kind: 'cut', afterChunks: 2 }], { apiKey: 'sk-ant-test-tools-cut-0001' });
    const response = await api(platform.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: agent.id, stream: true, messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools: [WEATHER_TOOL] },
    });
    const chunks = response.text.split('\n\n').filter((block) => block.startsWith('data: {')).map((block) => JSON.parse(block.slice(6)));
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices?.[0]?.delta?.tool_calls ?? []);
    expect(toolDeltas.map((delta: any) => delta.index)).to.deep.equal([0, 0]);
    expect(toolDeltas[0].id).to.match(/^toolu_/);
    expect(toolDeltas[1].function.arguments).to.equal('{"city":"Osl');
    expect(chunks.at(-1).error).to.exist;
    const events = await meterEvents(platform, agent.id);
    expect(events).to.have.length(1);
    expect(events[0]!).to.deep.include({ status: 'partial', usageSource: 'estimated', requestType: 'tool' });
  });

  it('a stream cut in the middle of tool-call arguments is metered from an estimate and flagged partial', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-tools-cut-0001' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    // First chunk: the call's id and name; the next two: argument pieces; then the connection drops.
    platform.simulator.faults.script('openai', [{ kind: 'cut', afterChunks: 3 }], { apiKey: 'sk-test-tools-cut-0001' });
    const response = await api(platform.url, 'POST', '/v1/chat/completions', {
      headers: { authorization: `Bearer ${key}` },
      body: { model: agent.id, stream: true, messages: [{ role: 'user', content: 'What is the weather in Oslo?' }], tools: [WEATHER_TOOL] },
    });
    expect(response.status).to.equal(200);
    const chunks = response.text.split('\n\n').filter((block) => block.startsWith('data: {')).map((block) => JSON.parse(block.slice(6)));
    const toolDeltas = chunks.flatMap((chunk) => chunk.choices?.[0]?.delta?.tool_calls ?? []);
    expect(toolDeltas[0]).to.deep.include({ index: 0, type: 'function' });
    expect(toolDeltas[0].function.name).to.equal('get_weather');
    expect(toolDeltas.length).to.equal(3);
    expect(chunks.at(-1).error).to.exist;
    const events = await meterEvents(platform, agent.id);
    expect(events).to.have.length(1);
    expect(events[0]!).to.deep.include({ status: 'partial', usageSource: 'estimated', requestType: 'tool' });
    expect(events[0]!.tokensOutput).to.be.greaterThan(0);
  });
});
