// Usage per end user: the top end users of one agent in a month (tokens, requests, cost, price), read in token order
// from usage_end_user_monthly's (agentId, month, tokens) index; one end user's month on its own.
import { Types } from 'mongoose';
import { microsToUsd } from '../catalog/catalog.service';
import { notFound } from '../errors/domain-error';
import { OBJECT_ID_PATTERN } from '../db/driver-errors';
import type { MeteredAgentCollection } from './metering.models';
import type { EndUserUsageDocument, EndUserUsageModels } from './end-user-usage.model';
import type { EndUserUsageRow } from '../../shared/end-user-usage-answers';

export class EndUserUsageService {
  constructor(private readonly models: EndUserUsageModels & { Agent: { collection: MeteredAgentCollection } }) {}

  private toRow(document: Partial<EndUserUsageDocument>, managed = false): EndUserUsageRow {
    const row: EndUserUsageRow = {
      endUser: document.endUser ?? '',
      tokensInput: document.tokensInput ?? 0,
      tokensOutput: document.tokensOutput ?? 0,
      tokens: document.tokens ?? 0,
      requests: document.requests ?? 0,
      costUsd: microsToUsd(document.costMicros ?? 0),
      priceUsd: microsToUsd(document.priceMicros ?? 0),
      lastSeenAt: document.lastSeenAt ? new Date(document.lastSeenAt).toISOString() : null,
    };
    if (managed) delete row.costUsd;
    return row;
  }

  private async agentOf(workspaceId: string, agentId: string) {
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) }, { projection: { _id: 1, limits: 1, 'llm.mode': 1 } });
    if (!agent) throw notFound('Agent');
    return agent as unknown as { _id: Types.ObjectId; limits?: { endUserMonthlyTokenCap?: number | null }; llm?: { mode?: string } };
  }

  /** The agent's end users of the month with the most tokens first (at most `limit`), and how many there are. */
  async topEndUsers(workspaceId: string, agentId: string, month: string, limit = 20, prefix?: string) {
    const agent = await this.agentOf(workspaceId, agentId);
    const filter: Record<string, unknown> = { agentId: agent._id, month, tokens: { $gt: 0 } };
    if (prefix) filter.endUser = { $regex: `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}` };
    const [documents, count] = await Promise.all([
      this.models.EndUserUsage.collection
        .find(filter, { projection: { appliedGroups: 0, pricedGroups: 0, daily: 0 } })
        .sort({ tokens: -1, endUser: 1 })
        .limit(limit)
        .toArray(),
      this.models.EndUserUsage.collection.countDocuments(filter),
    ]);
    return {
      month,
      endUserMonthlyTokenCap: agent.limits?.endUserMonthlyTokenCap ?? null,
      endUsers: count,
      top: documents.map((document) => this.toRow(document as Partial<EndUserUsageDocument>, agent.llm?.mode === 'managed')),
    };
  }
}
