// An agent's usage limits (owners) and alert thresholds (owners and admins) as a PATCH changes them: who may, and
// the stored fields (dollars become integer micro-dollars).
import { usdToMicros } from '../server/catalog/catalog.service';
import { forbidden } from '../server/errors/domain-error';
import type { PatchAgentInput } from './agent.schemas';
import type { Actor } from './agent-edit-context';

/** Adds the limit and threshold changes of a PATCH to its $set, or refuses a member who may not make them. */
export function setLimitsAndThresholds(actor: Actor, input: Pick<PatchAgentInput, 'limits' | 'alertThresholds'>, set: Record<string, unknown>): void {
  if (input.limits !== undefined) {
    if (actor.role !== 'owner') throw forbidden('Only workspace owners can change usage limits.');
    if (input.limits.monthlyTokenCap !== undefined) set['limits.monthlyTokenCap'] = input.limits.monthlyTokenCap;
    if (input.limits.monthlyBudgetUsd !== undefined) {
      set['limits.monthlyBudgetMicros'] = input.limits.monthlyBudgetUsd === null ? null : usdToMicros(input.limits.monthlyBudgetUsd);
    }
    if (input.limits.endUserMonthlyTokenCap !== undefined) set['limits.endUserMonthlyTokenCap'] = input.limits.endUserMonthlyTokenCap;
    if (input.limits.monthlyOverageBudgetUsd !== undefined) {
      set['limits.monthlyOverageBudgetMicros'] = input.limits.monthlyOverageBudgetUsd === null ? null : usdToMicros(input.limits.monthlyOverageBudgetUsd);
    }
  }
  if (input.alertThresholds !== undefined) {
    if (actor.role !== 'owner' && actor.role !== 'admin') throw forbidden('Only workspace owners and admins can change alert thresholds.');
    set.alertThresholds = input.alertThresholds;
  }
}
