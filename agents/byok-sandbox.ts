// Trying a BYOK provider offline: a key that contains "sandbox" (e.g. `sk-sandbox-demo`) is answered by the built-in
// provider simulator in that provider's own wire format, whenever the platform runs its sandbox (outside production
// with LLM_SANDBOX=auto, or LLM_SANDBOX=on). Such a key never leaves the machine.
import type { Config } from '../server/config/config';

/** A key that asks for the simulator instead of the provider. A real provider key does not contain the word. */
export function isSandboxKey(apiKey: string): boolean {
  return /sandbox/i.test(apiKey);
}

/** Whether sandbox keys are answered on this platform (the same switch that runs managed plans on the simulator). */
export function isByokSandboxAvailable(config: Pick<Config, 'llmSandbox' | 'isProduction'>): boolean {
  if (config.llmSandbox === 'on') return true;
  return config.llmSandbox === 'auto' && !config.isProduction;
}

/** The sandbox key the UI suggests for a provider: its usual prefix, then "sandbox-demo" (it passes the format check). */
export function sandboxKeyFor(keyPrefix: string | null | undefined): string {
  return keyPrefix ? `${keyPrefix}sandbox-demo` : 'sandbox-demo-key';
}
