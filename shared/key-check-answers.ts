// What a check of a provider key answers (POST /api/workspaces/:id/llm/test, "Test the key" before an agent exists),
// as the server builds it and the web client reads it. Types only: nothing here runs, so both builds drop these imports.

/** A key's last verdict (the server's list is KEY_STATUSES in agents/agent.model.ts). */
export type KeyStatus = 'unchecked' | 'valid' | 'invalid' | 'rate_limited' | 'quota_exceeded' | 'unreachable';

export interface KeyPretestResult {
  ok: boolean;
  status: KeyStatus;
  message: string;
  latencyMs: number;
  /** The simulator answered (a sandbox key). */
  sandbox: boolean;
}

/** "Test connection" on an agent (POST …/agents/:id/llm/test). A managed plan answers `valid` when platform keys (or
 * the sandbox) serve it, `unreachable` when none does, with the words in `message`. */
export interface ConnectionTestResult {
  ok: boolean;
  status: KeyStatus;
  message: string;
  latencyMs: number;
}
