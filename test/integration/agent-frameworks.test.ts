// Agent frameworks driving /v1 unchanged, with only a base URL and an agent key: the Vercel AI SDK (an
// OpenAI-compatible provider: generateText with tools and a tool loop, streamText) and LangChain JS (ChatOpenAI with
// bindTools), against a managed agent on the simulator.
import { expect } from 'chai';
import { generateText, jsonSchema, stepCountIs, streamText, tool } from 'ai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, ToolMessage } from '@langchain/core/messages';
import { createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';

const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
  additionalProperties: false,
} as const;

describe('agent frameworks on /v1 (Vercel AI SDK, LangChain)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let baseURL: string;
  let apiKey: string;
  let agentId: string;

  before(async () => {
    platform = await startTestPlatform();
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    agentId = agent.id;
    apiKey = await createAgentApiKey(platform.url, owner, agent.id);
    baseURL = `${platform.url}/v1`;
  });
  after(async () => platform?.stop());

  const weatherCalls: Array<{ city: string; unit: string }> = [];
  const aiSdkTools = {
    get_weather: tool({
      description: 'The current weather in a city',
      inputSchema: jsonSchema<{ city: string; unit: string }>(WEATHER_PARAMETERS),
      execute: async (input) => {
        weatherCalls.push(input);
        return { temperature: 18, sky: 'cloudy' };
      },
    }),
  };

  it('Vercel AI SDK: generateText runs the tool loop (the model calls the tool, the SDK runs it and sends the result back)', async () => {
    const provider = createOpenAICompatible({ name: 'agent-host', baseURL, apiKey });
    const result = await generateText({ model: provider(agentId), tools: aiSdkTools, stopWhen: stepCountIs(3), prompt: 'What is the weather in Lisbon?' });
    expect(weatherCalls).to.deep.equal([{ city: 'Lisbon', unit: 'celsius' }]);
    expect(result.steps.length).to.equal(2);
    expect(result.steps[0]!.toolCalls[0]!.toolName).to.equal('get_weather');
    expect(result.text).to.contain('cloudy');
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId }).sort({ timestamp: 1 }).lean();
    expect(events.map((event) => event.requestType)).to.deep.equal(['tool', 'chat']);
  });

  it('Vercel AI SDK: streamText streams the text, and streamed tool calls arrive as tool-call parts', async () => {
    const provider = createOpenAICompatible({ name: 'agent-host', baseURL, apiKey, includeUsage: true });
    const text = streamText({ model: provider(agentId), prompt: 'Tell me about the sea' });
    let streamed = '';
    for await (const delta of text.textStream) streamed += delta;
    expect(streamed).to.contain('Tell me about the sea');
    expect((await text.usage).outputTokens).to.be.greaterThan(0);

    const withTools = streamText({ model: provider(agentId), tools: { get_weather: { ...aiSdkTools.get_weather, execute: undefined } }, prompt: 'What is the weather in Porto?' });
    const calls: Array<{ toolName: string; input: unknown }> = [];
    for await (const part of withTools.fullStream) if (part.type === 'tool-call') calls.push({ toolName: part.toolName, input: part.input });
    expect(calls).to.deep.equal([{ toolName: 'get_weather', input: { city: 'Porto', unit: 'celsius' } }]);
  });

  it('LangChain: ChatOpenAI with bindTools gets a tool call, then answers from the ToolMessage', async () => {
    const model = new ChatOpenAI({ model: agentId, apiKey, configuration: { baseURL }, maxRetries: 0 });
    const withTools = model.bindTools([{ type: 'function', function: { name: 'get_weather', description: 'The current weather in a city', parameters: WEATHER_PARAMETERS } }]);
    const question = new HumanMessage('What is the weather in Madrid?');
    const first = await withTools.invoke([question]);
    expect(first.tool_calls).to.have.length(1);
    expect(first.tool_calls![0]).to.deep.include({ name: 'get_weather', args: { city: 'Madrid', unit: 'celsius' } });
    const answer = await withTools.invoke([question, first, new ToolMessage({ tool_call_id: first.tool_calls![0]!.id!, content: 'hot and dry' })]);
    expect(String(answer.content)).to.contain('hot and dry');
  });
});
