// Publishing in a real Chromium: the widget embedded in pages served from a second local origin (listed: it works,
// streams, stays keyboard and screen-reader friendly, isolated from the page's styles) and a third (refused); the
// share page at 375 px; answers with <script>, an onerror image and a javascript: link rendered inert; the owner's
// Publish tab (publish, settings, visitors' usage), Conversations tab and a workspace template round trip.
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { Types } from 'mongoose';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { buildClientIfStale, launchChromium, SCREENSHOTS, signInOnLoad } from '../support/browser';

/** A customer's website on its own local origin, with hostile styles, embedding the snippet. */
async function hostSite(snippet: string): Promise<{ origin: string; close(): Promise<void> }> {
  const page = `<!doctype html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><title>Shop</title>
<style>* { font-size: 40px !important; color: rgb(255, 0, 0) !important; } button { display: none !important; } div { border: 5px solid lime !important; }</style></head>
<body><h1>Our shop</h1><p>Welcome.</p>${snippet}</body></html>`;
  const server = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end(page));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('published chats (real browser)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let browser: Browser;
  let owner: TestUser;
  const pageErrors: string[] = [];
  const sites: Array<{ close(): Promise<void> }> = [];

  before(async function () {
    this.timeout(180_000);
    buildClientIfStale({ widget: true });
    [platform, browser] = await Promise.all([startTestPlatform({ publicChatLimits: { visitorRequestsPerMinute: 1000, addressRequestsPerMinute: 1000 } }), launchChromium()]);
    owner = await registerUser(platform.url);
  });
  after(async () => {
    for (const site of sites) await site.close();
    await browser?.close();
    await platform?.stop();
  });
  afterEach(() => {
    const errors = pageErrors.splice(0);
    expect(errors, 'uncaught errors in the page').to.deep.equal([]);
  });

  async function newContext(viewport = { width: 1280, height: 860 }, token?: string): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    if (token) {
      await signInOnLoad(context, { token, workspaceId: owner.workspace.id });
    }
    context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`)));
    return context;
  }

  const shot = (page: Page, name: string, fullPage = false) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage });

  async function publish(agentId: string, settings: Record<string, unknown>): Promise<string> {
    const patched = await api(platform.url, 'PATCH', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/publishing`, { token: owner.token, body: settings });
    expect(patched.status, patched.text).to.equal(200);
    return (await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${agentId}/publishing/publish`, { token: owner.token })).body.slug;
  }

  async function waitForReply(page: Page, count: number): Promise<string> {
    const replies = page.locator('.message.assistant:not([aria-busy])');
    await page.waitForFunction(
      (expected) => {
        const root = document.querySelector('[data-agent-host-chat]')?.shadowRoot;
        return (root?.querySelectorAll('.message.assistant:not([aria-busy])').length ?? 0) >= expected && !root?.querySelector('[aria-busy]');
      },
      count,
    );
    return replies.nth(count - 1).innerText();
  }

  it('works on a listed site (streamed, keyboard, isolated styles) and is refused on another (403)', async () => {
    const agent = await createAgent(platform.url, owner);
    const allowedSite = await hostSite('');
    sites.push(allowedSite);
    const slug = await publish(agent.id, { displayName: 'Acme helper', greeting: 'Hi! Ask me about **opening hours**.', suggestedQuestions: ['When are you open?'], accentColor: '#0f766e', allowedOrigins: [allowedSite.origin] });
    const snippet = `<script src="${platform.url}/widget.js" data-agent="${slug}" async></script>`;
    await allowedSite.close();
    sites.pop();
    const allowed = await hostSite(snippet);
    const refused = await hostSite(snippet);
    sites.push(allowed, refused);
    await publish(agent.id, { allowedOrigins: [allowed.origin] });

    const context = await newContext();
    const page = await context.newPage();
    await page.goto(allowed.origin);
    const bubble = page.getByRole('button', { name: 'Chat with Acme helper' });
    await bubble.waitFor();
    expect(await bubble.getAttribute('aria-expanded')).to.equal('false');
    // Keyboard: Tab reaches the bubble, Enter opens the dialog with the focus in the message box.
    await bubble.focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Acme helper' });
    await dialog.waitFor();
    expect(await bubble.getAttribute('aria-expanded')).to.equal('true');
    const box = page.getByLabel('Message to Acme helper');
    expect(await box.evaluate((element) => element === (element.getRootNode() as ShadowRoot).activeElement)).to.equal(true);
    expect(await page.locator('.message.assistant strong').first().innerText()).to.equal('opening hours');
    // The page's styles stay out: the widget's text keeps its own size and colour, its buttons show.
    const greetingStyle = await page.locator('.message.assistant').first().evaluate((element) => ({ size: getComputedStyle(element).fontSize, color: getComputedStyle(element).color, border: getComputedStyle(element).borderTopColor }));
    expect(greetingStyle.size).to.equal('15px');
    expect(greetingStyle.color, 'its own text colour, not the page’s red').to.equal('rgb(15, 23, 42)');
    expect(greetingStyle.border).to.not.equal('rgb(0, 255, 0)');
    expect(await page.getByRole('button', { name: 'When are you open?' }).isVisible()).to.equal(true);

    await box.fill('Do you deliver to Lyon?');
    await box.press('Enter');
    const reply = await waitForReply(page, 2);
    expect(reply).to.contain('Do you deliver to Lyon?');
    expect(await page.getByRole('log').getAttribute('aria-live')).to.equal('polite');
    await shot(page, 'publish-01-widget-allowed-origin');
    // Escape closes it and gives the focus back to the bubble.
    await page.keyboard.press('Escape');
    expect(await dialog.isHidden()).to.equal(true);
    expect(await bubble.evaluate((element) => element === (element.getRootNode() as ShadowRoot).activeElement)).to.equal(true);

    // The visitor's call is metered with its visitor id as the end user.
    const visitorId = await page.evaluate(() => localStorage.getItem('agentHost.visitorId'));
    expect(visitorId).to.match(/^v_[A-Za-z0-9_-]{22}$/);
    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: new Types.ObjectId(agent.id) }).lean();
    expect(events.map((event) => event.endUser)).to.deep.equal([visitorId]);

    // On a phone-sized screen the open chat fills the screen and nothing spills sideways.
    const phone = await newContext({ width: 375, height: 700 });
    const phonePage = await phone.newPage();
    await phonePage.goto(allowed.origin);
    await phonePage.getByRole('button', { name: 'Chat with Acme helper' }).click();
    const panelBox = await phonePage.getByRole('dialog', { name: 'Acme helper' }).boundingBox();
    expect(panelBox).to.deep.include({ x: 0, width: 375 });
    expect(await phonePage.getByRole('button', { name: 'Send' }).isVisible()).to.equal(true);
    // The bubble steps aside while the full-screen chat is open (its close button is in the header).
    expect(await phonePage.getByRole('button', { name: 'Chat with Acme helper' }).isVisible()).to.equal(false);
    await shot(phonePage, 'publish-01b-widget-375');
    await phonePage.getByRole('button', { name: 'Close chat' }).click();
    expect(await phonePage.getByRole('button', { name: 'Chat with Acme helper' }).isVisible()).to.equal(true);
    await phone.close();

    // The third origin: no bubble, the config request is refused, and a direct call gets the stable 403.
    const refusedPage = await context.newPage();
    const consoleLines: string[] = [];
    refusedPage.on('console', (message) => consoleLines.push(message.text()));
    await refusedPage.goto(refused.origin);
    await refusedPage.waitForFunction(() => document.querySelector('[data-agent-host-chat]')?.getAttribute('data-state') === 'unavailable');
    expect(await refusedPage.getByRole('button', { name: 'Chat with Acme helper' }).count()).to.equal(0);
    const direct = await api(platform.url, 'GET', `/api/public/agents/${slug}`, { headers: { origin: refused.origin } });
    expect(direct.status).to.equal(403);
    expect(direct.body.error.code).to.equal('ORIGIN_NOT_ALLOWED');
    const fromPage = await refusedPage.evaluate(async (url) => {
      try {
        await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ visitorId: 'v_aaaaaaaaaaaaaaaaaaaaaa', message: 'hi' }) });
        return 'answered';
      } catch {
        return 'blocked';
      }
    }, `${platform.url}/api/public/agents/${slug}/chat`);
    expect(fromPage).to.equal('blocked');
    await shot(refusedPage, 'publish-02-widget-refused-origin');
    await platform.platform.meter.drain();
    expect(await platform.platform.models.MeterEvent.countDocuments({ agentId: new Types.ObjectId(agent.id) })).to.equal(1);
    await context.close();
  });

  it('the share page at 375 px: fits the screen, suggested question streams an answer; a script in an answer stays inert', async () => {
    const agent = await createAgent(platform.url, owner);
    const slug = await publish(agent.id, { displayName: 'Bakery bot', greeting: 'Welcome to the bakery.', suggestedQuestions: ['Is there sourdough today?', 'Where are you?'], accentColor: '#b45309' });
    const context = await newContext({ width: 375, height: 740 });
    const page = await context.newPage();
    await page.goto(`${platform.url}/p/${slug}`);
    await page.getByRole('main', { name: 'Bakery bot' }).waitFor();
    expect(await page.title()).to.equal('Bakery bot');
    await shot(page, 'publish-03-share-page-375');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).to.be.at.most(375);
    const sendBox = await page.getByRole('button', { name: 'Send' }).boundingBox();
    expect(sendBox!.x + sendBox!.width).to.be.at.most(375);
    expect(sendBox!.height).to.be.at.least(44);
    await page.getByRole('button', { name: 'Is there sourdough today?' }).click();
    expect(await waitForReply(page, 2)).to.contain('Is there sourdough today?');
    await shot(page, 'publish-04-share-page-375-answer');

    // The simulator quotes the question back: an answer carrying a script, an onerror image and a javascript: link.
    const hostile = '<script>window.__pwned=1</script> <img/src=x/onerror=window.__pwned=2> [click](javascript:window.__pwned=3)';
    await page.getByLabel('Message to Bakery bot').fill(hostile);
    await page.getByLabel('Message to Bakery bot').press('Enter');
    await waitForReply(page, 3);
    const answer = page.locator('.message.assistant').nth(2);
    expect(await answer.locator('script, img, iframe').count()).to.equal(0);
    for (const href of await answer.locator('a').evaluateAll((links) => links.map((link) => link.getAttribute('href')))) expect(String(href)).to.not.match(/^\s*javascript:/i);
    if ((await answer.locator('a').count()) > 0) await answer.locator('a').first().click();
    // The visitor's own text is shown as text, never as HTML.
    expect(await page.locator('.message.user').nth(1).innerText()).to.equal(hostile);
    await page.waitForTimeout(200);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).to.equal(undefined);
    await shot(page, 'publish-05-inert-answer');

    // Unknown and unpublished links: a 404 page.
    const missing = await page.goto(`${platform.url}/p/${'x'.repeat(24)}`);
    expect(missing!.status()).to.equal(404);
    await context.close();
  });

  it('the owner publishes from the Publish tab, sees visitors’ usage and reads their conversations', async () => {
    const agent = await createAgent(platform.url, owner);
    const context = await newContext({ width: 1280, height: 900 }, owner.token);
    const page = await context.newPage();
    await page.goto(`${platform.url}/#/agents/${agent.id}?tab=publish`);
    await page.getByRole('tab', { name: 'Publish' }).waitFor();
    expect(await page.locator('[data-testid="publish-state"]').innerText()).to.equal('Not published');
    await page.getByLabel('Name shown to visitors').fill('Front desk');
    await page.getByLabel('Suggested first questions').fill('What are your hours?\nDo you ship abroad?');
    await page.getByLabel('Websites that may embed the chat').fill('not a site');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('.field-error:not([hidden])').first().waitFor();
    expect(await page.locator('.field-error:not([hidden])').first().innerText()).to.match(/origin/);
    await page.getByLabel('Websites that may embed the chat').fill('https://shop.example.com');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved.').waitFor();
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await page.locator('[data-testid="share-link"]').waitFor();
    const shareUrl = await page.locator('[data-testid="share-link"]').innerText();
    expect(shareUrl).to.match(/\/p\/[A-Za-z0-9_-]{24}$/);
    expect(await page.locator('[data-testid="embed-snippet"]').innerText()).to.contain('/widget.js').and.contain('data-agent=');

    // Two visitors chat on the share page.
    for (const question of ['What are your hours?', 'Do you ship abroad?']) {
      const visitorContext = await newContext({ width: 420, height: 800 });
      const visitorPage = await visitorContext.newPage();
      await visitorPage.goto(shareUrl);
      await visitorPage.getByRole('button', { name: question }).click();
      await waitForReply(visitorPage, 2);
      await visitorContext.close();
    }
    await platform.platform.meter.drain();
    await page.reload();
    await page.locator('[data-testid="visitor-usage"]').waitFor();
    expect(await page.locator('[data-testid="visitor-count"]').innerText()).to.equal('2 visitors');
    const rows = page.locator('[data-testid="visitor-usage"] tbody tr');
    expect(await rows.count()).to.equal(2);
    await shot(page, 'publish-06-publish-tab-visitors', true);

    // Conversations: both kept (managed default), searchable, filtered by visitor from the usage table.
    await rows.first().getByRole('link').click();
    await page.getByRole('tab', { name: 'Conversations' }).waitFor();
    await page.locator('[data-testid="conversation-total"]').waitFor();
    expect(await page.locator('[data-testid="conversation-total"]').innerText()).to.equal('1 conversation');
    await page.getByLabel('Visitor').fill('');
    await page.getByLabel('Search').fill('ship abroad');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="conversation-total"]')?.textContent === '1 conversation');
    await page.locator('.conversation-item').first().click();
    await page.locator('.transcript-assistant').waitFor();
    expect(await page.locator('.transcript-user').first().innerText()).to.contain('Do you ship abroad?');
    await shot(page, 'publish-07-conversations');
    page.once('dialog', (confirmation) => void confirmation.accept());
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.waitForFunction(() => document.querySelector('[data-testid="conversation-total"]')?.textContent === '0 conversations');
    await context.close();
  });

  it('saves an agent as a workspace template, edits it (an undeclared variable is named), and creates an agent from it', async () => {
    const agent = await createAgent(platform.url, owner);
    const context = await newContext({ width: 1280, height: 900 }, owner.token);
    const page = await context.newPage();
    await page.goto(`${platform.url}/#/agents/${agent.id}`);
    await page.getByRole('button', { name: 'Save as template' }).click();
    await page.getByLabel('Template name').fill('Acme FAQ');
    await page.getByRole('button', { name: 'Save template' }).click();
    await page.getByText('Saved. It is in the template gallery now.').waitFor();

    await page.goto(`${platform.url}/#/agents/new`);
    await page.getByRole('heading', { name: 'Your workspace templates' }).waitFor();
    await page.getByRole('button', { name: 'Edit template Acme FAQ' }).click();
    await page.getByLabel('Prompt (Handlebars)').fill('You answer for {{businessName}} about {{openingHours}}.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText(/"openingHours", which is not declared/).waitFor();
    await shot(page, 'publish-08-template-undeclared');
    await page.getByLabel('Prompt (Handlebars)').fill('You answer questions for {{businessName}}. Be brief.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.locator('dialog').waitFor({ state: 'detached' });

    const card = page.locator('label.template-card', { hasText: 'Acme FAQ' });
    await card.waitFor();
    expect(await card.innerText()).to.contain('Your workspace');
    await card.click();
    expect(await page.getByLabel('Business name').inputValue()).to.equal('Acme & Sons');
    await page.getByLabel('Agent name').fill('From my template');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/#\/agents\/[0-9a-f]+/);
    const created = /#\/agents\/([0-9a-f]+)/.exec(page.url())![1]!;
    const record = await platform.platform.models.Agent.findById(created).lean();
    expect(record!.templateId).to.match(/^ws_/);
    expect(record!.promptTemplate!.systemPrompt).to.equal('You answer questions for {{businessName}}. Be brief.');
    await context.close();
  });
});
