// Plan history (billing): one record per change of what an agent bills for (created, LLM changed, paused, resumed,
// deleted), by a member or by the platform; see docs/BILLING.md. Off until platform.ts hands it a recorder.
import type { BillingSetting, PlanChangeKind } from '../server/metering/billing/plan-history';
import type { AgentDocument } from './agent.model';
import type { PlanHistoryRecorder } from './agent-ports';
import type { Actor, SystemActor } from './agent-edit-context';

function billingSettingOf(agent: Pick<AgentDocument, 'llm' | 'status'>): BillingSetting {
  const byok = agent.llm.mode === 'byok';
  return { mode: agent.llm.mode, plan: byok ? null : agent.llm.plan ?? null, status: agent.status ?? 'active', provider: byok ? agent.llm.provider ?? null : null, model: byok ? agent.llm.model ?? null : null };
}

export class AgentPlanHistory {
  private recorder: PlanHistoryRecorder | undefined;

  use(recorder: PlanHistoryRecorder): void {
    this.recorder = recorder;
  }

  /**
   * Records one change of what an agent bills for. Every path that changes an agent's LLM setting or status (the API,
   * experiment promotion, …) goes through setLlm / patch / create / remove, which call this once.
   */
  async record(kind: PlanChangeKind, agent: Pick<AgentDocument, '_id' | 'workspaceId' | 'name'>, before: Pick<AgentDocument, 'llm' | 'status'> | null, after: Pick<AgentDocument, 'llm' | 'status'> | null, actor: Actor | SystemActor, at: Date): Promise<void> {
    if (!this.recorder) return;
    await this.recorder.record({
      workspaceId: agent.workspaceId.toString(),
      agentId: agent._id.toString(),
      agentName: agent.name,
      kind,
      from: before ? billingSettingOf(before) : null,
      to: after ? billingSettingOf(after) : null,
      actor: 'system' in actor ? { type: 'system', reason: actor.system } : { type: 'user', userId: actor.userId },
      at,
    });
  }
}
