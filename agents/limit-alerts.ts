// The alert a call raises when it meets its limit: clamped to the room left, or refused. The alert itself is stored
// once per agent-month (alert.service.ts); this remembers for a minute that it was raised, so a stream of refused
// calls does not try to insert it again on every call.
import type { Logger } from '../server/logger';
import type { LimitKind } from '../server/metering/limits.service';
import { monthOf } from '../server/metering/pricing';
import type { AlertType } from '../server/metering/metering.models';
import type { AgentDocument } from './agent.model';
import type { AgentAlerts } from './agent-ports';

const REMEMBER_MS = 60_000;
const raisedRecently = new WeakMap<AgentAlerts, Map<string, number>>();

const ALERT_TYPE_BY_LIMIT: Record<LimitKind, AlertType> = {
  token_cap: 'cap_reached',
  overage_budget: 'overage_budget_reached',
  budget: 'budget_reached',
};

function messageFor(agent: AgentDocument, limit: LimitKind, outcome: 'clamped' | 'refused'): string {
  const what = limit === 'token_cap' ? 'monthly usage cap' : limit === 'overage_budget' ? 'monthly overage budget' : 'monthly budget';
  return outcome === 'clamped'
    ? `${agent.name} is at its ${what}: answers are being shortened to fit what is left, and calls stop when too little is left. An owner can raise the limit, or it resets next month.`
    : `${agent.name} has reached its ${what}; calls are refused until next month or a higher limit.`;
}

export function raiseLimitAlert(dependencies: { alerts: AgentAlerts; logger: Logger }, agent: AgentDocument, limit: LimitKind, outcome: 'clamped' | 'refused'): void {
  const type = ALERT_TYPE_BY_LIMIT[limit];
  const key = `${type}|${agent._id.toString()}|${monthOf(new Date())}`;
  let recent = raisedRecently.get(dependencies.alerts);
  if (!recent) raisedRecently.set(dependencies.alerts, (recent = new Map()));
  const now = Date.now();
  if ((recent.get(key) ?? 0) > now) return;
  if (recent.size > 10_000) recent.clear();
  recent.set(key, now + REMEMBER_MS);
  void dependencies.alerts
    .raise({ workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), type, message: messageFor(agent, limit, outcome) })
    .catch((error) => dependencies.logger.warn({ err: error }, 'could not raise limit alert'));
}
