// An agent's health as the agent API answers it (`health`, computed by agents/agent-health.ts) and the web client
// shows it. Types only: nothing here runs, so both builds drop these imports.

/** The server's list, in order, is HEALTH_STATES in agents/agent-health.ts. */
export type HealthState = 'active' | 'sandbox' | 'paused' | 'key_rejected' | 'out_of_credit' | 'cap_reached' | 'provider_down';

export interface AgentHealth {
  state: HealthState;
  /** A word or two for a badge. */
  label: string;
  /** What it means and what to do, for people. */
  message: string;
  /** False when every call would be refused until someone fixes it (the playground shows the fix instead of a composer). */
  canRun: boolean;
  /** Where the fix is: a tab of the agent page, and who can make it. */
  fix: { tab: 'setting' | 'settings'; label: string; role: 'builder' | 'owner' } | null;
}
