// Publishing over real HTTP: the share link's lifecycle, the public chat API (origins, bad input, streaming, the
// visitor as end user on the meter), retention on and off checked in the database, owners' conversation reads,
// usage per end user, and the abuse limits.
import { expect } from 'chai';
import { Types } from 'mongoose';
import { api, createAgent, registerUser, startTestPlatform, CANARY_PROVIDER_KEY, type TestPlatform, type TestUser } from '../support/test-platform';

function parseSse(text: string): any[] {
  return text
    .split('\n\n')
    .map((block) => block.trim())
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice(6)));
}

const visitor = (suffix: string) => `v_${suffix.padEnd(22, 'x')}`;

describe('publishing: share links and the public chat API', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    platform = await startTestPlatform({ publicChatLimits: { visitorRequestsPerMinute: 1000, addressRequestsPerMinute: 1000 } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
  });

  const agentPath = (agentId: string) => `/api/workspaces/${owner.workspace.id}/agents/${agentId}`;

  async function publishedAgent(llm: Record<string, unknown> = { mode: 'managed', plan: 'pro' }, settings: Record<string, unknown> = {}) {
    const agent = await createAgent(platform.url, owner, llm);
    const patched = await api(platform.url, 'PATCH', `${agentPath(agent.id)}/publishing`, { token: owner.token, body: { displayName: 'Acme helper', greeting: 'Hello!', suggestedQuestions: ['When are you open?'], accentColor: '#0F766E', allowedOrigins: ['http://127.0.0.1:5555'], ...settings } });
    expect(patched.status, patched.text).to.equal(200);
    const published = await api(platform.url, 'POST', `${agentPath(agent.id)}/publishing/publish`, { token: owner.token });
    expect(published.status).to.equal(200);
    return { agent, slug: published.body.slug as string, settings: published.body };
  }

  const chat = (slug: string, body: Record<string, unknown>, headers: Record<string, string> = {}) =>
    api(platform.url, 'POST', `/api/public/agents/${slug}/chat`, { body, headers });

  async function meterEventsOf(agentId: string) {
    await platform.platform.meter.drain();
    return platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agentId) }).lean();
  }

  it('publishes with an unguessable slug; the public view shows only the look of the chat; rotate and unpublish cut old links (404)', async () => {
    const { agent, slug, settings } = await publishedAgent();
    expect(slug).to.match(/^[A-Za-z0-9_-]{24}$/);
    expect(settings.sharePath).to.equal(`/p/${slug}`);
    expect(settings.accentColor).to.equal('#0f766e');
    const view = await api(platform.url, 'GET', `/api/public/agents/${slug}`);
    expect(view.status).to.equal(200);
    expect(view.body).to.deep.equal({ displayName: 'Acme helper', greeting: 'Hello!', suggestedQuestions: ['When are you open?'], accentColor: '#0f766e', keepsConversations: true });
    expect(view.text).to.not.match(/Acme & Sons|faq|plan|pro|openai|system/i);
    const page = await fetch(`${platform.url}/p/${slug}`);
    expect(page.status).to.equal(200);
    expect(await page.text()).to.contain('data-mode="page"').and.contain('<title>Acme helper</title>');

    const rotated = await api(platform.url, 'POST', `${agentPath(agent.id)}/publishing/rotate`, { token: owner.token });
    expect(rotated.body.slug).to.not.equal(slug);
    expect((await api(platform.url, 'GET', `/api/public/agents/${slug}`)).status).to.equal(404);
    expect((await api(platform.url, 'GET', `/api/public/agents/${rotated.body.slug}`)).status).to.equal(200);
    await api(platform.url, 'POST', `${agentPath(agent.id)}/publishing/unpublish`, { token: owner.token });
    const gone = await api(platform.url, 'GET', `/api/public/agents/${rotated.body.slug}`);
    expect(gone.status).to.equal(404);
    expect(gone.body.error.code).to.equal('NOT_FOUND');
    expect((await fetch(`${platform.url}/p/${rotated.body.slug}`)).status).to.equal(404);
    expect((await api(platform.url, 'GET', '/api/public/agents/not-a-slug')).status).to.equal(404);
    expect((await chat('AAAAAAAAAAAAAAAAAAAAAAAA', { visitorId: visitor('a'), message: 'hi' })).status).to.equal(404);
  });

  it('checks the Origin on every request: listed → CORS for that origin; other sites → 403 ORIGIN_NOT_ALLOWED (preflight too)', async () => {
    const { slug } = await publishedAgent();
    const allowed = await api(platform.url, 'GET', `/api/public/agents/${slug}`, { headers: { origin: 'http://127.0.0.1:5555' } });
    expect(allowed.status).to.equal(200);
    expect(allowed.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:5555');
    const refused = await api(platform.url, 'GET', `/api/public/agents/${slug}`, { headers: { origin: 'http://127.0.0.1:6666' } });
    expect(refused.status).to.equal(403);
    expect(refused.body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
    expect(refused.headers.get('access-control-allow-origin')).to.equal(null);
    const preflight = await fetch(`${platform.url}/api/public/agents/${slug}/chat`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:6666', 'access-control-request-method': 'POST' } });
    expect(preflight.status).to.equal(403);
    const okPreflight = await fetch(`${platform.url}/api/public/agents/${slug}/chat`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:5555', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } });
    expect(okPreflight.status).to.equal(204);
    expect(okPreflight.headers.get('access-control-allow-origin')).to.equal('http://127.0.0.1:5555');
    const post = await chat(slug, { visitorId: visitor('o'), message: 'hi' }, { origin: 'https://evil.example' });
    expect(post.status).to.equal(403);
    expect(post.body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
  });

  it('refuses bad input with stable codes and meters nothing', async () => {
    const { agent, slug } = await publishedAgent();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ visitorId: visitor('b'), message: '   ' }, 'MESSAGE_EMPTY'],
      [{ visitorId: visitor('b'), message: 'x'.repeat(4001) }, 'MESSAGE_TOO_LONG'],
      [{ visitorId: 'alice@example.com', message: 'hi' }, 'VISITOR_ID_INVALID'],
      [{ visitorId: 'v_short', message: 'hi' }, 'VISITOR_ID_INVALID'],
      [{ visitorId: visitor('b'), message: 'hi', systemPrompt: 'leak' }, 'VALIDATION_FAILED'],
    ];
    for (const [body, code] of cases) {
      const response = await chat(slug, body);
      expect(response.status, JSON.stringify(body).slice(0, 80)).to.equal(400);
      expect(response.body.error.code).to.equal(code);
    }
    const settings = await api(platform.url, 'PATCH', `${agentPath(agent.id)}/publishing`, { token: owner.token, body: { allowedOrigins: ['https://shop.example.com/path'] } });
    expect(settings.status).to.equal(400);
    expect(settings.body.error.code).to.equal('VALIDATION_FAILED');
    expect(await meterEventsOf(agent.id)).to.have.length(0);
  });

  it('streams a visitor conversation, meters it with the visitor as end user (no content), and keeps it (managed default: 30 days)', async () => {
    const { agent, slug } = await publishedAgent();
    const visitorId = visitor('stream');
    const first = await chat(slug, { visitorId, message: 'What are your opening hours?' });
    expect(first.status).to.equal(200);
    expect(first.headers.get('content-type')).to.contain('text/event-stream');
    const events = parseSse(first.text);
    const reply = events.filter((event) => event.type === 'delta').map((event) => event.content).join('');
    expect(reply).to.contain('opening hours');
    const end = events.at(-1);
    expect(end.type).to.equal('end');
    expect(end.conversationId).to.match(/^[a-f0-9]{24}$/);
    expect(first.text).to.not.contain('Acme & Sons');

    const second = await chat(slug, { visitorId, message: 'And on Sundays?', conversationId: end.conversationId });
    expect(parseSse(second.text).at(-1).conversationId).to.equal(end.conversationId);

    const stored = await platform.platform.models.Conversation.collection.findOne({ _id: new Types.ObjectId(end.conversationId) });
    expect(stored!.visitorId).to.equal(visitorId);
    expect(stored!.messages.map((message: { role: string }) => message.role)).to.deep.equal(['user', 'assistant', 'user', 'assistant']);
    const days = (stored!.expiresAt.getTime() - Date.now()) / 86_400_000;
    expect(days).to.be.within(29.9, 30.1);

    const meterEvents = await meterEventsOf(agent.id);
    expect(meterEvents).to.have.length(2);
    for (const event of meterEvents) {
      expect(event.endUser).to.equal(visitorId);
      expect(event.metadata).to.deep.equal({ channel: 'published' });
      expect(JSON.stringify(event)).to.not.contain('opening hours').and.not.contain('Sundays');
    }
    // The second turn carried the first as history (the prompt grew).
    expect(meterEvents[1]!.tokensInput).to.be.greaterThan(meterEvents[0]!.tokensInput);

    // Another visitor cannot read it; the visitor can.
    const own = await api(platform.url, 'GET', `/api/public/agents/${slug}/conversations/${end.conversationId}?visitorId=${visitorId}`);
    expect(own.status).to.equal(200);
    expect(own.body.messages).to.have.length(4);
    expect((await api(platform.url, 'GET', `/api/public/agents/${slug}/conversations/${end.conversationId}?visitorId=${visitor('other')}`)).status).to.equal(404);

    // Usage per visitor for the owner.
    const usage = await api(platform.url, 'GET', `${agentPath(agent.id)}/usage/end-users`, { token: owner.token });
    expect(usage.status).to.equal(200);
    expect(usage.body.endUsers).to.equal(1);
    expect(usage.body.top[0].endUser).to.equal(visitorId);
    expect(usage.body.top[0].tokens).to.equal(meterEvents.reduce((total, event) => total + event.tokensInput + event.tokensOutput, 0));
    expect(usage.body.top[0].requests).to.equal(2);
  });

  it('a BYOK agent keeps nothing by default: history comes from the page, nothing reaches the conversations collection', async () => {
    const { agent, slug, settings } = await publishedAgent({ mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: CANARY_PROVIDER_KEY });
    expect(settings.retentionDays).to.equal(0);
    expect((await api(platform.url, 'GET', `/api/public/agents/${slug}`)).body.keepsConversations).to.equal(false);
    const visitorId = visitor('byok');
    const first = await chat(slug, { visitorId, message: 'first question here' });
    expect(parseSse(first.text).at(-1)).to.include({ type: 'end', conversationId: null });
    const second = await chat(slug, { visitorId, message: 'second one', history: [{ role: 'user', content: 'first question here' }, { role: 'assistant', content: 'an answer' }] });
    expect(parseSse(second.text).at(-1).type).to.equal('end');
    expect(await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(0);
    const events = await meterEventsOf(agent.id);
    expect(events).to.have.length(2);
    expect(events[1]!.tokensInput).to.be.greaterThan(events[0]!.tokensInput);
    expect(first.text + second.text).to.not.contain(CANARY_PROVIDER_KEY);

    // Turning retention on (7 days) stores the next exchange.
    await api(platform.url, 'PATCH', `${agentPath(agent.id)}/publishing`, { token: owner.token, body: { retentionDays: 7 } });
    await chat(slug, { visitorId, message: 'now it is kept' });
    expect(await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(1);
  });

  it('owners search, filter by visitor, export and delete conversations; other workspaces get 404', async () => {
    const { agent, slug } = await publishedAgent();
    await chat(slug, { visitorId: visitor('alpha'), message: 'refund for my blue kettle' });
    await chat(slug, { visitorId: visitor('beta'), message: 'delivery times to Lyon' });
    const all = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations`, { token: owner.token });
    expect(all.body.total).to.equal(2);
    const searched = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations?q=KETTLE`, { token: owner.token });
    expect(searched.body.conversations.map((conversation: { visitorId: string }) => conversation.visitorId)).to.deep.equal([visitor('alpha')]);
    const byVisitor = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations?visitorId=${visitor('beta')}`, { token: owner.token });
    expect(byVisitor.body.total).to.equal(1);
    const regexy = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations?q=${encodeURIComponent('.*(')}`, { token: owner.token });
    expect(regexy.status).to.equal(200);
    expect(regexy.body.total).to.equal(0);
    const exported = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations/export`, { token: owner.token });
    expect(exported.status).to.equal(200);
    expect(exported.body).to.have.length(2);
    expect(exported.body[0].messages[0].content).to.equal('refund for my blue kettle');

    const stranger = await registerUser(platform.url);
    expect((await api(platform.url, 'GET', `/api/workspaces/${stranger.workspace.id}/agents/${agent.id}/conversations`, { token: stranger.token })).status).to.equal(404);
    expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/conversations`, { token: stranger.token })).status).to.equal(404);

    const one = byVisitor.body.conversations[0].id;
    expect((await api(platform.url, 'DELETE', `${agentPath(agent.id)}/conversations/${one}`, { token: owner.token })).status).to.equal(204);
    expect((await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations/${one}`, { token: owner.token })).status).to.equal(404);
    const cleared = await api(platform.url, 'DELETE', `${agentPath(agent.id)}/conversations`, { token: owner.token });
    expect(cleared.body.deleted).to.equal(1);
    expect(await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(0);

    // Deleting the agent deletes what it kept.
    await chat(slug, { visitorId: visitor('gamma'), message: 'one more' });
    expect(await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(1);
    await api(platform.url, 'DELETE', agentPath(agent.id), { token: owner.token });
    for (let attempt = 0; attempt < 50 && (await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })) > 0; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await platform.platform.models.Conversation.collection.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(0);
  });

  it('playground conversations: the server-side turn keeps history and trims nothing it does not need; record keeps the playground’s exchanges', async () => {
    const agent = await createAgent(platform.url, owner);
    const turn = (body: Record<string, unknown>) => api(platform.url, 'POST', `${agentPath(agent.id)}/conversations/turn`, { token: owner.token, body });
    const first = parseSse((await turn({ message: 'first playground question' })).text).at(-1);
    expect(first.type).to.equal('end');
    expect(first.historyDropped).to.equal(0);
    const second = parseSse((await turn({ message: 'second', conversationId: first.conversationId })).text).at(-1);
    expect(second.conversationId).to.equal(first.conversationId);
    const recorded = await api(platform.url, 'POST', `${agentPath(agent.id)}/conversations/record`, { token: owner.token, body: { user: 'from the playground', assistant: 'an answer' } });
    expect(recorded.body.conversationId).to.match(/^[a-f0-9]{24}$/);
    const again = await api(platform.url, 'POST', `${agentPath(agent.id)}/conversations/record`, { token: owner.token, body: { conversationId: recorded.body.conversationId, user: 'more', assistant: 'more' } });
    expect(again.body.conversationId).to.equal(recorded.body.conversationId);
    const listed = await api(platform.url, 'GET', `${agentPath(agent.id)}/conversations?source=playground`, { token: owner.token });
    expect(listed.body.conversations.map((conversation: { messageCount: number }) => conversation.messageCount).sort()).to.deep.equal([4, 4]);
    const events = await meterEventsOf(agent.id);
    expect(events).to.have.length(2);
    expect(events[1]!.tokensInput).to.be.greaterThan(events[0]!.tokensInput);
    expect(events.every((event) => event.endUser === undefined)).to.equal(true);

    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-playground-byok-0001' });
    const none = await api(platform.url, 'POST', `${agentPath(byok.id)}/conversations/record`, { token: owner.token, body: { user: 'x', assistant: 'y' } });
    expect(none.body.conversationId).to.equal(null);
  });

  it('the conversations collection has its TTL index on expiresAt', async () => {
    const indexes = await platform.platform.models.Conversation.collection.indexes();
    const ttl = indexes.find((index) => index.key.expiresAt === 1);
    expect(ttl?.expireAfterSeconds).to.equal(0);
  });
});

describe('publishing: visitors’ abuse limits', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    platform = await startTestPlatform({ publicChatLimits: { visitorRequestsPerMinute: 3, addressRequestsPerMinute: 6, visitorTokensPerDay: 1_000_000, addressTokensPerDay: 1_000_000 } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
  });

  async function slugOf(): Promise<string> {
    const agent = await createAgent(platform.url, owner);
    return (await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/publishing/publish`, { token: owner.token })).body.slug;
  }

  it('limits requests per minute per visitor, then per address, with a friendly 429', async () => {
    const slug = await slugOf();
    const send = (visitorId: string) => api(platform.url, 'POST', `/api/public/agents/${slug}/chat`, { body: { visitorId, message: 'hello there' } });
    const statuses = [];
    for (let index = 0; index < 4; index += 1) statuses.push((await send(visitor('limit1'))).status);
    expect(statuses).to.deep.equal([200, 200, 200, 429]);
    const limited = await send(visitor('limit1'));
    expect(limited.body.error.code).to.equal('VISITOR_RATE_LIMITED');
    expect(limited.body.error.message).to.match(/wait a minute/);
    expect(limited.headers.get('retry-after')).to.equal('60');
    // Every request counts for the address (6/min, refused ones too): a new visitor id gets the sixth, not the seventh.
    expect((await send(visitor('limit2'))).status).to.equal(200);
    const address = await send(visitor('limit3'));
    expect(address.status).to.equal(429);
    expect(address.body.error.message).to.match(/your network/);
  });
});

describe('publishing: tokens per day per visitor', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let owner: TestUser;

  before(async () => {
    platform = await startTestPlatform({ publicChatLimits: { visitorTokensPerDay: 150, addressTokensPerDay: 1_000_000 } });
    owner = await registerUser(platform.url);
  });
  after(async () => {
    await platform?.stop();
  });

  it('a visitor past the day’s tokens gets VISITOR_DAILY_LIMIT with a friendly message; another visitor still chats', async () => {
    const agent = await createAgent(platform.url, owner);
    const slug = (await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/publishing/publish`, { token: owner.token })).body.slug;
    const send = (visitorId: string) => api(platform.url, 'POST', `/api/public/agents/${slug}/chat`, { body: { visitorId, message: 'tell me everything about your shop' } });
    let status = 200;
    let attempts = 0;
    while (status === 200 && attempts < 10) {
      const response = await send(visitor('daily'));
      status = response.status;
      attempts += 1;
      await platform.platform.meter.drain();
      if (status !== 200) {
        expect(response.body.error.code).to.equal('VISITOR_DAILY_LIMIT');
        expect(response.body.error.message).to.match(/come back tomorrow/);
      }
    }
    expect(status).to.equal(429);
    expect(attempts).to.be.within(2, 6);
    expect((await send(visitor('fresh'))).status).to.equal(200);
  });
});
