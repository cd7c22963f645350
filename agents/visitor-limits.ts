// Abuse limits of published chats, beyond the agent's plan and caps: tokens per day per visitor (read from the
// visitor's end-user rollup) and per network address (visitor_address_usage, one counter per agent, address and UTC
// day, gone after two days by TTL). Requests per minute are counted by express-rate-limit in the public router.
import crypto from 'node:crypto';
import { Schema, type Connection, type Model, type Types } from 'mongoose';
import { DomainError } from '../server/errors/domain-error';

export interface PublicChatLimits {
  visitorRequestsPerMinute: number;
  addressRequestsPerMinute: number;
  visitorTokensPerDay: number;
  addressTokensPerDay: number;
}

export const DEFAULT_PUBLIC_CHAT_LIMITS: PublicChatLimits = {
  visitorRequestsPerMinute: 20,
  addressRequestsPerMinute: 60,
  visitorTokensPerDay: 50_000,
  addressTokensPerDay: 200_000,
};

interface AddressUsageDocument {
  _id: string;
  tokens: number;
  expiresAt: Date;
}

const addressUsageSchema = new Schema<AddressUsageDocument>(
  { _id: String, tokens: { type: Number, default: 0 }, expiresAt: { type: Date, required: true } },
  { collection: 'visitor_address_usage', autoIndex: false, versionKey: false },
);
addressUsageSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0 });

export const createVisitorLimitModels = (connection: Connection) => ({
  VisitorAddressUsage: connection.model<AddressUsageDocument>('VisitorAddressUsage', addressUsageSchema) as Model<AddressUsageDocument>,
});
export type VisitorLimitModels = ReturnType<typeof createVisitorLimitModels>;

export const dailyLimitReached = () =>
  new DomainError('VISITOR_DAILY_LIMIT', 'You have sent a lot of messages today. Please come back tomorrow.', { retryAfterSeconds: secondsToMidnight() });

function secondsToMidnight(now = new Date()): number {
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1);
  return Math.max(1, Math.ceil((midnight - now.getTime()) / 1000));
}

export class VisitorLimits {
  constructor(
    private readonly models: VisitorLimitModels,
    readonly limits: PublicChatLimits,
    private readonly visitorTokensToday: (agentId: Types.ObjectId, visitorId: string) => Promise<number>,
  ) {}

  /** The address is kept only as a keyed hash (never the address itself). */
  private key(agentId: Types.ObjectId, address: string, now = new Date()): string {
    const hash = crypto.createHash('sha256').update(`agent-host-visitor-address:${address}`).digest('base64url').slice(0, 22);
    return `${agentId.toHexString()}:${hash}:${now.toISOString().slice(0, 10)}`;
  }

  async check(agentId: Types.ObjectId, visitorId: string, address: string): Promise<void> {
    const [visitorTokens, addressUsage] = await Promise.all([
      this.visitorTokensToday(agentId, visitorId),
      this.models.VisitorAddressUsage.collection.findOne({ _id: this.key(agentId, address) as never }),
    ]);
    if (visitorTokens >= this.limits.visitorTokensPerDay || ((addressUsage?.tokens as number | undefined) ?? 0) >= this.limits.addressTokensPerDay) throw dailyLimitReached();
  }

  async record(agentId: Types.ObjectId, address: string, tokens: number, now = new Date()): Promise<void> {
    if (tokens <= 0) return;
    await this.models.VisitorAddressUsage.collection.updateOne(
      { _id: this.key(agentId, address, now) as never },
      { $inc: { tokens }, $setOnInsert: { expiresAt: new Date(now.getTime() + 2 * 86_400_000) } },
      { upsert: true },
    );
  }
}
