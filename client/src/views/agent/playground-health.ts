// The playground's composer, guarded by the agent's health: when every call would be refused (paused, key rejected,
// out of credit, limit reached) it explains why and links to the fix instead of failing message by message.
import { ApiError } from '../../api';
import { canFix, healthOf } from '../../components/agent-health';
import { h, mount } from '../../dom';
import type { Context } from './tab-context';

/** Refusals that say something about the agent rather than about one message. */
const HEALTH_ERRORS = new Set(['PROVIDER_KEY_INVALID', 'PROVIDER_KEY_UNUSABLE', 'PROVIDER_QUOTA_EXCEEDED', 'PLAN_LIMIT_REACHED']);

export interface ComposerGate {
  element: HTMLElement;
  /** Shows the composer or the explanation, from the agent's current health. */
  render(): void;
  /** After a failed send: when the refusal is about the agent, reload its health and show the fix; true when it now blocks. */
  afterFailure(error: unknown): Promise<boolean>;
}

export function composerGate(context: Context, composer: HTMLElement): ComposerGate {
  const element = h('div', { class: 'composer-gate' });
  function render(): void {
    const health = healthOf(context.agent);
    if (health.canRun) {
      mount(element, health.state === 'sandbox' ? h('p', { class: 'muted small sandbox-note' }, 'Sandbox: replies come from the built-in simulator; billing is simulated.') : null, composer);
      return;
    }
    const fix = health.fix;
    mount(
      element,
      h(
        'div',
        { class: 'callout callout-warning composer-blocked', role: 'status', dataset: { health: health.state } },
        h('p', { class: 'callout-title' }, `${health.label}: messages cannot be sent`),
        h('p', null, 'Nothing can be sent until this is fixed: each message would be refused.'),
        fix && canFix(health)
          ? h('button', { type: 'button', class: 'btn btn-primary', onClick: () => context.selectTab?.(fix.tab) }, fix.label)
          : fix
            ? h('p', { class: 'muted small' }, fix.role === 'owner' ? 'Ask a workspace owner to fix this.' : 'Ask a builder of this workspace to fix this.')
            : null,
      ),
    );
  }
  return {
    element,
    render,
    async afterFailure(error) {
      if (!(error instanceof ApiError) || !HEALTH_ERRORS.has(error.code) || !context.refreshAgent) return false;
      try {
        await context.refreshAgent();
      } catch {
        return false;
      }
      render();
      return !healthOf(context.agent).canRun;
    },
  };
}
