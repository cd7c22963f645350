// Two Agent Host instances on one database (what two workers or two machines of one deployment share), for the
// tests of state that each instance keeps in memory: one simulator, one vault key, one owner registered on the first.
import crypto from 'node:crypto';
import { registerUser, startTestPlatform, type TestPlatform, type TestUser } from './test-platform';
import { uniqueDatabaseName } from './test-database';
import { filledByBefore, type Filling } from './filled-by-before';
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';

export interface TwoInstances {
  readonly simulator: SimulatorHandle;
  readonly first: TestPlatform;
  readonly second: TestPlatform;
  readonly owner: TestUser;
  /** What a third instance of the same deployment is started with. */
  readonly databaseName: string;
  readonly vaultKeys: string;
}

/**
 * Registers mocha `before`/`after` hooks that start (and stop) both instances; read the fields inside tests.
 * `firstEnv` adds to the first instance's environment (e.g. a monitored MONGODB_URI); `onFirstStarted` runs before the
 * second starts (e.g. to attach a command listener to the first's driver).
 */
export function twoInstancesOnOneDatabase(label: string, ownerName: string, setup: { firstEnv?: () => Promise<Record<string, string>>; onFirstStarted?: (first: TestPlatform) => void } = {}): TwoInstances {
  const databaseName = uniqueDatabaseName(label);
  const vaultKeys = `keys1:${crypto.randomBytes(32).toString('base64')}`;
  const state: Filling<TwoInstances> = {};

  before(async () => {
    state.simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0 });
    const firstEnv = setup.firstEnv ? await setup.firstEnv() : {};
    state.first = await startTestPlatform({ simulator: state.simulator, databaseName, env: { VAULT_KEYS: vaultKeys, ...firstEnv } });
    setup.onFirstStarted?.(state.first);
    state.second = await startTestPlatform({ simulator: state.simulator, databaseName, env: { VAULT_KEYS: vaultKeys } });
    state.owner = await registerUser(state.first.url, ownerName);
  });
  after(async () => {
    await state.second?.stop();
    await state.first?.stop();
    await state.simulator?.close();
  });

  return filledByBefore<TwoInstances>('two instances', state, ['simulator', 'first', 'second', 'owner'], { databaseName, vaultKeys });
}

/** Reads until `done` says yes or `ms` pass (what another instance sees arrives within its own interval). */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, ms = 10_000, everyMs = 50): Promise<T> {
  let value = await read();
  for (const deadline = Date.now() + ms; !done(value) && Date.now() < deadline; value = await read()) await new Promise((resolve) => setTimeout(resolve, everyMs));
  return value;
}
