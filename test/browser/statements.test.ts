// Statements and the plan advisor in a real Chromium: an owner lists the closed months, opens the printable statement,
// downloads its CSV, and reads the plan advisor on an agent's usage tab; a builder has no Statements screen.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import type { Browser, Page } from 'playwright-core';
import { api, createAgent, createAgentApiKey, registerUser, startTestPlatform, type TestPlatform } from '../support/test-platform';
import { buildClientIfStale, launchChromium, SCREENSHOTS, signInOnLoad } from '../support/browser';
import { monthOf } from '../../server/metering/pricing';
import { monthBounds, nextMonth } from '../../server/metering/billing/billing-rule';

describe('statements and plan advisor (real browser)', function () {
  this.timeout(60_000);
  let platform: TestPlatform;
  let browser: Browser;
  const pageErrors: string[] = [];

  before(async function () {
    this.timeout(120_000);
    buildClientIfStale();
    [platform, browser] = await Promise.all([
      startTestPlatform({ statements: { closeJob: false } }),
      launchChromium(),
    ]);
  });
  after(async () => {
    await browser?.close();
    await platform?.stop();
  });
  afterEach(() => expect(pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]));

  async function pageFor(token: string, workspaceId: string): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    await signInOnLoad(context, { token, workspaceId }, { replace: true });
    const page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    return page;
  }

  const shot = async (page: Page, name: string) => {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };

  it('an owner lists statements, opens the printable one, downloads its CSV; the usage tab has the plan advisor in plain words', async () => {
    const owner = await registerUser(platform.url, 'Olivia Owner');
    const agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' });
    const key = await createAgentApiKey(platform.url, owner, agent.id);
    for (let index = 0; index < 3; index += 1) {
      const response = await api(platform.url, 'POST', '/v1/chat/completions', { headers: { authorization: `Bearer ${key}` }, body: { model: 'agent', messages: [{ role: 'user', content: 'What are your opening hours?' }] } });
      expect(response.status).to.equal(200);
    }
    await api(platform.url, 'PUT', `/api/workspaces/${owner.workspace.id}/agents/${agent.id}/llm`, { token: owner.token, body: { mode: 'managed', plan: 'pro' } });
    await platform.platform.meter.drain();
    const month = monthOf(new Date());
    const { statement } = await platform.platform.statements.close(owner.workspace.id, month, new Date(monthBounds(nextMonth(month)).start.getTime() + 3_600_000));

    const page = await pageFor(owner.token, owner.workspace.id);
    await page.goto(`${platform.url}/#/dashboard`);
    // The dashboard, the statement and this month so far agree.
    const amountText = `$${(statement.totals.amountDueMicros / 1_000_000).toFixed(2)}`;
    await page.locator('[data-stat="due"] .stat-value').waitFor();
    expect(await page.locator('[data-stat="due"] .stat-value').innerText()).to.equal(amountText);
    await page.getByRole('link', { name: 'Billing' }).click();
    await page.getByRole('heading', { name: 'Statements', level: 1 }).waitFor();
    await page.getByRole('cell', { name: statement.number }).waitFor();
    const amount = `$${(statement.totals.amountDueMicros / 1_000_000).toFixed(2)}`;
    expect(await page.locator('.statements-table tbody tr').first().innerText()).to.contain(amount);
    expect(await page.locator('.statement-current').innerText()).to.contain('so far');
    expect(await page.locator('.statement-amount').innerText()).to.equal(amountText);
    await shot(page, 'statements-01-list');

    await page.getByRole('link', { name: 'Open' }).first().click();
    await page.getByRole('heading', { name: /^Statement / }).waitFor();
    const frame = page.frameLocator('iframe.statement-frame');
    await frame.getByText('Amount due').first().waitFor();
    const paper = await frame.locator('body').innerText();
    expect(paper).to.contain('Starter plan');
    expect(paper).to.contain('Pro plan');
    expect(paper).to.contain(amount);
    expect(paper).to.not.match(/pool:|credential/i);
    await shot(page, 'statements-02-printable');

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download CSV' }).click()]);
    expect(download.suggestedFilename()).to.equal(`statement-${statement.number}.csv`);
    const csv = fs.readFileSync((await download.path())!, 'utf8');
    expect(csv.split('\r\n')[0]).to.contain('agent,agentId,line,description');
    expect(csv).to.contain('Test agent');

    await page.goto(`${platform.url}/#/agents/${agent.id}?tab=usage`);
    const advice = page.locator('.plan-advice');
    await advice.waitFor();
    expect(await advice.innerText()).to.match(/Plan advisor:\s+Not enough data yet\. After 3 days of use/);
    // The month's two settings in plain words: Starter for a moment, then Pro.
    expect(await page.locator('.plan-segments').innerText()).to.match(/^This month: .*Starter \$0\.00 · .*Pro \$\d+\.\d\d/);
    await shot(page, 'statements-03-usage-advisor');

    // On a phone the statements stay inside the screen (the table scrolls inside its card).
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${platform.url}/#/statements`);
    await page.getByRole('cell', { name: statement.number }).waitFor();
    // (The shell's own width on a phone belongs to the shell; this screen's cards stay inside the viewport.)
    expect(await page.locator('.statements-page').evaluate((element) => element.getBoundingClientRect().right)).to.be.at.most(390);
    await shot(page, 'statements-04-mobile');
  });

  it('a builder sees no Statements screen and the API refuses them', async () => {
    const owner = await registerUser(platform.url);
    const builder = await registerUser(platform.url, 'Bo Builder');
    const added = await api(platform.url, 'POST', `/api/workspaces/${owner.workspace.id}/members`, { token: owner.token, body: { email: builder.email, role: 'builder' } });
    expect(added.status).to.be.oneOf([200, 201]);
    const page = await pageFor(builder.token, owner.workspace.id);
    await page.goto(`${platform.url}/#/dashboard`);
    await page.getByRole('heading', { name: 'Usage', level: 1 }).waitFor();
    expect(await page.getByRole('link', { name: 'Billing' }).count()).to.equal(0);
    expect((await api(platform.url, 'GET', `/api/workspaces/${owner.workspace.id}/statements`, { token: builder.token })).status).to.equal(403);
  });
});
