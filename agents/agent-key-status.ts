// A BYOK key's status (valid, invalid, …) as calls and key tests find it: stored on the agent, and each actual
// change told to the listeners (the key status history of key-health.service.ts, alerts).
import { Types } from 'mongoose';
import type { AgentDocument, AgentModels, KeyStatus } from './agent.model';
import type { KeyStatusSource } from './key-health.model';

export type KeyStatusListener = (change: { agentId: string; workspaceId: string; status: KeyStatus; previousStatus: KeyStatus; source: KeyStatusSource; keyMask: string | null; at: Date }) => void;

export class AgentKeyStatus {
  private readonly listeners: KeyStatusListener[] = [];

  constructor(
    private readonly models: AgentModels,
    private readonly notifyChanged: (agentId: string) => void,
  ) {}

  /** One call per actual change of a BYOK key's status. */
  onChanged(listener: KeyStatusListener): void {
    this.listeners.push(listener);
  }

  async record(agentId: string, status: KeyStatus, source: KeyStatusSource): Promise<void> {
    const at = new Date();
    // The record before the change tells whether the status changed (key-health.service.ts keeps that history).
    const before = await this.models.Agent.findOneAndUpdate(
      { _id: new Types.ObjectId(agentId), 'llm.mode': 'byok' },
      { $set: { 'llm.keyStatus': status, 'llm.keyCheckedAt': at } },
      { new: false, projection: { workspaceId: 1, 'llm.keyStatus': 1, 'llm.keyMask': 1 } },
    ).lean<Pick<AgentDocument, '_id' | 'workspaceId' | 'llm'>>();
    this.notifyChanged(agentId);
    const previous = before ? before.llm.keyStatus ?? 'unchecked' : undefined;
    if (before && previous !== status) {
      for (const listener of this.listeners) listener({ agentId, workspaceId: before.workspaceId.toString(), status, previousStatus: previous!, source, keyMask: before.llm.keyMask ?? null, at });
    }
  }
}
