// The answer cache, experiments, side-by-side comparison and feedback in a real Chromium against a real platform.
import path from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import type { Browser, Page } from 'playwright-core';
import { api, createAgent, createAgentApiKey, type TestPlatform, type TestUser } from '../support/test-platform';
import { SCREENSHOTS, signInOnLoad } from '../support/browser';
import { platformInChromium } from '../support/platform-in-chromium';

describe('answer cache, experiments and comparison (real browser)', function () {
  this.timeout(60_000);
  const inChromium = platformInChromium({ setupTimeoutMs: 120_000 });
  let platform: TestPlatform;
  let browser: Browser;
  let owner: TestUser;
  const pageErrors: string[] = [];

  before(() => ({ platform, browser, owner } = inChromium));

  afterEach(() => {
    expect(pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]);
  });

  async function openAgent(agentId: string, tab: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await signInOnLoad(context, { token: owner.token, workspaceId: owner.workspace.id }, { replace: true });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${platform.url}/#/agents/${agentId}${tab === 'playground' ? '' : `?tab=${tab}`}`);
    return page;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('turns the answer cache on in plain words, and a repeated question is answered from it', async () => {
    const agent = await createAgent(platform.url, owner);
    const page = await openAgent(agent.id, 'cache');
    await page.getByRole('heading', { name: 'Answer cache' }).waitFor();
    expect(await page.getByLabel('Reuse answers', { exact: true }).inputValue()).to.equal('off');
    await page.getByLabel('Reuse answers', { exact: true }).selectOption('semantic');
    await page.getByLabel('How similar a question must be', { exact: false }).fill('0.9');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved. Repeat questions are now answered from saved answers', { exact: false }).waitFor();

    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'How do I reset my password?' }] });
    await client.chat.completions.create({ model: 'agent', messages: [{ role: 'user', content: 'How can I reset my password?' }] });
    await page.reload();
    await page.getByText('questions answered from them', { exact: false }).waitFor();
    const stats = await page.locator('.summary-grid').innerText();
    expect(stats).to.match(/1\s+saved answers · 1\s+questions answered from them/);
    // A managed agent: by meaning, in plain words; the embeddings model for builders inside "Details" (#18).
    expect(stats).to.match(/recognised by their meaning/);
    await page.locator('.summary-grid summary', { hasText: 'Details' }).click();
    expect(await page.locator('.summary-grid').innerText()).to.match(/embeddings \(/);
    await screenshot(page, 'cache-01-answer-cache-tab');

    // Out-of-range threshold: a plain message, nothing saved.
    await page.getByLabel('How similar a question must be', { exact: false }).fill('1.5');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Choose a value above 0 and at most 1.').waitFor();
    const setting = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/cache`, { token: owner.token });
    expect(setting.body.setting.similarityThreshold).to.equal(0.9);
    await page.context().close();
  });

  it('compares settings side by side in the playground and rates an answer', async () => {
    const agent = await createAgent(platform.url, owner);
    const page = await openAgent(agent.id, 'playground');
    await page.getByRole('heading', { name: 'Compare settings side by side' }).waitFor();
    await page.getByLabel('Question').fill('What is your refund policy?');
    await page.getByLabel('Setting 3').selectOption({ label: 'Ultra plan' });
    await page.getByRole('button', { name: 'Compare' }).click();
    await page.locator('.compare-card').nth(2).waitFor();
    const cards = await page.locator('.compare-card').allInnerTexts();
    expect(cards).to.have.length(3);
    // A managed agent's answers say their price and time; tokens only inside "Details" (#18).
    for (const card of cards) expect(card, card).to.match(/refund policy[\s\S]*\$[\d.]+ · [\d,]+ ms · Details/i);
    await page.locator('.compare-card').first().locator('summary', { hasText: 'Details' }).click();
    expect(await page.locator('.compare-card').first().innerText()).to.match(/\d+ tokens · \d+ in, \d+ out/);
    await page.locator('.compare-card').first().getByRole('button', { name: 'Good answer' }).click();
    await page.locator('.compare-card').first().getByText('Thanks!').waitFor();
    await screenshot(page, 'cache-02-compare-side-by-side');
    const requestId = await page.locator('.compare-card').first().getAttribute('data-request-id');
    const feedback = await platform.platform.models.Feedback.findOne({ requestId }).lean();
    expect(feedback?.rating).to.equal('up');

    // Thumbs on a playground reply too.
    await page.getByLabel('Message').fill('Hello!');
    await page.getByLabel('Message').press('Enter');
    await page.locator('.bubble-assistant[data-usage] .feedback').waitFor();
    await page.locator('.bubble-assistant .feedback').getByRole('button', { name: 'Bad answer' }).click();
    await page.locator('.bubble-assistant .feedback').getByText('Thanks!').waitFor();
    await page.context().close();
  });

  it('creates, starts and reads an experiment, and promotes the winner', async () => {
    const agent = await createAgent(platform.url, owner);
    const page = await openAgent(agent.id, 'experiments');
    await page.getByRole('heading', { name: 'New experiment' }).waitFor();
    await page.getByLabel('Name').fill('Starter vs Pro');
    // Version A stays the current setting; version B: the Starter plan.
    await page.locator('select[name="variant1Setting"]').selectOption({ label: 'Starter plan' });
    await page.locator('input[name="variant1Weight"]').fill('40');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.getByText('must add up to 100 %', { exact: false }).waitFor();
    await page.locator('input[name="variant1Weight"]').fill('50');
    await page.getByRole('button', { name: 'Create experiment' }).click();
    await page.locator('.experiment[data-status="draft"]').waitFor();
    await page.locator('.experiment').getByRole('button', { name: 'Start', exact: true }).click();
    await page.locator('.experiment[data-status="running"]').waitFor();

    const client = new OpenAI({ apiKey: await createAgentApiKey(platform.url, owner, agent.id), baseURL: `${platform.url}/v1`, maxRetries: 0 });
    for (let user = 0; user < 12; user += 1) await client.chat.completions.create({ model: 'agent', user: `u${user}`, messages: [{ role: 'user', content: `Hi from ${user}` }] });
    await platform.platform.meter.drain();
    await page.reload();
    await page.locator('.experiment .verdict').waitFor();
    const calls = await page.locator('.experiment tbody tr td:nth-child(2)').allInnerTexts();
    expect(calls.map(Number).reduce((sum, value) => sum + value, 0)).to.equal(12);
    expect(await page.locator('.experiment .verdict').innerText()).to.match(/Not enough calls yet/);
    await screenshot(page, 'cache-03-experiment-results');

    await page.getByRole('button', { name: 'Make Starter plan the agent’s setting' }).click();
    await page.getByText('Starter plan is now this agent’s setting.', { exact: false }).waitFor();
    await page.locator('.experiment[data-status="stopped"]').waitFor();
    const updated = await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}`, { token: owner.token });
    expect(updated.body.llm).to.deep.equal({ mode: 'managed', plan: 'starter' });
    await screenshot(page, 'cache-04-experiment-promoted');
    await page.context().close();
  });
});
