// For the browser tests: the web client built if stale, a test platform and Chromium started together, one
// registered owner; Chromium closed and the platform stopped after the describe block.
import type { Browser } from 'playwright-core';
import { buildClientIfStale, launchChromium } from './browser';
import { filledByBefore, type Filling } from './filled-by-before';
import { registerUser, startTestPlatform, type TestPlatform, type TestUser } from './test-platform';

export interface PlatformInChromium {
  readonly platform: TestPlatform;
  readonly browser: Browser;
  readonly owner: TestUser;
}

/** Registers mocha `before`/`after` hooks (the before hook may take `setupTimeoutMs`); read the fields inside tests. */
export function platformInChromium(options: { setupTimeoutMs: number; ownerName?: string }): PlatformInChromium {
  const state: Filling<PlatformInChromium> = {};
  before(async function () {
    this.timeout(options.setupTimeoutMs);
    buildClientIfStale();
    [state.platform, state.browser] = await Promise.all([startTestPlatform(), launchChromium()]);
    state.owner = await registerUser(state.platform.url, options.ownerName);
  });
  after(async () => {
    await state.browser?.close();
    await state.platform?.stop();
  });
  return filledByBefore('platform in Chromium', state, ['platform', 'browser', 'owner']);
}
