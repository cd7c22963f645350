// experience (#18) in real Chromium, at desktop width and at 375 px: plain words for managed agents (no model id,
// no "tokens" outside Details, no cost), agent health on the header, the card and the composer, BYOK setup that
// cannot dead-end (key test before saving, sandbox keys, local endpoints explained), and screens usable on a phone.
import fs from 'node:fs';
import { expect } from 'chai';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { DESKTOP, PHONE, horizontalOverflow, launchBrowser, screenshot, textOutsideDetails, type BrowserSession } from '../support/browser';

const WIDTHS = [
  { name: 'desktop', viewport: DESKTOP },
  { name: '375', viewport: PHONE },
];

describe('experience: plain words, health, BYOK setup, mobile (real browser)', function () {
  this.timeout(90_000);
  let platform: TestPlatform;
  let session: BrowserSession;
  let modelIds: string[];

  before(async function () {
    this.timeout(180_000);
    [platform, session] = await Promise.all([startTestPlatform(), launchBrowser()]);
    const providers = (await api(platform.url, 'GET', '/api/providers')).body as Array<{ models: Array<{ id: string }> }>;
    modelIds = providers.flatMap((provider) => provider.models.map((model) => model.id));
    expect(modelIds).to.include('MiniMax-M2.5');
  });
  after(async () => {
    await session?.close();
    await platform?.stop();
  });
  afterEach(() => expect(session.pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]));

  const chat = (user: TestUser, agentId: string, content = 'When are you open?') =>
    api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/chat`, { token: user.token, body: { messages: [{ role: 'user', content }] } });

  function expectPlain(text: string, where: string): void {
    for (const model of modelIds) expect(text, `${where} names the model ${model}`).not.to.contain(model);
    expect(text, `${where} says "tokens" outside Details`).not.to.match(/tokens?\b/i);
    // A cost field (the provider's or platform's cost); the owner's own overage cap ("… may cost per month") is the customer's money.
    expect(text, `${where} shows a cost`).not.to.match(/\bcost\b(?! per month)/i);
    expect(text, `${where} says "no charges"`).not.to.match(/no charges|nothing is charged/i);
  }

  for (const { name, viewport } of WIDTHS) {
    it(`${name}: a managed agent's screens and export are in plain words; tokens only in Details; limits in conversations or dollars`, async () => {
      const owner = await registerUser(platform.url, 'Priya Plain');
      const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
      expect((await chat(owner, agent.id)).status).to.equal(200);
      await platform.platform.meter.drain();
      const context = await session.newContext({ viewport, token: owner.token, workspaceId: owner.workspace.id });
      const page = await context.newPage();

      await page.goto(`${platform.url}/#/dashboard`);
      const row = page.locator(`[data-agent-id="${agent.id}"]`);
      await row.waitFor();
      expect(await row.locator('[data-health="sandbox"]').count()).to.equal(1);
      expect(await row.innerText()).to.match(/of 5,000 conversations/);
      expectPlain(await textOutsideDetails(page), 'the dashboard');
      expect(await page.locator('[data-stat="due"]').innerText()).to.contain('billing simulated');
      await screenshot(page, `x1-${name}-dashboard-plain`);

      await page.goto(`${platform.url}/#/agents/${agent.id}`);
      await page.getByLabel('Message').fill('Do you deliver?');
      await page.getByLabel('Message').press('Enter');
      await page.locator('.bubble-assistant[data-usage]').waitFor();
      // What the reply cost in the plan's words (the server prices it: "included in the plan" inside the allowance).
      expect(await page.locator('.bubble-assistant .bubble-meta').innerText()).to.match(/included in the plan|Counted in the plan’s usage/);
      expectPlain(await textOutsideDetails(page), 'the playground');
      await page.locator('.bubble-assistant .bubble-meta summary').click();
      expect(await page.locator('.bubble-assistant .bubble-meta').innerText()).to.match(/\d+ tokens/);
      await screenshot(page, `x2-${name}-playground-plain`);

      for (const tab of ['AI setting', 'Usage', 'API access', 'Settings']) {
        await page.getByRole('tab', { name: tab }).click();
        await page.locator('.tab-panel > *').first().waitFor();
        if (tab === 'Usage') await page.locator('[data-testid="usage-details"]').waitFor();
        expectPlain(await textOutsideDetails(page), `the ${tab} tab`);
      }
      await page.getByRole('tab', { name: 'Usage' }).click();
      const details = page.locator('[data-testid="usage-details"]');
      await details.waitFor();
      expect(await page.locator('.tab-panel').innerText()).to.match(/of 5,000 conversations/);
      await details.locator('summary').click();
      expect(await details.innerText()).to.match(/tokens this month \(\d+ in, \d+ out\)/);
      await screenshot(page, `x3-${name}-usage-details`);

      // The limit in the plan's unit: 2,000 conversations, then $13 a month (Pro: $10 fee, $3 per extra million).
      await page.getByRole('tab', { name: 'Settings' }).click();
      await page.getByLabel('Monthly limit').fill('2000');
      await page.getByRole('button', { name: 'Save limit' }).click();
      await page.getByText('Limit saved.').waitFor();
      expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token })).body.limits.monthlyTokenCap).to.equal(2_000_000);
      await page.getByLabel('Dollars a month').check();
      expect(await page.getByLabel('Monthly limit').inputValue()).to.equal('10');
      await page.getByLabel('Monthly limit').fill('9');
      await page.getByRole('button', { name: 'Save limit' }).click();
      await page.getByText('The plan fee alone is $10.00 a month').waitFor();
      await page.getByLabel('Monthly limit').fill('13');
      await page.getByRole('button', { name: 'Save limit' }).click();
      await page.waitForFunction(
        async ({ url, token }) => (await (await fetch(url, { headers: { authorization: `Bearer ${token}` } })).json()).limits.monthlyTokenCap === 6_000_000,
        { url: `${platform.url}/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, token: owner.token },
      );
      expectPlain(await textOutsideDetails(page), 'the limit form');
      await screenshot(page, `x4-${name}-limit-in-dollars`);

      // The customer's export: the managed call carries no provider, model, cost or pool credential.
      await page.goto(`${platform.url}/#/dashboard`);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export CSV' }).click()]);
      const csv = fs.readFileSync((await download.path())!, 'utf8');
      const [header, ...lines] = csv.trim().split('\n');
      expect(lines.length).to.be.greaterThan(1);
      expect(header!.split(',')).not.to.include('credential');
      for (const line of lines) {
        for (const model of modelIds) expect(line).not.to.contain(model);
        expect(line).not.to.match(/pool:|minimax|openai|anthropic/i);
        const cells = Object.fromEntries(line.split(',').map((cell, index) => [header!.split(',')[index], cell]));
        expect([cells.provider, cells.model, cells.costInputUsd, cells.costOutputUsd, cells.costTotalUsd]).to.deep.equal(['', '', '', '', '']);
      }
      expect(await horizontalOverflow(page)).to.be.at.most(0);
      await context.close();
    });

    it(`${name}: health on the header, the card and the composer — a rejected key and a paused agent explain and link to the fix`, async () => {
      const owner = await registerUser(platform.url, 'Hugo Health');
      const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-browser-invalid-key' }, { name: 'Key agent' });
      const paused = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }, { name: 'Paused agent' });
      await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${paused.id}`, { token: owner.token, body: { status: 'paused' } });
      const context = await session.newContext({ viewport, token: owner.token, workspaceId: owner.workspace.id });
      const page = await context.newPage();

      // The first message fails; then the composer explains instead of failing message by message.
      await page.goto(`${platform.url}/#/agents/${byok.id}`);
      expect(await page.locator('.page-header [data-health]').getAttribute('data-health')).to.equal('active');
      await page.getByLabel('Message').fill('hello');
      await page.getByLabel('Message').press('Enter');
      const blocked = page.locator('.composer-blocked[data-health="key_rejected"]');
      await blocked.waitFor();
      expect(await page.locator('textarea[name="message"]').count()).to.equal(0);
      expect(await blocked.innerText()).to.match(/Key rejected: messages cannot be sent/);
      expect(await page.locator('.page-header [data-health]').getAttribute('data-health')).to.equal('key_rejected');
      expect(await page.locator('.health-callout[data-health="key_rejected"]').count()).to.equal(1);
      await screenshot(page, `x5-${name}-composer-key-rejected`);
      await blocked.getByRole('button', { name: 'Replace the key in AI setting' }).click();
      await page.waitForURL(/tab=setting/);
      expect(await page.getByRole('tab', { name: 'AI setting' }).getAttribute('aria-selected')).to.equal('true');

      await page.goto(`${platform.url}/#/agents/${paused.id}`);
      const pausedBlock = page.locator('.composer-blocked[data-health="paused"]');
      await pausedBlock.waitFor();
      await screenshot(page, `x6-${name}-composer-paused`);
      await pausedBlock.getByRole('button', { name: 'Resume it in Settings' }).click();
      await page.getByRole('button', { name: 'Resume agent' }).click();
      await page.locator('.page-header [data-health="sandbox"]').waitFor();
      await page.getByRole('tab', { name: 'Playground' }).click();
      await page.getByLabel('Message').waitFor();

      await page.goto(`${platform.url}/#/dashboard`);
      await page.locator(`[data-agent-id="${byok.id}"] [data-health="key_rejected"]`).waitFor();
      expect(await page.locator(`[data-agent-id="${paused.id}"] [data-health]`).getAttribute('data-health')).to.equal('sandbox');
      expect(await horizontalOverflow(page)).to.be.at.most(0);
      await screenshot(page, `x7-${name}-dashboard-health`);
      await context.close();
    });

    it(`${name}: BYOK setup — no base URL for OpenAI, a sandbox key tested before saving, a local endpoint explained, then an agent that works offline`, async () => {
      const builder = await registerUser(platform.url, 'Bea Byok');
      const context = await session.newContext({ viewport, token: builder.token, workspaceId: builder.workspace.id });
      const page = await context.newPage();
      await page.goto(`${platform.url}/#/agents/new`);
      await page.locator('label[data-template="faq-bot"]').click();
      await page.getByLabel('Business name').fill('Bea Bikes');
      await page.locator('label[data-mode="byok"]').click();
      await page.getByLabel('Provider').selectOption('openai');
      expect(await page.getByLabel('Base URL').isVisible()).to.equal(false);
      const hint = page.locator('.sandbox-key-hint');
      expect(await hint.innerText()).to.contain('sk-sandbox-demo');

      await page.getByLabel('API key', { exact: true }).fill('sk-sandbox-invalid');
      await page.getByRole('button', { name: 'Test key' }).click();
      await page.locator('[data-testid="key-test"][data-status="invalid"]').waitFor();
      await hint.getByRole('button', { name: 'Use the sandbox key' }).click();
      expect(await page.getByLabel('API key', { exact: true }).inputValue()).to.equal('sk-sandbox-demo');
      await page.getByRole('button', { name: 'Test key' }).click();
      const works = page.locator('[data-testid="key-test"][data-status="valid"]');
      await works.waitFor();
      expect(await works.innerText()).to.match(/Works \(sandbox\)/);
      await screenshot(page, `x8-${name}-byok-key-test-sandbox`);

      // A local server: the help names Ollama, vLLM, LM Studio and the operator setting; the test names it too.
      await page.getByLabel('Provider').selectOption('custom');
      expect(await page.getByLabel('Base URL').isVisible()).to.equal(true);
      const local = page.locator('.local-endpoints-help');
      expect(await local.innerText()).to.match(/Ollama[\s\S]*vLLM[\s\S]*LM Studio[\s\S]*ALLOW_PRIVATE_BASE_URLS=true/);
      await page.getByLabel('Model name').fill('llama3.1:8b');
      await page.getByLabel('Base URL').fill('http://localhost:11434/v1');
      await page.getByLabel('API key', { exact: true }).fill('ollama-local-key');
      await page.getByRole('button', { name: 'Test key' }).click();
      const refused = page.locator('[data-testid="key-test"][data-status="refused"]');
      await refused.waitFor();
      expect(await refused.innerText()).to.contain('ALLOW_PRIVATE_BASE_URLS=true');
      expect(await refused.innerText()).not.to.match(/must use https/);
      await screenshot(page, `x9-${name}-byok-local-endpoint`);

      // Back to OpenAI with the sandbox key: the agent is created and answers offline.
      await page.getByLabel('Provider').selectOption('openai');
      await page.getByLabel('Model', { exact: true }).selectOption('gpt-4o-mini');
      await page.getByLabel('API key', { exact: true }).fill('sk-sandbox-demo');
      await page.getByRole('button', { name: 'Create agent' }).click();
      await page.waitForURL(/tab=setting/);
      await page.locator('.page-header [data-health="sandbox"]').waitFor();
      await page.getByRole('button', { name: 'Test connection' }).click();
      await page.locator('[data-testid="connection-status"][data-status="valid"]').waitFor();
      expect(await page.locator('[data-testid="connection-status"]').innerText()).to.contain('sandbox');
      await page.getByRole('tab', { name: 'Playground' }).click();
      await page.getByLabel('Message').fill('hello');
      await page.getByLabel('Message').press('Enter');
      await page.locator('.bubble-assistant[data-usage]').waitFor();
      expect(await page.locator('.bubble-assistant .bubble-text').innerText()).to.match(/sandbox reply/i);
      expect(await horizontalOverflow(page)).to.be.at.most(0);
      await screenshot(page, `x10-${name}-byok-sandbox-agent`);
      await context.close();
    });
  }

  it('375 px: the alerts popover stays inside the screen, the agent tabs scroll with a visible hint, and no screen scrolls sideways', async () => {
    const owner = await registerUser(platform.url, 'Mia Mobile');
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-mobile-invalid-key' });
    expect((await chat(owner, agent.id)).status).to.equal(424); // raises a key_invalid alert
    const context = await session.newContext({ viewport: PHONE, token: owner.token, workspaceId: owner.workspace.id });
    const page = await context.newPage();
    const inViewport = async (selector: string) => {
      const box = (await page.locator(selector).boundingBox())!;
      return box.x >= 0 && box.x + box.width <= PHONE.width;
    };

    await page.goto(`${platform.url}/#/dashboard`);
    await page.locator(`[data-agent-id="${agent.id}"]`).waitFor();
    await page.getByRole('button', { name: /Alerts/ }).click();
    await page.locator('.alerts-panel .alert-item').first().waitFor();
    expect(await inViewport('.alerts-panel'), 'alerts popover inside the viewport').to.equal(true);
    await page.screenshot({ path: `${process.cwd()}/test-results/screenshots/x11-375-alerts-popover.png` });
    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'Account' }).click();
    expect(await inViewport('[role="menu"]'), 'account menu inside the viewport').to.equal(true);
    await page.keyboard.press('Escape');

    await page.goto(`${platform.url}/#/agents/${agent.id}`);
    const hint = page.locator('.scroll-hint:has(> .tabs)');
    await hint.waitFor();
    await page.waitForFunction(() => document.querySelector('.scroll-hint:has(> .tabs)')?.getAttribute('data-more-after') === 'true');
    const more = page.getByRole('button', { name: 'More agent sections' });
    expect(await more.isVisible()).to.equal(true);
    await screenshot(page, 'x12-375-tabs-hint');
    // Each press of the arrow shows more tabs, until the last one is in view and the arrow goes away.
    for (let press = 0; press < 8 && (await hint.getAttribute('data-more-after')) === 'true'; press++) {
      await more.click();
      await page.waitForTimeout(400);
    }
    expect(await hint.getAttribute('data-more-after')).to.equal('false');
    const lastTab = page.getByRole('tab').last();
    const lastBox = (await lastTab.boundingBox())!;
    expect(lastBox.x + lastBox.width, 'last tab in view').to.be.at.most(PHONE.width);
    for (const tab of ['API access', 'Settings']) {
      await page.getByRole('tab', { name: tab }).click();
      const box = (await page.getByRole('tab', { name: tab }).boundingBox())!;
      expect(box.x, `${tab} tab in view`).to.be.at.least(0);
      expect(box.x + box.width, `${tab} tab in view`).to.be.at.most(PHONE.width);
    }
    expect(await hint.getAttribute('data-more-before')).to.equal('true');
    await page.getByRole('tab', { name: 'Settings' }).click();
    await screenshot(page, 'x13-375-tabs-scrolled');

    const screens = ['#/dashboard', '#/agents/new', '#/members', ...['', '?tab=setting', '?tab=usage', '?tab=api', '?tab=settings'].map((tab) => `#/agents/${agent.id}${tab}`)];
    for (const screen of screens) {
      await page.goto(`${platform.url}/${screen}`);
      await page.locator('.page-title').first().waitFor();
      await page.waitForTimeout(100);
      expect(await horizontalOverflow(page), `${screen} scrolls sideways`).to.be.at.most(0);
    }
    await context.close();
    // Signed out: sign-up and sign-in.
    const visitor = await session.newContext({ viewport: PHONE });
    const signedOut = await visitor.newPage();
    for (const [screen, heading] of [['#/signup', 'Create your account'], ['#/login', 'Welcome back']] as const) {
      await signedOut.goto(`${platform.url}/${screen}`);
      await signedOut.locator('main h1, main h2').first().waitFor();
      expect(await signedOut.locator('main').innerText(), screen).to.contain(heading.split(' ')[0]);
      expect(await horizontalOverflow(signedOut), `${screen} scrolls sideways`).to.be.at.most(0);
    }
    await visitor.close();
  });
});
