// The per-end-user monthly token cap (limits.endUserMonthlyTokenCap): reserves a call's worst case against one end
// user's month, race-free, the way limits.service.ts does for the agent's own cap. A call with tokens settles its
// reservation through its meter event's end-user rollup (end-user-rollup.ts); one without gives it back here.
import { Types } from 'mongoose';
import { DomainError } from '../errors/domain-error';
import { isDuplicateKeyError } from '../db/driver-errors';
import type { EndUserUsageModels } from './end-user-usage.model';
import { dayOf, monthOf } from './pricing';

export interface EndUserReservation {
  agentId: string;
  endUser: string;
  month: string;
  tokens: number;
}

export interface EndUserCappedAgent {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  limits?: { endUserMonthlyTokenCap?: number | null } | null;
}

export class EndUserLimitsService {
  constructor(private readonly models: EndUserUsageModels) {}

  /** Reserves `tokens` for this end user when the agent has a per-end-user cap; a full month is a 429. */
  async reserve(agent: EndUserCappedAgent, endUser: string, tokens: number, now = new Date()): Promise<EndUserReservation | undefined> {
    const cap = agent.limits?.endUserMonthlyTokenCap ?? null;
    if (cap == null) return undefined;
    const month = monthOf(now);
    const filter = { agentId: agent._id, endUser, month };
    await this.models.EndUserUsage.collection
      .updateOne(filter, { $setOnInsert: { workspaceId: agent.workspaceId, tokens: 0, reservedTokens: 0 } }, { upsert: true })
      .catch((error: unknown) => {
        if (!isDuplicateKeyError(error)) throw error;
      });
    // The condition and the increment are one atomic step: concurrent calls of one end user cannot pass the cap.
    const reserved = await this.models.EndUserUsage.collection.findOneAndUpdate(
      { ...filter, $expr: { $lte: [{ $add: [{ $ifNull: ['$tokens', 0] }, { $ifNull: ['$reservedTokens', 0] }, tokens] }, cap] } },
      { $inc: { reservedTokens: tokens } },
      { returnDocument: 'after', projection: { _id: 1 } },
    );
    if (!reserved) {
      throw new DomainError('END_USER_LIMIT_REACHED', 'You have reached this month’s usage limit for this assistant. It resets next month.', { details: { cap } });
    }
    return { agentId: agent._id.toString(), endUser, month, tokens };
  }

  async release(reservation: EndUserReservation): Promise<void> {
    await this.models.EndUserUsage.collection.updateOne(
      { agentId: new Types.ObjectId(reservation.agentId), endUser: reservation.endUser, month: reservation.month },
      { $inc: { reservedTokens: -reservation.tokens } },
    );
  }

  /** Tokens this end user used today (UTC), from the metered events already written (abuse limits). */
  async tokensToday(agentId: Types.ObjectId, endUser: string, now = new Date()): Promise<number> {
    const day = dayOf(now).slice(8, 10);
    const document = await this.models.EndUserUsage.collection.findOne({ agentId, endUser, month: monthOf(now) }, { projection: { daily: 1 } });
    return (document?.daily as Record<string, number> | undefined)?.[day] ?? 0;
  }
}
