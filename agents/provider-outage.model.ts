// provider_outages: the agents whose calls are failing because the provider is unavailable, shared by every instance
// and worker on the database, so each one's agent health sees the outages the others saw (agents/provider-outages.ts).
// One record per agent, written when an instance's tracker flips to down and deleted when a call succeeds again;
// a TTL index removes it when the window passes without anyone refreshing or clearing it.
import { Schema, Types, type Connection, type Model } from 'mongoose';

export interface ProviderOutageDocument {
  /** The agent's id. */
  _id: Types.ObjectId;
  /** First failure of this outage, as the instance that wrote it saw it. */
  since: Date;
  lastFailureAt: Date;
  /** When the record stops counting (and the TTL monitor removes it): lastFailureAt + the outage window. */
  expiresAt: Date;
  /** Which process saw it (host:pid), for operators. */
  seenBy: string;
}

const providerOutageSchema = new Schema<ProviderOutageDocument>(
  {
    _id: { type: Schema.Types.ObjectId, required: true },
    since: { type: Date, required: true },
    lastFailureAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    seenBy: { type: String, required: true },
  },
  { collection: 'provider_outages', autoIndex: false, versionKey: false },
);
providerOutageSchema.index({ expiresAt: 1 }, { expireAfterSeconds: 0, name: 'provider_outages_ttl' });

export const createProviderOutageModels = (connection: Connection) => ({
  ProviderOutage: connection.model<ProviderOutageDocument>('ProviderOutage', providerOutageSchema) as Model<ProviderOutageDocument>,
});
export type ProviderOutageModels = ReturnType<typeof createProviderOutageModels>;
