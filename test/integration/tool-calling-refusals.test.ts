// Bad tool-calling, structured-output and image input: each a 400 with a stable code, before any provider call, and
// nothing metered — on /v1 and on the agent chat API.
import { expect } from 'chai';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { TINY_PNG, WEATHER_TOOL } from '../support/tool-fixtures';

describe('tool calling: refused input', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;
  let agentId: string;
  let key: string;

  before(async () => {
    platform = await startTestPlatform({ env: { JSON_BODY_LIMIT: '10mb' } });
    owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-refusals-0001' });
    agentId = agent.id;
    key = await createAgentApiKey(platform.url, owner, agent.id);
  });
  after(async () => platform?.stop());

  const user = (content: unknown) => ({ role: 'user', content });
  const toolCallTurn = [
    user('weather?'),
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris","unit":"celsius"}' } }] },
  ];
  const bigPng = `data:image/png;base64,${Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(6 * 1024 * 1024)]).toString('base64')}`;

  const cases: Array<{ name: string; code: string; body: Record<string, unknown> }> = [
    { name: 'tool_choice naming an unknown function', code: 'TOOL_CHOICE_UNKNOWN', body: { messages: [user('hi')], tools: [WEATHER_TOOL], tool_choice: { type: 'function', function: { name: 'get_time' } } } },
    { name: 'tool_choice required without tools', code: 'TOOL_CHOICE_UNKNOWN', body: { messages: [user('hi')], tool_choice: 'required' } },
    { name: 'a tool message whose id matches no call', code: 'TOOL_CALL_ID_UNKNOWN', body: { messages: [...toolCallTurn, { role: 'tool', tool_call_id: 'call_2', content: 'sunny' }], tools: [WEATHER_TOOL] } },
    { name: 'a tool message with no call before it', code: 'TOOL_CALL_ID_UNKNOWN', body: { messages: [user('hi'), { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }] } },
    { name: 'tool parameters that are not a JSON Schema', code: 'JSON_SCHEMA_INVALID', body: { messages: [user('hi')], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'strng' } } } } }] } },
    { name: 'tool parameters that are not an object schema', code: 'JSON_SCHEMA_INVALID', body: { messages: [user('hi')], tools: [{ type: 'function', function: { name: 'f', parameters: { type: 'string' } } }] } },
    { name: 'a response_format schema that is not a JSON Schema', code: 'JSON_SCHEMA_INVALID', body: { messages: [user('hi')], response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object', required: 'a' } } } } },
    { name: 'too many tools', code: 'TOO_MANY_TOOLS', body: { messages: [user('hi')], tools: Array.from({ length: 129 }, (_, index) => ({ type: 'function', function: { name: `tool_${index}`, parameters: { type: 'object' } } })) } },
    { name: 'an oversized image', code: 'IMAGE_TOO_LARGE', body: { messages: [user([{ type: 'image_url', image_url: { url: bigPng } }])] } },
    { name: 'a data URL that is not base64', code: 'IMAGE_INVALID', body: { messages: [user([{ type: 'image_url', image_url: { url: 'data:image/png;base64,@@@notbase64@@' } }])] } },
    { name: 'a data URL whose bytes are not the declared type', code: 'IMAGE_INVALID', body: { messages: [user([{ type: 'image_url', image_url: { url: `data:image/jpeg;base64,${TINY_PNG.split(',')[1]}` } }])] } },
    { name: 'an image media type that is not an image', code: 'IMAGE_INVALID', body: { messages: [user([{ type: 'image_url', image_url: { url: 'data:text/plain;base64,aGVsbG8=' } }])] } },
    { name: 'a plain-http image URL', code: 'IMAGE_INVALID', body: { messages: [user([{ type: 'image_url', image_url: { url: 'http://example.com/cat.png' } }])] } },
    { name: 'an unsupported content part type', code: 'CONTENT_PART_UNSUPPORTED', body: { messages: [user([{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }])] } },
    { name: 'n above 1', code: 'PARAMETER_UNSUPPORTED', body: { messages: [user('hi')], n: 2 } },
  ];

  for (const testCase of cases) {
    it(`/v1: ${testCase.name} → 400 ${testCase.code}, no provider call, nothing metered`, async () => {
      const before = platform.simulator.requestCount();
      const response = await api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: agentId, ...testCase.body } });
      expect(response.status, response.text.slice(0, 300)).to.equal(400);
      expect(response.body.error.code).to.equal(testCase.code);
      expect(response.body.error.type).to.equal('invalid_request_error');
      expect(platform.simulator.requestCount()).to.equal(before);
    });
  }

  it('the agent chat API refuses the same input with the same codes', async () => {
    for (const testCase of cases.slice(0, 8)) {
      const response = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/chat`, { token: owner.token, body: testCase.body });
      expect(response.status, testCase.name).to.equal(400);
      expect(response.body.error.code, testCase.name).to.equal(testCase.code);
    }
  });

  it('a capability the model lacks is refused before any call: images on Groq, JSON Schema on MiniMax, seed on Anthropic', async () => {
    const groq = await createAgent(platform.url, owner, { mode: 'byok', provider: 'groq', model: 'llama-3.3-70b-versatile', apiKey: 'gsk_test_refusals_0001' });
    const minimax = await createAgent(platform.url, owner, { mode: 'byok', provider: 'minimax', model: 'MiniMax-M2.5', apiKey: 'minimax-test-refusals-0001' });
    const anthropic = await createAgent(platform.url, owner, { mode: 'byok', provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-test-refusals-0001' });
    const before = platform.simulator.requestCount();
    const attempts = [
      { agent: groq, code: 'MODEL_CAPABILITY_MISSING', body: { messages: [user([{ type: 'image_url', image_url: { url: TINY_PNG } }])] }, words: 'images' },
      { agent: minimax, code: 'MODEL_CAPABILITY_MISSING', body: { messages: [user('hi')], response_format: { type: 'json_object' } }, words: 'structured JSON' },
      { agent: anthropic, code: 'PARAMETER_UNSUPPORTED', body: { messages: [user('hi')], seed: 7 }, words: 'seed' },
    ];
    for (const attempt of attempts) {
      const agentKey = await createAgentApiKey(platform.url, owner, attempt.agent.id);
      const response = await api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${agentKey}` }, body: { model: 'agent', ...attempt.body } });
      expect(response.status).to.equal(400);
      expect(response.body.error.code).to.equal(attempt.code);
      expect(response.body.error.message).to.contain(attempt.words);
    }
    // A managed plan sends such a request only to the backends that have the parameter (Pro: OpenAI, not Anthropic).
    const pro = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const proKey = await createAgentApiKey(platform.url, owner, pro.id);
    const response = await api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${proKey}` }, body: { model: 'agent', messages: [user('hi')], seed: 1, presence_penalty: 0.5 } });
    expect(response.status).to.equal(200);
    expect(platform.simulator.lastRequest('openai')!.body).to.deep.include({ seed: 1, presence_penalty: 0.5 });
    expect(platform.simulator.requestCount()).to.equal(before + 1);
    await platform.platform.meter.drain();
    for (const agent of [groq, minimax, anthropic]) expect(await platform.platform.models.MeterEvent.countDocuments({ agentId: agent.id })).to.equal(0);
  });

  it('nothing was metered for any refused request', async () => {
    await platform.platform.meter.drain();
    expect(await platform.platform.models.MeterEvent.countDocuments({ agentId })).to.equal(0);
  });
});
