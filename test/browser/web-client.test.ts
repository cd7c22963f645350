// The web client in a real Chromium against a real in-process platform (built-in store, provider simulator).
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { buildClientIfStale, launchChromium, SCREENSHOTS, signInOnLoad } from '../support/browser';
import { PasswordResetService } from '../../server/auth/password-reset.service';

describe('web client (real browser)', function () {
  this.timeout(45_000);
  let platform: TestPlatform;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(90_000);
    buildClientIfStale();
    [platform, browser] = await Promise.all([startTestPlatform(), launchChromium()]);
  });

  after(async () => {
    await browser?.close();
    await platform?.stop();
  });

  afterEach(() => {
    const errors = pageErrors.splice(0);
    expect(errors, 'uncaught errors in the page').to.deep.equal([]);
  });

  async function newContext(options: { viewport?: { width: number; height: number }; token?: string; workspaceId?: string } = {}): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport: options.viewport ?? { width: 1280, height: 860 }, deviceScaleFactor: 1 });
    if (options.token) {
      await signInOnLoad(context, { token: options.token, workspaceId: options.workspaceId });
    }
    context.on('page', watchPage);
    return context;
  }

  function watchPage(page: Page): void {
    page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`));
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    // Full-page captures draw the sticky header where the page is scrolled to: start from the top.
    await page.bringToFront(); // a background tab renders slowly
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async function pickTemplateAndFill(page: Page, templateId: string, values: Record<string, string>): Promise<void> {
    await page.goto(`${platform.url}/#/agents/new`);
    await page.locator(`label[data-template="${templateId}"]`).click();
    for (const [label, value] of Object.entries(values)) await page.getByLabel(label, { exact: false }).first().fill(value);
  }

  async function sendMessage(page: Page, text: string, expectedReplies: number): Promise<number> {
    await page.getByLabel('Message').fill(text);
    await page.getByLabel('Message').press('Enter');
    const replies = page.locator('.bubble-assistant[data-usage]');
    await page.waitForFunction((count) => document.querySelectorAll('.bubble-assistant[data-usage]').length >= count, expectedReplies);
    return Number(await replies.nth(expectedReplies - 1).getAttribute('data-usage'));
  }

  it('signs up, creates a Pro agent from faq-bot, chats in the playground, and the dashboard grows live', async () => {
    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${platform.url}/#/signup`);
    await screenshot(page, '01-signup');
    await page.getByLabel('Your name').fill('Dana Owner');
    await page.getByLabel('Email').fill(`dana-${Date.now()}@example.com`);
    await page.getByLabel('Password').fill('a long enough password');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    await page.getByText('No agents yet').waitFor();

    await page.getByRole('link', { name: 'New agent' }).first().click();
    await page.locator('label[data-template="faq-bot"]').click();
    await page.getByLabel('Business name').fill('Acme Bakery');
    await page.getByLabel(/Facts the bot may use/).fill('Open 8–18 Monday to Saturday. Sourdough $6.');
    // The template suggests Starter; the cards are a radio group, so the arrow keys move to Pro.
    expect(await page.locator('label[data-plan="starter"] input').isChecked()).to.equal(true);
    await page.locator('label[data-plan="starter"] input').focus();
    await page.keyboard.press('ArrowRight');
    expect(await page.locator('label[data-plan="pro"] input').isChecked()).to.equal(true);
    await page.locator('label[data-plan="pro"]').click();
    expect(await page.locator('label[data-plan="pro"] input').isChecked()).to.equal(true);
    expect(await page.locator('label[data-plan="pro"] .badge-popular').textContent()).to.equal('Popular');
    // The plan screen speaks plainly: no model names, no "tokens".
    const planText = (await page.locator('.plan-picker').innerText()).toLowerCase();
    expect(planText).not.to.match(/token|gpt|claude|mistral|minimax/);
    await screenshot(page, '02-new-agent-plan-picker');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/#\/agents\/[0-9a-f]+/);
    const agentId = /#\/agents\/([0-9a-f]+)/.exec(page.url())![1]!;
    await page.getByRole('tab', { name: 'Playground' }).waitFor();

    // The owner's dashboard in a second page, connected live before any call is made.
    const dashboard = await context.newPage();
    await dashboard.goto(`${platform.url}/#/dashboard`);
    const row = dashboard.locator(`[data-agent-id="${agentId}"]`);
    await row.waitFor();
    await dashboard.locator('.live[data-live="true"]').waitFor();
    expect(await row.getAttribute('data-tokens')).to.equal('0');
    await dashboard.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));

    const first = await sendMessage(page, 'When are you open?', 1);
    const second = await sendMessage(page, 'How much is the sourdough?', 2);
    expect(first).to.be.greaterThan(0);
    expect(second).to.be.greaterThan(0);
    expect(await page.locator('.bubble-assistant').first().innerText()).to.match(/sandbox reply/i);
    await screenshot(page, '03-playground');

    await dashboard.waitForFunction(
      ({ id, total }) => Number(document.querySelector(`[data-agent-id="${id}"]`)?.getAttribute('data-tokens')) === total,
      { id: agentId, total: first + second },
      { timeout: 10_000 },
    );
    expect(await dashboard.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).to.equal(true);
    const width = await row.locator('.bar-fill').evaluate((element) => (element as HTMLElement).style.width);
    expect(parseFloat(width)).to.be.greaterThan(0);
    // The Pro fee prorated from the agent's creation (docs/BILLING.md), as the usage API says.
    const token = await dashboard.evaluate(() => localStorage.getItem('agentHost.token'));
    const agentRecord = await platform.platform.models.Agent.findById(agentId).lean();
    const usageNow = await api(platform.url, 'GET', `/api/workspaces/${agentRecord!.workspaceId.toString()}/usage`, { token: token! });
    expect(usageNow.body.totals.amountDueUsd).to.be.within(0.01, 10);
    expect(await dashboard.locator('[data-stat="due"] .stat-value').innerText()).to.equal(`$${usageNow.body.totals.amountDueUsd.toFixed(2)}`);
    await screenshot(dashboard, '04-dashboard-live');

    // CSV export goes through fetch with the auth header and arrives as a blob download.
    const [download] = await Promise.all([dashboard.waitForEvent('download'), dashboard.getByRole('button', { name: 'Export CSV' }).click()]);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\n')[0]).to.match(/^timestamp,requestId,agentId/);
    expect(csv.trim().split('\n')).to.have.length(3);
    // The month picker: an earlier month has no usage.
    const previousMonth = await dashboard.locator('#month-picker option').nth(1).getAttribute('value');
    await dashboard.getByLabel('Month').selectOption(previousMonth!);
    await dashboard.getByText('No usage in this month').waitFor();

    await page.getByRole('tab', { name: 'Usage' }).click();
    await page.locator('.chart-box canvas').first().waitFor();
    await page.waitForTimeout(150);
    await screenshot(page, '05-agent-usage-charts');

    await page.getByRole('tab', { name: 'API access' }).click();
    await page.getByRole('button', { name: 'Create API key' }).click();
    const key = await page.locator('[data-testid="new-api-key"]').innerText();
    expect(key).to.match(/^ak_/);
    expect(await page.locator('.code-block').first().innerText()).to.contain(`${platform.url}/v1`);
    await screenshot(page, '06-api-access');

    await page.getByRole('link', { name: 'Members' }).click();
    await page.getByRole('heading', { name: 'People and roles' }).waitFor();
    // Add a colleague, then change their role and remove them, all from the members page.
    const colleague = await registerUser(platform.url, 'Colin Colleague');
    await page.getByLabel('Email address').fill(colleague.email);
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText(`${colleague.email} was added as builder.`).waitFor();
    await page.getByLabel('Role of Colin Colleague').selectOption('admin');
    await page.getByText(`${colleague.email} is now admin.`).waitFor();
    await screenshot(page, '06b-members');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Remove Colin Colleague' }).click();
    await page.getByText(`${colleague.email} was removed.`).waitFor();
    expect(await page.locator('.member').count()).to.equal(1);
    await context.close();
  });

  it('BYOK: an invalid key tests as invalid, a good key as valid, and the key never comes back to the browser', async () => {
    const user = await registerUser(platform.url, 'Byron Builder');
    const context = await newContext({ token: user.token, workspaceId: user.workspace.id });
    const page = await context.newPage();
    const bodies: Promise<string>[] = [];
    page.on('response', (response) => bodies.push(response.text().catch(() => '')));
    const badKey = 'sk-test-invalid-key-1234';
    const goodKey = 'sk-test-good-key-5678';

    await pickTemplateAndFill(page, 'faq-bot', { 'Business name': 'Byron Bikes' });
    await page.locator('label[data-mode="byok"]').click();
    await page.getByLabel('Provider').selectOption('openai');
    await page.getByLabel('Model', { exact: true }).selectOption('gpt-4o-mini');
    expect(await page.locator('.price-note').innerText()).to.contain('$0.15');
    // Errors land next to the field they concern: first the client's own check, then the server's.
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.getByText('Paste your OpenAI API key.').waitFor();
    const keyInput = page.getByLabel('API key', { exact: true });
    await keyInput.fill('not-an-openai-key');
    await page.getByRole('button', { name: 'Create agent' }).click();
    const keyError = page.locator(`#${await keyInput.getAttribute('id')}-error`);
    await keyError.getByText(/start with "sk-"/).waitFor();
    expect(await keyInput.getAttribute('aria-invalid')).to.equal('true');
    await keyInput.fill(badKey);
    await screenshot(page, '07-byok-setup');
    await page.getByRole('button', { name: 'Create agent' }).click();
    await page.waitForURL(/tab=setting/);

    await page.getByRole('button', { name: 'Test connection' }).click();
    const status = page.locator('[data-testid="connection-status"]');
    await status.waitFor();
    expect(await status.getAttribute('data-status')).to.equal('invalid');
    expect(await status.innerText()).to.match(/Invalid key/);
    // The key_invalid alert arrives over Socket.IO: the bell counts it without a reload.
    await page.locator('.bell-count:not([hidden])').waitFor();
    expect(await page.locator('.bell-count').innerText()).to.equal('1');
    await screenshot(page, '08-byok-invalid-key');
    await page.getByRole('button', { name: /Alerts, 1 unread/ }).click();
    await page.locator('.alert-item[data-alert-type="key_invalid"]').waitFor();
    await page.screenshot({ path: path.join(SCREENSHOTS, '08b-alerts-bell.png') });
    await page.keyboard.press('Escape');

    await page.getByLabel('Replace key').fill(goodKey);
    await page.getByRole('button', { name: 'Save setting' }).click();
    await page.getByText('Saved. Run “Test connection” to check the key.').waitFor();
    expect(await page.getByLabel('Replace key').inputValue()).to.equal('');
    expect(await page.locator('.key-mask').first().innerText()).to.equal('sk-…5678');
    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.locator('[data-testid="connection-status"][data-status="valid"]').waitFor();
    expect(await page.locator('[data-testid="connection-status"]').innerText()).to.match(/Valid/);
    await screenshot(page, '09-byok-valid-key');

    // Switching to a plan and back is the same screen.
    await page.reload();
    await page.getByRole('tab', { name: 'AI setting' }).waitFor();
    const html = await page.content();
    for (const key of [badKey, goodKey]) expect(html).not.to.contain(key);
    const texts = await Promise.all(bodies);
    expect(texts.length).to.be.greaterThan(5);
    for (const text of texts) {
      expect(text).not.to.contain(badKey);
      expect(text).not.to.contain(goodKey);
    }
    await context.close();
  });

  it('a viewer sees no edit controls, and the API refuses them anyway', async () => {
    const owner = await registerUser(platform.url, 'Olive Owner');
    const viewer = await registerUser(platform.url, 'Vic Viewer');
    const agent = await createAgent(platform.url, owner);
    const added = await fetch(`${platform.url}/api/workspaces/${owner.workspace.id}/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${owner.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ email: viewer.email, role: 'viewer' }),
    });
    expect(added.status).to.equal(201);

    const context = await newContext();
    const page = await context.newPage();
    await page.goto(`${platform.url}/#/login`);
    await screenshot(page, '10-login');
    await page.getByLabel('Email').fill(viewer.email);
    await page.getByLabel('Password').fill(viewer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    // The viewer has two workspaces: their own and Olive's; switch to Olive's.
    await page.getByLabel('Workspace').selectOption(owner.workspace.id);
    await page.locator(`[data-agent-id="${agent.id}"]`).waitFor();
    expect((await page.locator('.role-chip').innerText()).toLowerCase()).to.equal('viewer');
    expect(await page.getByRole('link', { name: /New agent|Create your first agent/ }).count()).to.equal(0);
    expect(await page.getByRole('link', { name: 'Members' }).count()).to.equal(0);

    await page.locator(`a[href="#/agents/${agent.id}"]`).first().click();
    await page.getByRole('tab', { name: 'Playground' }).waitFor();
    for (const tab of ['Playground', 'AI setting', 'API access', 'Settings']) {
      await page.getByRole('tab', { name: tab }).click();
      await page.locator('.tab-panel > *').first().waitFor();
      const buttons = page.getByRole('button', { name: /save|delete|send|create|revoke|test connection|pause|resume/i });
      expect(await buttons.count(), `edit buttons on the ${tab} tab`).to.equal(0);
    }
    expect(await page.locator('textarea[name="message"]').count()).to.equal(0);
    expect(await page.locator('input[name="agentName"]').getAttribute('readonly')).to.not.equal(null);
    await screenshot(page, '11-viewer-agent-settings');

    const asViewer = (method: string, urlPath: string, body?: unknown) => api(platform.url, method, urlPath, { token: viewer.token, body });
    const base = `/api/workspaces/${owner.workspace.id}`;
    expect((await asViewer('POST', `${base}/agents`, { name: 'Nope', templateId: 'faq-bot', variables: { businessName: 'x' }, llm: { mode: 'managed', plan: 'pro' } })).status).to.equal(403);
    expect((await asViewer('PATCH', `${base}/agents/${agent.id}`, { name: 'Renamed' })).status).to.equal(403);
    expect((await asViewer('PUT', `${base}/agents/${agent.id}/llm`, { mode: 'managed', plan: 'ultra' })).status).to.equal(403);
    expect((await asViewer('POST', `${base}/agents/${agent.id}/chat`, { messages: [{ role: 'user', content: 'hi' }] })).status).to.equal(403);
    await context.close();
  });

  it('at 375 px the plan picker and dashboard stay usable without horizontal scrolling', async () => {
    const user: TestUser = await registerUser(platform.url, 'Mo Mobile');
    const agent = await createAgent(platform.url, user, { mode: 'managed', plan: 'starter' });
    const chat = await api(platform.url, 'POST', `/api/workspaces/${user.workspace.id}/agents/${agent.id}/chat`, { token: user.token, body: { messages: [{ role: 'user', content: 'hello' }] } });
    expect(chat.status).to.equal(200);
    const context = await newContext({ viewport: { width: 375, height: 740 }, token: user.token, workspaceId: user.workspace.id });
    const page = await context.newPage();
    const scrollWidth = () => page.evaluate(() => document.documentElement.scrollWidth);

    await pickTemplateAndFill(page, 'support-email', { 'Company name': 'Mo Mobile Ltd', 'Product or service': 'Phone repairs' });
    for (const plan of ['starter', 'pro', 'ultra']) {
      const card = page.locator(`label[data-plan="${plan}"]`);
      await card.scrollIntoViewIfNeeded();
      expect(await card.isVisible(), `${plan} card visible`).to.equal(true);
      const box = (await card.boundingBox())!;
      expect(box.x).to.be.at.least(0);
      expect(box.x + box.width).to.be.at.most(375);
      await card.click();
      expect(await card.locator('input').isChecked(), `${plan} selected`).to.equal(true);
    }
    expect(await scrollWidth()).to.be.at.most(375);
    await screenshot(page, '12-mobile-plan-picker');

    await page.goto(`${platform.url}/#/dashboard`);
    await page.locator(`[data-agent-id="${agent.id}"]`).waitFor();
    expect(Number(await page.locator(`[data-agent-id="${agent.id}"]`).getAttribute('data-tokens'))).to.be.greaterThan(0);
    expect(await scrollWidth()).to.be.at.most(375);
    await screenshot(page, '13-mobile-dashboard');

    await page.goto(`${platform.url}/#/agents/${agent.id}?tab=usage`);
    await page.locator('.chart-box canvas').first().waitFor();
    expect(await scrollWidth()).to.be.at.most(375);
    await screenshot(page, '14-mobile-agent-usage');
    await context.close();
  });

  it('account menu: change password (a wrong one first), sign out, sign in again, the reset link page, sign out of all devices', async () => {
    const user: TestUser = await registerUser(platform.url, 'Pat Password');
    const newPassword = 'a changed passphrase';
    const status = async (token: string | null) => (await api(platform.url, 'GET', '/api/auth/me', { token: token ?? undefined })).status;
    const otherDevice = (await api(platform.url, 'POST', '/api/auth/login', { body: { email: user.email, password: user.password } })).body.token as string;
    const context = await newContext({ token: user.token, workspaceId: user.workspace.id });
    const page = await context.newPage();
    const pageToken = () => page.evaluate(() => localStorage.getItem('agentHost.token'));
    await page.goto(`${platform.url}/#/dashboard`);
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();

    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('menu', { name: 'Account' }).waitFor();
    await screenshot(page, '15-account-menu');
    await page.getByRole('menuitem', { name: 'Change password' }).click();
    const dialog = page.getByRole('dialog', { name: 'Change password' });
    await dialog.getByLabel('Current password').fill('not my password');
    await dialog.getByLabel('New password').fill(newPassword);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByText('The current password is not correct.').waitFor();
    await screenshot(page, '16-change-password-wrong');
    expect(await status(user.token)).to.equal(200);

    await dialog.getByLabel('Current password').fill(user.password);
    await dialog.getByRole('button', { name: 'Change password' }).click();
    await dialog.getByRole('heading', { name: 'Password changed' }).waitFor();
    await screenshot(page, '17-password-changed');
    expect(await status(user.token)).to.equal(401);
    expect(await status(otherDevice)).to.equal(401);
    const changedToken = await pageToken();
    expect(changedToken).not.to.equal(user.token);
    expect(await status(changedToken)).to.equal(200);
    await dialog.getByRole('button', { name: 'Done' }).click();

    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('menuitem', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    expect(await pageToken()).to.equal(null);
    expect(await status(changedToken)).to.equal(401);
    await screenshot(page, '18-signed-out');

    await page.getByLabel('Email').fill(user.email);
    await page.getByLabel('Password').fill(newPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    const signedInToken = await pageToken();

    // The link the operator hands over (npm run user:reset-link), opened in this browser.
    const { token: resetToken } = await new PasswordResetService(platform.platform.models).issue(user.email, { issuedBy: 'operator' });
    await page.goto(`${platform.url}/#/reset?token=${resetToken}`);
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await screenshot(page, '19-reset-password');
    await page.getByLabel('New password').fill('short');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Use at least 8 characters.').waitFor();
    await page.getByLabel('New password').fill('a passphrase from the reset link');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    expect(await status(signedInToken)).to.equal(401);
    const afterReset = await pageToken();
    expect(await status(afterReset)).to.equal(200);

    const elsewhere = (await api(platform.url, 'POST', '/api/auth/login', { body: { email: user.email, password: 'a passphrase from the reset link' } })).body.token as string;
    page.once('dialog', (confirmation) => void confirmation.accept());
    await page.getByRole('button', { name: 'Account' }).click();
    await page.getByRole('menuitem', { name: 'Sign out of all devices' }).click();
    await page.getByRole('heading', { name: 'Welcome back' }).waitFor();
    expect(await status(afterReset)).to.equal(401);
    expect(await status(elsewhere)).to.equal(401);
    await context.close();
  });
});
