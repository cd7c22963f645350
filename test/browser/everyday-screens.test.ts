// The everyday screens in a real Chromium at desktop and 375 px: the activity log (filters, pages, details, CSV),
// invites (invite, revoke, accept through the link as a new user), usage over time with today by hour, the model
// catalog, viewers landing on usage, and the API reference at /docs (offline). Screenshots in test-results/screenshots.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import OpenAI from 'openai';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { api, createAgent, registerUser, type TestPlatform, type TestUser } from '../support/test-platform';
import { SCREENSHOTS, signInOnLoad } from '../support/browser';
import { platformInChromium } from '../support/platform-in-chromium';
import { meterEventFixture } from '../support/meter-events';

const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 375, height: 760 };

describe('everyday screens (real browser): activity, invites, usage, models, /docs', function () {
  this.timeout(90_000);
  const inChromium = platformInChromium({ setupTimeoutMs: 180_000, ownerName: 'Ada Owner' });
  let platform: TestPlatform;
  let browser: Browser;
  let owner: TestUser;
  let managed: { id: string };
  let byok: { id: string };
  let keyId: string;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(180_000);
    ({ platform, browser, owner } = inChromium);
    managed = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' }, { name: 'Support bot' });
    byok = await createAgent(platform.url, owner, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-browser-activity-01' }, { name: 'Own key bot' });
    const key = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/agents/${managed.id}/api-keys`, { token: owner.token, body: { name: 'Website widget' } });
    keyId = key.body.id;
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${platform.url}/v1` });
    await client.chat.completions.create({ model: managed.id, messages: [{ role: 'user', content: 'Where is my order?' }] });
    // 70 more calls over the last hours (some failed), so the log has more than one page.
    for (let index = 0; index < 70; index++) {
      const isByok = index % 2 === 0;
      platform.platform.meter.record(
        meterEventFixture({
          requestId: `req_browser_${index}`,
          agentId: isByok ? byok.id : managed.id,
          workspaceId: owner.workspace.id,
          timestamp: new Date(Date.now() - (index + 1) * 60_000),
          mode: isByok ? 'byok' : 'managed',
          plan: isByok ? null : 'pro',
          credential: isByok ? 'byok:sk-…ty-01' : 'pool:openai:0:abcdef12',
          status: index % 7 === 3 ? 'error' : 'ok',
        }),
      );
    }
    await platform.platform.meter.drain();
  });

  afterEach(() => {
    const errors = pageErrors.splice(0);
    expect(errors, 'uncaught errors in the page').to.deep.equal([]);
  });

  async function newContext(viewport: { width: number; height: number }, user?: TestUser): Promise<BrowserContext> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, acceptDownloads: true });
    if (user) {
      await signInOnLoad(context, { token: user.token, workspaceId: user.workspace.id });
    }
    context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`)));
    return context;
  }

  async function screenshot(page: Page, name: string): Promise<void> {
    await page.bringToFront();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    // And what fits on the first screen (a long page's full capture is too tall to look at on a phone width).
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}-screen.png`) });
  }

  /** Nothing wider than the viewport (no sideways scrolling of the page itself). */
  async function expectNoHorizontalOverflow(page: Page, what: string): Promise<void> {
    const widths = await page.evaluate(() => {
      const client = document.documentElement.clientWidth;
      // The outermost elements that stick out, for the failure message.
      const wide = Array.from(document.querySelectorAll('body *'))
        .filter((element) => element.getBoundingClientRect().right > client + 1 && !(element.parentElement && element.parentElement.getBoundingClientRect().right > client + 1))
        .slice(0, 5)
        .map((element) => `${element.tagName.toLowerCase()}.${(element as HTMLElement).className} (${Math.round(element.getBoundingClientRect().right)} px)`);
      return { scroll: document.documentElement.scrollWidth, client, wide };
    });
    expect(widths.scroll, `${what}: page wider than the viewport: ${widths.wide.join(', ')}`).to.be.at.most(widths.client + 1);
  }

  for (const [label, viewport] of [['desktop', DESKTOP], ['375px', PHONE]] as const) {
    it(`activity log at ${label}: rows with key names and plans, filters, pages, details and CSV`, async () => {
      const context = await newContext(viewport, owner);
      const page = await context.newPage();
      await page.goto(`${platform.url}/#/activity`);
      await page.getByRole('heading', { name: 'Activity', level: 1 }).waitFor();
      const rows = page.locator('.activity-table tbody tr');
      await rows.nth(49).waitFor();
      expect(await rows.count()).to.equal(50);
      // The /v1 call shows its named key and its plan in plain words; no model or provider for the managed agent.
      const first = rows.first();
      expect(await first.innerText()).to.contain('Website widget');
      expect(await first.innerText()).to.contain('Pro plan');
      const tableText = await page.locator('.activity-table').innerText();
      expect(tableText).to.not.match(/gpt-4o|openai|pool:|tokens/i);
      await screenshot(page, `b-activity-${label}`);
      if (viewport === PHONE) await expectNoHorizontalOverflow(page, 'activity');

      // Load more: the next page follows without repeating rows.
      await page.getByRole('button', { name: 'Load more' }).click();
      await rows.nth(70).waitFor();
      const ids = await rows.evaluateAll((elements) => elements.map((element) => (element as HTMLElement).dataset.eventId));
      expect(new Set(ids).size).to.equal(ids.length);
      expect(ids.length).to.equal(71);
      expect(await page.getByRole('button', { name: 'Load more' }).isHidden()).to.equal(true);

      // Filter: failed calls only.
      await page.getByLabel('Status').selectOption('error');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('.activity-table tbody tr')).length === 10);
      expect(await page.locator('.activity-table tbody .badge-danger').count()).to.equal(10);
      await page.getByLabel('Status').selectOption('');
      // Filter: one agent, then its named key.
      await page.getByLabel('Agent', { exact: true }).selectOption(managed.id);
      await page.getByLabel('API key').locator('option', { hasText: 'Website widget' }).waitFor({ state: 'attached' });
      await page.getByLabel('API key').selectOption(keyId);
      await page.waitForFunction(() => document.querySelectorAll('.activity-table tbody tr').length === 1);
      await page.getByLabel('API key').selectOption('');
      await page.getByLabel('Agent', { exact: true }).selectOption('');
      await rows.nth(49).waitFor();

      // Technical details: tokens and the BYOK model appear; the managed agent still shows only its plan.
      await page.getByLabel('Show technical details').check();
      await page.locator('.activity-table th', { hasText: 'Tokens' }).waitFor();
      await page.locator('.activity-table td', { hasText: 'Own key · gpt-4o-mini' }).first().waitFor();
      await rows.nth(49).waitFor();
      expect(await first.innerText()).to.contain('Pro plan');

      // One call's details.
      await first.getByRole('button').first().click();
      const dialog = page.getByRole('dialog', { name: 'Call details' });
      await dialog.waitFor();
      const details = await dialog.innerText();
      expect(details).to.contain('Website widget');
      expect(details).to.match(/Request id\s+req_/);
      await screenshot(page, `b-activity-details-${label}`);
      await dialog.getByRole('button', { name: 'Close' }).click();
      await page.getByLabel('Show technical details').uncheck();

      // CSV of what the filters show.
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
      const csv = fs.readFileSync((await download.path())!, 'utf8');
      const lines = csv.trim().split('\n');
      expect(lines.length).to.equal(72);
      expect(lines[0]).to.contain('apiKey');
      expect(csv).to.contain('Website widget');
      expect(csv).to.not.contain('pool:');
      await context.close();
    });
  }

  for (const [label, viewport] of [['desktop', DESKTOP], ['375px', PHONE]] as const) {
    it(`invites at ${label}: invite with a role, revoke, and a new person joins through the link`, async () => {
      const context = await newContext(viewport, owner);
      const page = await context.newPage();
      await page.goto(`${platform.url}/#/members`);
      await page.getByRole('heading', { name: 'Invite people' }).waitFor();
      const inviteeEmail = `new-${label.replace(/\W/g, '')}-${Date.now()}@example.com`;
      await page.getByLabel('Their email').fill(inviteeEmail);
      await page.getByLabel('Invite as').selectOption('builder');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      const link = await page.locator('[data-testid="invite-link"]').innerText();
      expect(link).to.match(/\/#\/invite\?token=/);
      await page.locator(`[data-invite-email="${inviteeEmail}"]`).waitFor();
      // A second invite, revoked.
      const revokedEmail = `revoked-${label.replace(/\W/g, '')}-${Date.now()}@example.com`;
      await page.getByLabel('Their email').fill(revokedEmail);
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      await page.locator(`[data-invite-email="${revokedEmail}"]`).waitFor();
      await screenshot(page, `b-invites-${label}`);
      if (viewport === PHONE) await expectNoHorizontalOverflow(page, 'members with invites');
      await page.getByRole('button', { name: `Revoke the invite for ${revokedEmail}` }).click();
      await page.locator(`[data-invite-email="${revokedEmail}"]`).waitFor({ state: 'detached' });

      // The invitee has no account: the link explains, they sign up with that address and accept.
      const guest = await newContext(viewport);
      const invitePage = await guest.newPage();
      await invitePage.goto(link);
      await invitePage.getByRole('heading', { name: /Join Ada Owner's workspace/ }).waitFor();
      expect(await invitePage.locator('main').innerText()).to.contain(inviteeEmail);
      await screenshot(invitePage, `b-invite-link-${label}`);
      await invitePage.getByRole('button', { name: 'Create account' }).click();
      await invitePage.getByLabel('Your name').fill('Nia Newcomer');
      await invitePage.getByLabel('Email').fill(inviteeEmail);
      await invitePage.getByLabel('Password').fill('a long enough password');
      await invitePage.getByRole('button', { name: 'Create account' }).click();
      await invitePage.getByRole('button', { name: 'Accept invite' }).click();
      await invitePage.waitForURL(/#\/dashboard/);
      await invitePage.locator('.role-chip', { hasText: 'builder' }).waitFor({ state: 'attached' });
      expect(await invitePage.getByLabel('Workspace').inputValue()).to.equal(owner.workspace.id);
      // The link is used up.
      await invitePage.goto(link);
      await invitePage.getByRole('heading', { name: 'This invite cannot be used' }).waitFor();
      await guest.close();
      await context.close();
    });
  }

  for (const [label, viewport] of [['desktop', DESKTOP], ['375px', PHONE]] as const) {
    it(`usage over time and the model catalog at ${label}`, async () => {
      const context = await newContext(viewport, owner);
      const page = await context.newPage();
      await page.goto(`${platform.url}/#/usage`);
      await page.getByRole('heading', { name: 'Usage over time', level: 1 }).waitFor();
      await page.locator('.summary-item', { hasText: 'Calls today' }).waitFor();
      await page.waitForFunction(() => Array.from(document.querySelectorAll('.chart-box canvas')).every((canvas) => (canvas as HTMLCanvasElement).width > 0));
      const callsInRange = await page.locator('.summary-item', { hasText: 'Calls in range' }).locator('.summary-value').innerText();
      expect(Number(callsInRange.replace(/,/g, ''))).to.be.at.least(61);
      await page.getByRole('button', { name: '7 days' }).click();
      await page.getByRole('heading', { name: /Calls per day · / }).waitFor();
      expect(await page.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).to.equal('true');
      await screenshot(page, `b-usage-over-time-${label}`);
      if (viewport === PHONE) await expectNoHorizontalOverflow(page, 'usage over time');

      await page.goto(`${platform.url}/#/models`);
      await page.getByRole('heading', { name: 'Models', level: 1 }).waitFor();
      const mini = page.locator('tr[data-model="gpt-4o-mini"]');
      await mini.waitFor();
      const text = await mini.innerText();
      expect(text).to.contain('$0.15');
      expect(text).to.contain('128,000');
      await page.getByLabel('Search models').fill('claude');
      await page.waitForFunction(() => Array.from(document.querySelectorAll('.catalog-table tbody tr')).every((row) => (row as HTMLElement).dataset.model!.includes('claude')));
      await page.getByLabel('Search models').fill('');
      await screenshot(page, `b-models-${label}`);
      if (viewport === PHONE) await expectNoHorizontalOverflow(page, 'models');
      await context.close();
    });
  }

  for (const [label, viewport] of [['desktop', DESKTOP], ['375px', PHONE]] as const) {
    it(`named API keys at ${label}: create with a name, rename, last use shown`, async () => {
      const context = await newContext(viewport, owner);
      const page = await context.newPage();
      await page.goto(`${platform.url}/#/agents/${managed.id}?tab=api`);
      const name = `Zapier ${label}`;
      await page.getByLabel('Name of the new key').fill(name);
      await page.getByRole('button', { name: 'Create API key' }).click();
      await page.locator('[data-testid="new-api-key"]').waitFor();
      const row = page.locator('tr', { hasText: name });
      await row.waitFor();
      expect(await row.innerText()).to.contain('Never');
      // The key the /v1 call used shows its name and a last use.
      expect(await page.locator('tr', { hasText: 'Website widget' }).innerText()).to.not.contain('Never');
      await row.getByRole('button', { name: /^Rename key/ }).click();
      const dialog = page.getByRole('dialog');
      await dialog.getByLabel('Key name').fill(`${name} (renamed)`);
      await dialog.getByRole('button', { name: 'Save' }).click();
      await page.locator('tr', { hasText: `${name} (renamed)` }).waitFor();
      await screenshot(page, `b-named-keys-${label}`);
      // The keys table scrolls inside its card (the agent page's tab strip is another screen's work: not checked here).
      if (viewport === PHONE) {
        const box = await page.locator('.table-scroll').boundingBox();
        expect(box!.x + box!.width).to.be.at.most(PHONE.width);
      }
      await context.close();
    });
  }

  it('a viewer lands on usage when opening an agent and has no Models page link', async () => {
    const viewer = await registerUser(platform.url, 'Vic Viewer');
    await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/members`, { token: owner.token, body: { email: viewer.email, role: 'viewer' } });
    const context = await newContext(DESKTOP, { ...viewer, workspace: { ...viewer.workspace, id: owner.workspace.id } });
    const page = await context.newPage();
    await page.goto(`${platform.url}/#/agents/${managed.id}`);
    await page.getByRole('tab', { name: 'Usage' }).waitFor();
    expect(await page.getByRole('tab', { name: 'Usage' }).getAttribute('aria-selected')).to.equal('true');
    expect(await page.getByRole('tab', { name: 'Playground' }).getAttribute('aria-selected')).to.equal('false');
    expect(await page.getByRole('link', { name: 'Models' }).count()).to.equal(0);
    expect(await page.getByRole('link', { name: 'Activity' }).count()).to.equal(1);
    await screenshot(page, 'b-viewer-lands-on-usage');
    await context.close();
  });

  for (const [label, viewport] of [['desktop', DESKTOP], ['375px', PHONE]] as const) {
    it(`the API reference at /docs renders offline at ${label}`, async () => {
      const context = await newContext(viewport);
      const page = await context.newPage();
      const foreign: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(platform.url) && !request.url().startsWith('data:')) foreign.push(request.url());
      });
      await page.goto(`${platform.url}/docs`);
      await page.locator('.swagger-ui .opblock-tag', { hasText: 'Activity' }).waitFor();
      await page.locator('.swagger-ui .opblock-summary-path', { hasText: '/v1/chat/completions' }).first().waitFor();
      expect(await page.locator('.swagger-ui .info .title').innerText()).to.contain('Agent Host API');
      await screenshot(page, `b-docs-${label}`);
      expect(foreign, 'requests leaving the server').to.deep.equal([]);
      await context.close();
    });
  }
});
