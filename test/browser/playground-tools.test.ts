// The playground's tool calling in a real Chromium: the builder offers a tool, the agent's reply shows the tool call
// (name and arguments), the builder pastes the result back and the agent answers from it; JSON answers are formatted.
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { createAgent, type TestPlatform, type TestUser } from '../support/test-platform';
import { SCREENSHOTS, signInOnLoad } from '../support/browser';
import { platformInChromium } from '../support/platform-in-chromium';

describe('playground tool calls (real browser)', function () {
  this.timeout(45_000);
  const inChromium = platformInChromium({ setupTimeoutMs: 90_000 });
  let platform: TestPlatform;
  let browser: Browser;
  let owner: TestUser;
  const pageErrors: string[] = [];

  before(() => ({ platform, browser, owner } = inChromium));

  async function openPlayground(agentId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await signInOnLoad(context, { token: owner.token, workspaceId: owner.workspace.id });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`${platform.url}/#/agents/${agentId}`);
    await page.getByRole('tab', { name: 'Playground' }).click();
    await page.getByLabel('Message').waitFor();
    return page;
  }

  it('offers a tool, shows the call with its arguments, takes the pasted result and answers from it', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const page = await openPlayground(agent.id);
    await page.locator('.playground-tools summary').click();
    await page.getByRole('button', { name: 'Insert an example tool' }).click();
    await page.getByLabel('Message').fill('What is the weather in Paris?');
    await page.getByLabel('Message').press('Enter');

    const call = page.locator('.tool-call[data-tool-call="get_weather"]');
    await call.waitFor();
    expect(await call.locator('code').innerText()).to.equal('get_weather');
    expect(JSON.parse(await page.getByLabel('Arguments of get_weather').innerText())).to.deep.equal({ city: 'Paris' });
    await page.getByLabel('Result of get_weather').fill('{"temperature": 24, "sky": "clear"}');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'playground-tool-call.png'), fullPage: true });
    await page.getByRole('button', { name: 'Send tool result' }).click();

    await page.waitForFunction(() => document.querySelectorAll('.bubble-assistant[data-usage]').length >= 2);
    const answer = await page.locator('.bubble-assistant').nth(1).locator('.bubble-text').innerText();
    expect(answer).to.contain('"sky": "clear"');
    expect(await page.locator('.bubble-assistant').nth(1).locator('.bubble-meta').innerText()).to.contain('included in the plan');
    await page.screenshot({ path: path.join(SCREENSHOTS, 'playground-tool-result.png'), fullPage: true });

    await platform.platform.meter.drain();
    const events = await platform.platform.models.MeterEvent.find({ agentId: agent.id }).sort({ timestamp: 1 }).lean();
    expect(events.map((event) => event.requestType)).to.deep.equal(['tool', 'stream']);
    expect(pageErrors).to.deep.equal([]);
    await page.context().close();
  });

  it('shows JSON answers formatted', async () => {
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const page = await openPlayground(agent.id);
    await page.locator('.playground-tools summary').click();
    await page.getByLabel('Ask for JSON answers').check();
    await page.getByLabel('Message').fill('Summarise our opening hours');
    await page.getByLabel('Message').press('Enter');
    const json = page.getByLabel('JSON answer', { exact: true });
    await json.waitFor();
    const text = await json.innerText();
    expect(text).to.contain('\n  "reply": ');
    expect(JSON.parse(text).reply).to.contain('Summarise our opening hours');
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, 'playground-json-answer.png'), fullPage: true });
    expect(pageErrors).to.deep.equal([]);
    await page.context().close();
  });
});
