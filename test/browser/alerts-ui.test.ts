// The alert screens in a real Chromium: workspace thresholds, a webhook added against a real local receiver (its
// secret shown once, its delivery log filling in), an agent's own thresholds and overage limit, and a key's history.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { buildClientIfStale, launchChromium, SCREENSHOTS, signInOnLoad } from '../support/browser';

describe('alerts screens (real browser)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let browser: Browser;
  let owner: TestUser;
  let receiver: http.Server;
  let receiverUrl: string;
  const received: string[] = [];
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    buildClientIfStale();
    receiver = http.createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push(body);
        response.writeHead(received.length === 1 ? 500 : 200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/agent-host`;
    [platform, browser] = await Promise.all([
      startTestPlatform({ env: { ALLOW_PRIVATE_WEBHOOK_URLS: 'true' }, webhookDelivery: { baseDelayMs: 200, maxDelayMs: 400, pollIntervalMs: 100 } }),
      launchChromium(),
    ]);
    owner = await registerUser(platform.url, 'Alert Owner');
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });
  afterEach(() => expect(pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]));

  async function signedInPage(): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 });
    await signInOnLoad(context, { token: owner.token, workspaceId: owner.workspace.id });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  it('sets workspace thresholds, refuses a bad one in words, adds a webhook and shows its delivery log', async () => {
    const page = await signedInPage();
    // Reached from the alerts bell: "Alert settings".
    await page.goto(`${platform.url}/#/dashboard`);
    await page.getByRole('button', { name: 'Alerts' }).click();
    await page.getByRole('link', { name: 'Alert settings' }).click();
    await page.getByRole('heading', { name: 'When to alert' }).waitFor();
    const thresholds = page.getByLabel('Alert me when an agent has used this much', { exact: false });
    await expect(await thresholds.inputValue()).to.equal('80, 100');
    await thresholds.fill('50, 150');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('Whole percentages from 1 to 100', { exact: false }).first().waitFor();
    expect(await page.locator('.field-error:not([hidden])').first().textContent()).to.include('Whole percentages from 1 to 100');
    await thresholds.fill('50, 90, 100');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('Thresholds saved.').waitFor();
    expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/alert-settings`, { token: owner.token })).body.thresholds).to.deep.equal([50, 90, 100]);

    // A webhook refused by the guard says why, in words.
    await page.getByLabel('Send alerts to this address (HTTPS)').fill('https://169.254.169.254/latest');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('cloud metadata endpoint', { exact: false }).waitFor();

    await page.getByLabel('Send alerts to this address (HTTPS)').fill(receiverUrl);
    await page.getByLabel('Note (optional)').fill('Ops channel');
    await page.getByRole('button', { name: 'Add webhook' }).click();
    await page.getByText('Copy the signing secret now').waitFor();
    const secret = await page.locator('.secret-value').textContent();
    expect(secret).to.match(/^whsec_/);
    await page.getByRole('button', { name: 'Send a test' }).click();
    await page.getByText('Test event queued', { exact: false }).waitFor();
    // The receiver refuses the first try; the log shows the retry, then the delivery.
    for (let attempt = 0; attempt < 40 && received.length < 2; attempt += 1) await page.waitForTimeout(100);
    await page.getByRole('button', { name: 'Refresh log' }).click();
    await page.locator('.delivery-log').getByText('Delivered', { exact: true }).waitFor();
    expect(await page.locator('.delivery-log').textContent()).to.include('2 tries');
    await screenshot(page, 'alerts-settings-webhook');
    // Reloaded, the secret is gone: it was shown once.
    await page.reload();
    await page.locator('.webhook-url').waitFor();
    expect(await page.content()).to.not.include(secret!);
    await page.context().close();
  });

  it("an agent's own thresholds and overage limit in Settings, and the key's history on the AI setting tab", async () => {
    const managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' });
    const page = await signedInPage();
    await page.goto(`${platform.url}/#/agents/${managed.id}?tab=settings`);
    const own = page.getByLabel('Alert at these percentages', { exact: false });
    await own.fill('0');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.locator('.field-error:not([hidden])').first().waitFor();
    await own.fill('70');
    await page.getByRole('button', { name: 'Save thresholds' }).click();
    await page.getByText('Thresholds saved.').waitFor();
    await page.getByLabel('Most overage may cost per month (USD)').fill('2.5');
    await page.getByRole('button', { name: 'Save overage limit' }).click();
    await page.getByText('Overage limit saved.').waitFor();
    const stored = (await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/agents/${managed.id}`, { token: owner.token })).body;
    expect(stored.alertThresholds).to.deep.equal([70]);
    expect(stored.limits.monthlyOverageBudgetUsd).to.equal(2.5);
    await screenshot(page, 'agent-settings-alerts');

    const byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-ui-rate-limited' });
    const key = await createAgentApiKey(platform.url, owner, byok.id);
    const chat = () => api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: 'hi' }], max_tokens: 10 } });
    expect((await chat()).status).to.equal(200);
    platform.simulator.faults.script('openai', Array.from({ length: 4 }, () => ({ status: 429, retryAfterMs: 10 })), { apiKey: 'sk-test-ui-rate-limited' });
    expect((await chat()).status).to.equal(429);
    await page.goto(`${platform.url}/#/agents/${byok.id}?tab=setting`);
    const line = page.getByTestId('key-health-line');
    await line.getByText('rate limited by the provider', { exact: false }).waitFor();
    expect(await line.textContent()).to.include('noticed during a call');
    await screenshot(page, 'agent-ai-setting-key-history');
    await page.context().close();
  });
});
