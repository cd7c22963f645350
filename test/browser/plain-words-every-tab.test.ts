// Plain words on EVERY screen a managed-plan owner meets (#18 items 1 and 7), in real Chromium at desktop width and
// at 375 px: each of the agent's tabs (with data in them: a comparison, a running experiment, visitors, routing) and
// the workspace screens (dashboard, activity and a call's details, usage over time, members and invites, statements
// and the printable statement, alerts, the popovers). On each: no model id of the catalog, no "token(s)" outside a
// "Details" disclosure, no cost field, no sideways scrolling, popovers and dialogs inside the viewport, and on a phone
// the agent's tab strip scrolls with a visible hint. Screenshots: test-results/screenshots/pw-*.png.
import { expect } from 'chai';
import OpenAI from 'openai';
import type { Page } from 'playwright-core';
import { api, createAgent, registerUser, startTestPlatform, type TestPlatform, type TestUser } from '../support/test-platform';
import { DESKTOP, PHONE, launchBrowser, screenshot, textOutsideDetails, type BrowserSession } from '../support/browser';
import { monthOf } from '../../server/metering/pricing';
import { monthBounds, nextMonth } from '../../server/metering/billing/billing-rule';

const AGENT_TABS = ['Playground', 'AI setting', 'Usage', 'API access', 'Settings', 'Answer cache', 'Experiments', 'Publish', 'Conversations'];

/** What a managed owner must never read outside "Details": a catalog model id, tokens, a cost (the platform's or a provider's). */
export function plainWordsProblems(text: string, modelIds: string[]): string[] {
  const problems: string[] = [];
  for (const model of modelIds) if (text.includes(model)) problems.push(`names the model ${model}`);
  const tokens = text.match(/.{0,40}\btokens?\b.{0,40}/i);
  if (tokens) problems.push(`says "tokens": …${tokens[0]}…`);
  // The owner's own overage cap ("… may cost per month") is the customer's money, not a cost field.
  const cost = text.match(/.{0,40}\bcost\b(?! per month).{0,40}/i);
  if (cost) problems.push(`shows a cost: …${cost[0]}…`);
  const credential = text.match(/pool:|credential/i);
  if (credential) problems.push(`shows a credential (${credential[0]})`);
  return problems;
}

describe('plain words on every tab and workspace screen of a managed agent (real browser, desktop and 375 px)', function () {
  this.timeout(180_000);
  let platform: TestPlatform;
  let session: BrowserSession;
  let modelIds: string[];
  let owner: TestUser;
  let agent: { id: string };
  let capped: { id: string };
  let byok: { id: string };
  let builder: TestUser;
  let month: string;

  before(async function () {
    this.timeout(240_000);
    [platform, session] = await Promise.all([startTestPlatform({ statements: { closeJob: false } }), launchBrowser()]);
    const providers = (await api(platform.url, 'GET', '/api/providers')).body as Array<{ models: Array<{ id: string }> }>;
    modelIds = providers.flatMap((provider) => provider.models.map((model) => model.id));
    expect(modelIds).to.include('MiniMax-M2.5');

    owner = await registerUser(platform.url, 'Paula Plan');
    const w = `/api/workspaces/${owner.workspace.id}`;
    agent = await createAgent(platform.url, owner, { mode: 'managed', plan: 'pro' }, { name: 'Shop helper' });
    // A second managed agent with a small limit, so the workspace has a limit alert in plain words.
    capped = await createAgent(platform.url, owner, { mode: 'managed', plan: 'starter' }, { name: 'Small helper' });
    expect((await api(platform.url, 'PATCH', `${w}/agents/${capped.id}`, { token: owner.token, body: { limits: { monthlyTokenCap: 1_000 } } })).status).to.equal(200);

    // A builder's own-key agent in a workspace of its own (the managed owner's workspace stays plan-only).
    builder = await registerUser(platform.url, 'Bruno Builder');
    byok = await createAgent(platform.url, builder, { mode: 'byok', provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-sandbox-demo' }, { name: 'Own key helper' });
    // A running experiment (the current plan against Starter), a named key, calls from two visitors through /v1.
    const experiment = await api(platform.url, 'POST', `${w}/agents/${agent.id}/experiments`, {
      token: owner.token,
      body: { name: 'Pro vs Starter', assignBy: 'request', variants: [{ name: 'A (current)', weight: 50 }, { name: 'Starter plan', weight: 50, llm: { mode: 'managed', plan: 'starter' } }] },
    });
    expect(experiment.status, experiment.text).to.equal(201);
    expect((await api(platform.url, 'POST', `${w}/agents/${agent.id}/experiments/${experiment.body.id}/actions`, { token: owner.token, body: { action: 'start' } })).status).to.equal(200);
    const key = await api(platform.url, 'POST', `${w}/agents/${agent.id}/api-keys`, { token: owner.token, body: { name: 'Website chat' } });
    const client = new OpenAI({ apiKey: key.body.key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    for (let index = 0; index < 6; index++) {
      await client.chat.completions.create({ model: agent.id, user: `visitor-${index % 2}`, messages: [{ role: 'user', content: `Do you ship to Spain? (${index})` }] });
    }
    const cappedKey = await api(platform.url, 'POST', `${w}/agents/${capped.id}/api-keys`, { token: owner.token, body: { name: 'Kiosk' } });
    const cappedClient = new OpenAI({ apiKey: cappedKey.body.key, baseURL: `${platform.url}/v1`, maxRetries: 0 });
    for (let index = 0; index < 3; index++) {
      await cappedClient.chat.completions.create({ model: capped.id, messages: [{ role: 'user', content: 'Tell me a long story about your shop and its history please.' }] }).catch(() => undefined);
    }
    expect((await api(platform.url, 'PATCH', `${w}/agents/${agent.id}/publishing`, { token: owner.token, body: { allowedOrigins: ['https://shop.example.com'] } })).status).to.equal(200);
    expect((await api(platform.url, 'POST', `${w}/agents/${agent.id}/publishing/publish`, { token: owner.token })).status).to.equal(200);
    expect((await api(platform.url, 'POST', `${w}/invites`, { token: owner.token, body: { email: 'new.helper@example.com', role: 'builder' } })).status).to.equal(201);
    await platform.platform.meter.drain();
    // A closed statement for this month (closed as if it were the 1st of the next one), for the statement screens.
    month = monthOf(new Date());
    await platform.platform.statements.close(owner.workspace.id, month, new Date(monthBounds(nextMonth(month)).start.getTime() + 3_600_000));
  });
  after(async () => {
    await session?.close();
    await platform?.stop();
  });
  afterEach(() => expect(session.pageErrors.splice(0), 'uncaught errors in the page').to.deep.equal([]));

  it('the checker itself catches the old wording (model id, tokens, platform cost, credential)', () => {
    const ids = ['MiniMax-M2.5', 'gpt-4o-mini'];
    expect(plainWordsProblems('1,234 tokens · $0.0012 · 320 ms', ids)).to.have.length(1);
    expect(plainWordsProblems('Monthly tokens per visitor', ids)).to.have.length(1);
    expect(plainWordsProblems('Version Calls Tokens Billed Provider cost', ids)).to.have.length(2);
    expect(plainWordsProblems('This plan routes easy questions to MiniMax MiniMax-M2.5.', ids)).to.have.length(1);
    expect(plainWordsProblems('Reused answers use no tokens and cost nothing.', ids)).to.have.length(2);
    expect(plainWordsProblems('pool:openai:0:abc', ids)).to.have.length(1);
    expect(plainWordsProblems('About 6 conversations · $0.0012 · 320 ms. Most overage may cost per month (USD)', ids)).to.deep.equal([]);
  });

  for (const { name, viewport } of [
    { name: 'desktop', viewport: DESKTOP },
    { name: '375', viewport: PHONE },
  ]) {
    it(`${name}: every agent tab and every workspace screen of a managed owner is in plain words, fits the screen, and keeps popovers inside it`, async () => {
      const context = await session.newContext({ viewport, token: owner.token, workspaceId: owner.workspace.id });
      const page = await context.newPage();
      const failures: string[] = [];

      /** The viewport-relative box of the first element matching `selector` lies inside the viewport. */
      const inViewport = async (selector: string, what: string) => {
        const box = await page.locator(selector).first().boundingBox();
        if (!box) return failures.push(`${what}: not visible`);
        if (box.x < -1 || box.x + box.width > viewport.width + 1) failures.push(`${what}: ${Math.round(box.x)}…${Math.round(box.x + box.width)} px is outside the ${viewport.width} px viewport`);
      };
      const check = async (what: string, options: { plain?: boolean; extraText?: string } = {}) => {
        await page.waitForTimeout(150);
        if (options.plain !== false) {
          for (const problem of plainWordsProblems(`${await textOutsideDetails(page)}\n${options.extraText ?? ''}`, modelIds)) failures.push(`${what}: ${problem}`);
        }
        const overflow = await page.evaluate(() => {
          const client = document.documentElement.clientWidth;
          const wide = Array.from(document.querySelectorAll('body *'))
            .filter((element) => element.getBoundingClientRect().right > client + 1 && !(element.parentElement && element.parentElement.getBoundingClientRect().right > client + 1))
            .filter((element) => getComputedStyle(element).visibility !== 'hidden' && !element.closest('[hidden]'))
            // Inside a box that scrolls (or clips) sideways on its own, sticking out is that box's business.
            .filter((element) => {
              for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
                if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(parent).overflowX)) return false;
              }
              return true;
            })
            .slice(0, 4)
            .map((element) => `${element.tagName.toLowerCase()}.${(element as HTMLElement).className} (${Math.round(element.getBoundingClientRect().right)} px)`);
          const all = Array.from(document.querySelectorAll('body *'))
            .filter((element) => element.getBoundingClientRect().right > client + 1)
            .map((element) => `${element.tagName.toLowerCase()}.${(element as HTMLElement).className}[${getComputedStyle(element).overflowX}] ${Math.round(element.getBoundingClientRect().left)}-${Math.round(element.getBoundingClientRect().right)}`);
          return { extra: document.documentElement.scrollWidth - client, wide: wide.length ? wide : all.slice(0, 12) };
        });
        if (overflow.extra > 0) failures.push(`${what}: scrolls sideways by ${overflow.extra} px (${overflow.wide.join(', ')})`);
        // Controls sticking out of the screen or of their card on either side (no scrollbar shows one on the left).
        const outside = await page.evaluate(() => {
          const client = document.documentElement.clientWidth;
          return Array.from(document.querySelectorAll<HTMLElement>('main button, main a, main input, main select, main textarea, main summary'))
            .filter((element) => {
              const box = element.getBoundingClientRect();
              if (box.width === 0 || box.height === 0 || element.closest('[hidden], .visually-hidden')) return false;
              // Inside the screen and inside its card (a too-long button sticks out of its card on the left).
              const card = element.closest('.card')?.getBoundingClientRect();
              const left = Math.max(-1, (card?.left ?? 0) - 1);
              const right = Math.min(client + 1, (card?.right ?? client) + 1);
              if (box.left >= left && box.right <= right) return false;
              for (let parent = element.parentElement; parent && parent !== document.body; parent = parent.parentElement) {
                if (['auto', 'scroll', 'hidden', 'clip'].includes(getComputedStyle(parent).overflowX)) return false;
              }
              return true;
            })
            .slice(0, 4)
            .map((element) => `${element.tagName.toLowerCase()} "${(element.textContent ?? '').trim().slice(0, 40)}" (${Math.round(element.getBoundingClientRect().left)}…${Math.round(element.getBoundingClientRect().right)} px)`);
        });
        if (outside.length) failures.push(`${what}: controls outside the screen or their card: ${outside.join(', ')}`);
      };
      const panelReady = () =>
        page.waitForFunction(() => {
          const panel = document.querySelector('.tab-panel');
          return !!panel && panel.children.length > 0 && !/Loading…/.test(panel.textContent ?? '');
        });

      // ---- the agent's tabs ----
      await page.goto(`${platform.url}/#/agents/${agent.id}`);
      await page.getByLabel('Message').waitFor();
      if (viewport === PHONE) {
        // The tab strip is wider than a phone: it scrolls, with a fade and an arrow on the side that has more.
        await page.waitForFunction(() => document.querySelector('.scroll-hint:has(> .tabs)')?.getAttribute('data-more-after') === 'true');
        expect(await page.getByRole('button', { name: 'More agent sections' }).isVisible()).to.equal(true);
      }
      // A playground reply and a side-by-side comparison, so their result lines are on the screen.
      await page.getByLabel('Message').fill('Do you deliver on Sundays?');
      await page.getByLabel('Message').press('Enter');
      await page.locator('.bubble-assistant[data-usage]').waitFor();
      await page.getByLabel('Question').fill('What is your refund policy?');
      await page.getByRole('button', { name: 'Compare' }).click();
      await page.locator('.compare-card').nth(1).waitFor();
      const compareLine = await page.locator('.compare-card .bubble-meta').first().innerText();
      if (!/\$\d/.test(compareLine)) failures.push(`compare: the result line "${compareLine}" has no price`);
      await check('Playground (with a reply and a comparison)');
      await screenshot(page, `pw-${name}-01-playground-compare`);

      for (const [index, tab] of AGENT_TABS.slice(1).entries()) {
        await page.getByRole('tab', { name: tab }).click();
        const box = (await page.getByRole('tab', { name: tab }).boundingBox())!;
        if (box.x < 0 || box.x + box.width > viewport.width + 1) failures.push(`tab ${tab}: selected but not scrolled into view`);
        await panelReady();
        if (tab === 'AI setting') await page.locator('[data-testid="routing-summary"]').waitFor();
        if (tab === 'Usage') await page.locator('[data-testid="usage-details"]').waitFor();
        if (tab === 'Experiments') await page.locator('.experiment[data-status="running"] tbody tr').first().waitFor();
        if (tab === 'Publish') await page.locator('[data-testid="visitor-usage"]').waitFor();
        await check(`the ${tab} tab`);
        await screenshot(page, `pw-${name}-${String(index + 2).padStart(2, '0')}-tab-${tab.toLowerCase().replace(/\W+/g, '-')}`);
      }
      // Positive: the plan's own unit is where tokens used to be.
      await page.getByRole('tab', { name: 'Publish' }).click();
      await page.locator('[data-testid="visitor-usage"]').waitFor();
      if (!/Conversations/i.test(await page.locator('[data-testid="visitor-usage"]').innerText())) failures.push('visitors table: no Conversations column');
      if ((await page.getByLabel('Monthly conversations per visitor').count()) !== 1) failures.push('publish: the per-visitor cap is not in conversations');
      await page.getByRole('tab', { name: 'Experiments' }).click();
      await page.locator('.experiment tbody tr').first().waitFor();
      if (!/Conversations/i.test(await page.locator('.experiment thead').innerText())) failures.push('experiments table: no Conversations column');

      // ---- the workspace screens ----
      const screens: Array<{ hash: string; what: string; ready: (p: Page) => Promise<unknown>; plain?: boolean }> = [
        { hash: '#/dashboard', what: 'the dashboard', ready: (p) => p.locator(`[data-agent-id="${agent.id}"]`).waitFor() },
        { hash: '#/activity', what: 'the activity log', ready: (p) => p.locator('.activity-table tbody tr').first().waitFor() },
        { hash: '#/usage', what: 'usage over time', ready: (p) => p.getByRole('heading', { name: 'Usage over time', level: 1 }).waitFor() },
        { hash: '#/members', what: 'members and invites', ready: (p) => p.getByText('new.helper@example.com').first().waitFor() },
        { hash: '#/statements', what: 'statements', ready: (p) => p.locator('.statements-table tbody tr').first().waitFor() },
        { hash: '#/alerts', what: 'alert settings', ready: (p) => p.getByRole('heading', { name: 'Alerts', level: 1 }).waitFor() },
        // Builders' pages about models (the catalog) and creating an agent (BYOK lists models): only the fit is checked.
        { hash: '#/models', what: 'the model catalog', ready: (p) => p.locator('[data-model]').first().waitFor(), plain: false },
        { hash: '#/agents/new', what: 'new agent', ready: (p) => p.getByRole('heading', { name: 'Create an agent' }).waitFor(), plain: false },
      ];
      for (const [index, screen] of screens.entries()) {
        await page.goto(`${platform.url}/${screen.hash}`);
        await screen.ready(page);
        await page.waitForFunction(() => !/Loading…/.test(document.querySelector('main')?.textContent ?? ''));
        await check(screen.what, { plain: screen.plain });
        if (viewport === PHONE) {
          // The top bar's links scroll with a visible hint, and the current screen's link is in view.
          const hint = page.locator('.main-nav-hint');
          const more = await hint.evaluate((element) => element.getAttribute('data-more-after') === 'true' || element.getAttribute('data-more-before') === 'true');
          const arrow = await page.locator('.main-nav-hint .scroll-more').evaluateAll((buttons) => buttons.some((button) => getComputedStyle(button).display !== 'none'));
          if (!more || !arrow) failures.push(`${screen.what}: the top links scroll without a visible hint`);
          const active = page.locator('.main-nav .nav-link.active');
          if (await active.count()) {
            const box = (await active.boundingBox())!;
            if (box.x < 0 || box.x + box.width > viewport.width) failures.push(`${screen.what}: its link in the top bar is out of view`);
          }
        }
        await screenshot(page, `pw-${name}-${String(index + 20)}-${screen.hash.replace(/\W+/g, '-').replace(/^-|-$/g, '')}`);
      }

      // A call's details (a modal dialog) inside the viewport and in plain words.
      await page.goto(`${platform.url}/#/activity`);
      await page.locator('.activity-table tbody tr').first().waitFor();
      await page.locator('.activity-table tbody tr').first().locator('.link-button').click();
      await page.locator('dialog.activity-detail[open]').waitFor();
      await inViewport('dialog.activity-detail', 'call details dialog');
      for (const problem of plainWordsProblems(await textOutsideDetails(page, 'dialog.activity-detail'), modelIds)) failures.push(`call details: ${problem}`);
      await page.screenshot({ path: `${process.cwd()}/test-results/screenshots/pw-${name}-30-activity-detail.png` });
      await page.keyboard.press('Escape');

      // The printable statement, inside its frame too.
      await page.goto(`${platform.url}/#/statements/${month}`);
      const frame = page.frameLocator('iframe.statement-frame');
      await frame.getByText('Amount due').first().waitFor();
      await check('the statement', { extraText: await frame.locator('body').innerText() });
      // The printable page fits its frame too (its amounts are not cut off on a phone).
      const paper = page.frames().find((candidate) => candidate !== page.mainFrame())!;
      const paperOverflow = await paper.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (paperOverflow > 0) failures.push(`the printable statement: wider than its frame by ${paperOverflow} px`);
      await screenshot(page, `pw-${name}-31-statement`);

      // Popovers: the alerts list (with the limit alert) and the account menu stay inside the viewport.
      await page.goto(`${platform.url}/#/dashboard`);
      await page.locator(`[data-agent-id="${agent.id}"]`).waitFor();
      await page.getByRole('button', { name: /Alerts/ }).click();
      await page.locator('.alerts-panel .alert-item').first().waitFor();
      await inViewport('.alerts-panel', 'alerts popover');
      for (const problem of plainWordsProblems(await textOutsideDetails(page, '.alerts-panel'), modelIds)) failures.push(`alerts popover: ${problem}`);
      await page.screenshot({ path: `${process.cwd()}/test-results/screenshots/pw-${name}-32-alerts-popover.png` });
      await page.keyboard.press('Escape');
      await page.getByRole('button', { name: 'Account' }).click();
      await inViewport('[role="menu"]', 'account menu');
      await page.keyboard.press('Escape');

      await context.close();

      // An own-key agent (a builder's) keeps its tokens: its per-visitor cap is in tokens.
      const builderContext = await session.newContext({ viewport, token: builder.token, workspaceId: builder.workspace.id });
      const builderPage = await builderContext.newPage();
      await builderPage.goto(`${platform.url}/#/agents/${byok.id}?tab=publish`);
      await builderPage.getByRole('heading', { name: 'How the chat looks and behaves' }).waitFor();
      if ((await builderPage.getByLabel('Monthly tokens per visitor').count()) !== 1) failures.push('own-key agent: the per-visitor cap is not in tokens');
      await builderContext.close();
      expect(failures, failures.join('\n')).to.deep.equal([]);
    });
  }
});
