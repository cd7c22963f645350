// The AI setting tab's smart-routing section (#14) in a real Chromium: a builder adds a light model on another
// provider and picks Balanced, the savings update live as calls are answered; a managed owner reads plain words.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { buildClientIfStale, launchChromium, SCREENSHOTS, signInOnLoad } from '../support/browser';

describe('smart routing in the AI setting tab (real browser)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let browser: Browser;
  let catalogDir: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    buildClientIfStale();
    catalogDir = fs.mkdtempSync(path.join(os.tmpdir(), 'routing-catalog-'));
    const catalogFile = path.join(catalogDir, 'catalog.json');
    fs.writeFileSync(catalogFile, JSON.stringify({ plans: [{ id: 'pro', routing: 'balanced' }] }));
    [platform, browser] = await Promise.all([startTestPlatform({ env: { CATALOG_FILE: catalogFile } }), launchChromium()]);
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
    fs.rmSync(catalogDir, { recursive: true, force: true });
  });
  afterEach(() => expect(pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]));

  async function openSettingTab(user: TestUser, agentId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await signInOnLoad(context, { token: user.token, workspaceId: user.workspace.id });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${platform.url}/#/agents/${agentId}?tab=setting`);
    await page.locator('[data-testid="routing-panel"]').waitFor();
    return page;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  const chat = (user: TestUser, agentId: string, content: string) =>
    api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agentId}/chat`, { token: user.token, body: { messages: [{ role: 'user', content }] } });

  it('a builder adds a light model on another provider, picks Balanced (each setting explained), and the savings update live', async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o', apiKey: 'sk-browser-main-key-0001' });
    const page = await openSettingTab(owner, agent.id);
    const panel = page.locator('[data-testid="routing-panel"]');
    expect(await panel.locator('[data-testid="light-model"]').innerText()).to.include('No light model yet');
    expect(await panel.locator('[data-testid="routing-form"]').count(), 'no routing choices before a light model exists').to.equal(0);

    const form = panel.locator('[data-testid="light-model-form"]');
    await form.getByLabel('Provider').selectOption('anthropic');
    await form.getByLabel('Model', { exact: true }).selectOption('claude-haiku-4-5');
    await form.getByLabel('API key').fill('sk-ant-browser-light-key-0001');
    await form.getByRole('button', { name: 'Add light model' }).click();
    await panel.locator('[data-testid="light-model"]', { hasText: 'Anthropic claude-haiku-4-5' }).waitFor();
    expect(await page.content()).to.not.include('sk-ant-browser-light-key-0001');

    const routingForm = panel.locator('[data-testid="routing-form"]');
    const choices = await routingForm.locator('.routing-choice').allInnerTexts();
    expect(choices).to.have.length(4);
    for (const choice of choices) expect(choice, 'every setting is explained in a sentence').to.match(/ — .{20,}\./);
    await routingForm.getByLabel(/^Balanced/).check();
    await routingForm.getByRole('button', { name: 'Save routing' }).click();
    await panel.locator('[data-testid="routing-explanation"]', { hasText: 'Now: Balanced' }).waitFor();
    expect(await page.locator('[data-testid="routing-summary"]').innerText()).to.equal('Smart routing has not answered any request this month.');

    // Calls answered elsewhere (the API) reach this open tab over Socket.IO.
    expect((await chat(owner, agent.id, 'What are your opening hours?')).body.routing.tier).to.equal('light');
    expect((await chat(owner, agent.id, 'Compare three architectures for our event pipeline, evaluate the trade-offs and recommend one with a migration plan.')).body.routing.tier).to.equal('strong');
    await page.locator('[data-testid="routing-summary"]', { hasText: '50 % of 2 routed requests went to the light model' }).waitFor({ timeout: 10_000 });
    const numbers = await page.locator('.routing-numbers').innerText();
    expect(numbers).to.include('1 of 2 (50 %)');
    await screenshot(page, 'routing-01-byok-light-model-balanced');
    await page.context().close();
  });

  it("a managed owner on a plan with routing sees plain words and can choose 'always the most capable model'", async () => {
    const owner = await registerUser(platform.url);
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    for (const content of ['Do you ship to Canada?', 'Thanks!', 'Write a 1,200-word blog post on cutting food waste, with headings and a checklist.']) {
      expect((await chat(owner, agent.id, content)).status).to.equal(200);
    }
    await platform.platform.meter.drain();
    const page = await openSettingTab(owner, agent.id);
    await page.locator('[data-testid="routing-summary"]', { hasText: 'Smart routing answered 67 % of questions with the faster model.' }).waitFor();
    const routingForm = page.locator('[data-testid="routing-form"]');
    expect(await routingForm.getByLabel(/^Plan default/).isChecked()).to.equal(true);
    await screenshot(page, 'routing-02-managed-plain-words');
    await routingForm.getByLabel(/Always the most capable model/).check();
    await routingForm.getByRole('button', { name: 'Save routing' }).click();
    await page.locator('[data-testid="routing-explanation"]', { hasText: 'Now: Every request goes to the main (most capable) model.' }).waitFor();
    const reloaded = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token });
    expect(reloaded.body.routing).to.include({ alwaysStrong: true, effectiveSetting: 'off' });
    await page.context().close();
  });
});
