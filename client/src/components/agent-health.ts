// An agent's health at a glance (the server computes it: agents/agent-health.ts): a badge for the header and the
// dashboard card, and a callout that explains a problem and links to its fix.
import { h } from '../dom';
import { can } from '../session';
import type { Agent } from '../types';
import type { AgentHealth, HealthState } from '../../../shared/agent-health';

const TONES: Record<HealthState, 'success' | 'warning' | 'danger' | 'sandbox'> = {
  active: 'success',
  sandbox: 'sandbox',
  paused: 'warning',
  key_rejected: 'danger',
  out_of_credit: 'danger',
  cap_reached: 'warning',
  provider_down: 'warning',
};

/** The health an agent reports, or one derived from its status when talking to an older server. */
export function healthOf(agent: Agent): AgentHealth {
  if (agent.health) return agent.health;
  if (agent.status === 'paused') return { state: 'paused', label: 'Paused', message: 'This agent is paused.', canRun: false, fix: { tab: 'settings', label: 'Resume it in Settings', role: 'builder' } };
  return agent.sandbox
    ? { state: 'sandbox', label: 'Sandbox', message: 'Replies come from the built-in simulator; billing is simulated.', canRun: true, fix: null }
    : { state: 'active', label: 'Active', message: 'Ready.', canRun: true, fix: null };
}

export function healthBadge(health: AgentHealth): HTMLElement {
  const tone = TONES[health.state] ?? 'neutral';
  return h('span', { class: `badge badge-${tone} health-badge`, title: health.message, dataset: { health: health.state } }, h('span', { class: 'health-dot', 'aria-hidden': 'true' }), health.label);
}

/** Whether the signed-in person can make the fix themselves. */
export function canFix(health: AgentHealth): boolean {
  return health.fix !== null && can(health.fix.role);
}

/**
 * A callout for a health that needs attention (nothing for active and sandbox): what is wrong, and a button to the
 * tab where it is fixed — or who can fix it.
 */
export function healthCallout(health: AgentHealth, goToTab: (tab: 'setting' | 'settings') => void): HTMLElement | null {
  if (health.state === 'active' || health.state === 'sandbox') return null;
  const tone = health.canRun ? 'warning' : 'error';
  const fix = health.fix;
  return h(
    'div',
    { class: `callout callout-${tone} health-callout`, role: 'status', dataset: { health: health.state } },
    h('p', { class: 'callout-title' }, health.label),
    h('p', null, health.message),
    fix
      ? canFix(health)
        ? h('button', { type: 'button', class: 'btn btn-secondary btn-small health-fix', onClick: () => goToTab(fix.tab) }, fix.label)
        : h('p', { class: 'muted small' }, fix.role === 'owner' ? 'A workspace owner can fix this.' : 'A builder of this workspace can fix this.')
      : null,
  );
}
