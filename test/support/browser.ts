// Real Chromium for the UI tests: builds client/dist when its sources are newer, launches Debian's chromium, and
// makes contexts signed in as a given user; page errors are collected so each test can assert there were none.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { buildClientIfStale, ROOT } from './client-build';

export { buildClientIfStale } from './client-build';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

export const DESKTOP = { width: 1280, height: 860 };
export const PHONE = { width: 375, height: 740 };

/** Debian's headless Chromium with the flags every UI test uses (screenshot folder made). */
export function launchChromium(): Promise<Browser> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
}

/**
 * Signs every page of the context in as that user: the token (and workspace) the web app keeps in localStorage, set
 * before the app's scripts run. A value the page already holds is kept (a sign-out or switch made in the test stays
 * across reloads) unless `replace`, which sets them on every load.
 */
export async function signInOnLoad(context: BrowserContext, user: { token: string; workspaceId?: string }, options: { replace?: boolean } = {}): Promise<void> {
  await context.addInitScript(
    ({ token, workspaceId, replace }) => {
      if (location.protocol !== 'http:') return; // about:blank has no storage
      if (replace || !localStorage.getItem('agentHost.token')) localStorage.setItem('agentHost.token', token);
      if (workspaceId && (replace || !localStorage.getItem('agentHost.workspaceId'))) localStorage.setItem('agentHost.workspaceId', workspaceId);
    },
    { token: user.token, workspaceId: user.workspaceId ?? '', replace: options.replace ?? false },
  );
}

export interface BrowserSession {
  browser: Browser;
  pageErrors: string[];
  newContext(options?: { viewport?: { width: number; height: number }; token?: string; workspaceId?: string }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<BrowserSession> {
  buildClientIfStale();
  const browser = await launchChromium();
  const pageErrors: string[] = [];
  return {
    browser,
    pageErrors,
    async newContext(options = {}) {
      const context = await browser.newContext({ viewport: options.viewport ?? DESKTOP, deviceScaleFactor: 1, acceptDownloads: true });
      if (options.token) await signInOnLoad(context, { token: options.token, workspaceId: options.workspaceId });
      context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(`${page.url()}: ${error.message}`)));
      return context;
    },
    close: () => browser.close(),
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.bringToFront();
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** The page's visible text with every closed or open "Details" disclosure left out (what a customer reads at a glance). */
export function textOutsideDetails(page: Page, selector = 'main'): Promise<string> {
  return page.evaluate((root) => {
    const element = document.querySelector(root) as HTMLElement | null;
    if (!element) return '';
    const copy = element.cloneNode(true) as HTMLElement;
    for (const details of Array.from(copy.querySelectorAll('details'))) details.remove();
    // Attribute text a person can meet too: tooltips and accessible names.
    const attributes = Array.from(copy.querySelectorAll('[title],[aria-label],[aria-valuetext]')).filter((node) => !node.closest('[hidden]')).map((node) =>
      ['title', 'aria-label', 'aria-valuetext'].map((name) => node.getAttribute(name) ?? '').join(' '),
    );
    document.body.appendChild(copy);
    const text = copy.innerText;
    copy.remove();
    return `${text}\n${attributes.join('\n')}`;
  }, selector);
}

/** Document width beyond the viewport: 0 when nothing scrolls sideways. */
export function horizontalOverflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
}
