// The provider simulator for a describe block that calls providers directly: started in its before() hook, closed
// after; with `clearFaultsAfterEach`, the faults a test set are cleared after each test.
import { startProviderSimulator, type SimulatorHandle } from '../../server/llm/simulator';
import { filledByBefore, type Filling } from './filled-by-before';

export interface SimulatorForTests {
  readonly simulator: SimulatorHandle;
}

/** Registers mocha `before`/`after` (and `afterEach`) hooks; read `simulator` inside tests. */
export function simulatorForTests(options: { clearFaultsAfterEach: boolean }): SimulatorForTests {
  const state: Filling<SimulatorForTests> = {};
  before(async () => {
    state.simulator = await startProviderSimulator();
  });
  after(async () => {
    await state.simulator?.close();
  });
  if (options.clearFaultsAfterEach) afterEach(() => state.simulator?.faults.clear());
  return filledByBefore('simulator for tests', state, ['simulator']);
}
