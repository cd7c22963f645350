// One test platform and one registered owner for a describe block: started in its before() hook, stopped after.
import { filledByBefore, type Filling } from './filled-by-before';
import { registerUser, startTestPlatform, type TestPlatform, type TestUser } from './test-platform';

export interface PlatformWithOwner {
  readonly platform: TestPlatform;
  readonly owner: TestUser;
}

/** Registers mocha `before`/`after` hooks; read the fields inside tests (or copy them in a later `before`). */
export function platformWithOwner(ownerName?: string): PlatformWithOwner {
  const state: Filling<PlatformWithOwner> = {};
  before(async () => {
    state.platform = await startTestPlatform();
    state.owner = await registerUser(state.platform.url, ownerName);
  });
  after(async () => state.platform?.stop());
  return filledByBefore('platform with owner', state, ['platform', 'owner']);
}
