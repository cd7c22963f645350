// Routing's per-agent state is derived once per agent version and held in each instance's memory (#20): a change made
// on one instance (routing setting, light model) is what every instance routes by — at once on the chat API, which
// reads the agent per call, and over /v1 once that instance's key cache re-reads the agent (within seconds).
import { expect } from 'chai';
import OpenAI from 'openai';
import { api, createAgent, createAgentApiKey, type TestPlatform, type TestUser } from '../support/test-platform';
import { eventually as eventuallyWithin, twoInstancesOnOneDatabase } from '../support/two-instances';
import type { SimulatorHandle } from '../../server/llm/simulator';

/** What the other instance sees arrives within its key cache's 5 s; allow 15. */
const eventually = <T>(read: () => Promise<T>, done: (value: T) => boolean) => eventuallyWithin(read, done, 15_000, 100);

const MAIN_KEY = 'sk-state-main-openai-0001';
const LIGHT_KEY = 'sk-ant-state-light-0001';
const SECOND_LIGHT_KEY = 'sk-state-light-openai-0002';
const EASY = 'What are your opening hours?';

describe('routing state across instances: a change on one is routed by the other', function () {
  this.timeout(120_000);
  const instances = twoInstancesOnOneDatabase('routing-state', 'Rita Routing');
  let first: TestPlatform;
  let second: TestPlatform;
  let owner: TestUser;
  let simulator: SimulatorHandle;
  before(() => ({ first, second, owner, simulator } = instances));

  const agentPath = (agentId: string) => `/api/workspaces/${owner.workspace.id}/agents/${agentId}`;
  const change = async (platform: TestPlatform, method: string, path: string, body: unknown) => {
    const response = await api(platform.url, method, path, { token: owner.token, body });
    expect(response.status, response.text).to.equal(200);
    return response.body;
  };
  /** Which key answered one easy /v1 call on B: the light model's, the second light model's or the main one's. */
  const served = async (client: OpenAI) => {
    const counts = () => [simulator.requestCount('anthropic', { apiKey: LIGHT_KEY }), simulator.requestCount('openai', { apiKey: SECOND_LIGHT_KEY }), simulator.requestCount('openai', { apiKey: MAIN_KEY })];
    const before = counts();
    const { response } = await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: EASY }] }).withResponse();
    const after = counts();
    const which = ['light', 'second light', 'main'].filter((_, index) => after[index]! > before[index]!);
    expect(which, 'exactly one key answered').to.have.length(1);
    return { key: which[0]!, header: response.headers.get('x-agent-host-routing') };
  };

  it('routing turned off and on again, the light model replaced and removed on A: B routes by each change (chat API at once, /v1 within its key cache)', async () => {
    const agent = await createAgent(first.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: MAIN_KEY });
    await change(first, 'PUT', `${agentPath(agent.id)}/llm/light`, { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: LIGHT_KEY });
    await change(first, 'PUT', `${agentPath(agent.id)}/routing`, { setting: 'balanced' });
    const key = await createAgentApiKey(first.url, owner, agent.id);
    const onSecond = new OpenAI({ apiKey: key, baseURL: `${second.url}/v1`, maxRetries: 0 });
    const keyOf = async () => (await served(onSecond)).key;

    // B derives the agent's routing state on its first calls and holds it.
    const first1 = await served(onSecond);
    expect(first1.key).to.equal('light');
    expect(first1.header).to.match(/^light; /);
    expect(await keyOf()).to.equal('light');

    // Always the main model, set on A.
    await change(first, 'PUT', `${agentPath(agent.id)}/routing`, { alwaysStrong: true });
    const chatOnSecond = await api(second.url, 'POST', `${agentPath(agent.id)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: EASY }] } });
    expect(chatOnSecond.status, chatOnSecond.text).to.equal(200);
    expect(chatOnSecond.body, 'the chat API on B reads the changed agent at once').to.include({ provider: 'openai', model: 'gpt-4o' });
    expect(await eventually(keyOf, (which) => which === 'main'), '/v1 on B follows within its key cache').to.equal('main');
    const strong = await served(onSecond);
    expect(strong).to.deep.equal({ key: 'main', header: null });

    // Back on, with another light model (another provider and key): B's easy calls go to the new light model only.
    await change(first, 'PUT', `${agentPath(agent.id)}/routing`, { alwaysStrong: false });
    await change(first, 'PUT', `${agentPath(agent.id)}/llm/light`, { provider: 'openai', model: 'gpt-4o-mini', apiKey: SECOND_LIGHT_KEY });
    const chatAgain = await api(second.url, 'POST', `${agentPath(agent.id)}/chat`, { token: owner.token, body: { messages: [{ role: 'user', content: EASY }] } });
    expect(chatAgain.body).to.include({ provider: 'openai', model: 'gpt-4o-mini' });
    expect(chatAgain.body.routing).to.include({ tier: 'light' });
    expect(await eventually(keyOf, (which) => which === 'second light')).to.equal('second light');
    expect(await keyOf()).to.equal('second light');

    // The light model removed on A: B answers with the main model (nothing to route to).
    expect((await api(first.url, 'DELETE', `${agentPath(agent.id)}/llm/light`, { token: owner.token })).status).to.equal(200);
    expect(await eventually(keyOf, (which) => which === 'main')).to.equal('main');
    expect(await keyOf()).to.equal('main');
  });
});
