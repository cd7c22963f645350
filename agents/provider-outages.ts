// Which agents' calls are failing because the provider is down (after retries and failover): a hint for the agent's
// health, cleared by the agent's next successful call and forgotten after a quiet window.
//
// The call path only touches this process's memory: recordFailure/recordSuccess are Map operations. When the local
// tracker flips — to down on a failure (or when the shared record it wrote has lapsed while failures go on), back up on
// a success — it writes once to the shared `provider_outages` collection (agents/provider-outage.model.ts), in the
// background and in order. The health read (agent GET/list, the dashboard; never the call path) asks `downSince`, which
// adds to this process's view the outages other instances and workers recorded (one indexed read by _id), so every
// instance shows "provider down" whichever one saw the failures, and a recovery seen by the instance that recorded it
// (or by one whose health read saw the record) clears it for all.
import os from 'node:os';
import { Types } from 'mongoose';

export const OUTAGE_WINDOW_MS = 10 * 60_000;
const MAX_TRACKED = 10_000;

/** The shared collection, as far as the tracker uses it (provider_outages; mongodb driver Collection). */
export interface OutageBoardCollection {
  updateOne(filter: { _id: Types.ObjectId }, update: Record<string, unknown>, options: { upsert: boolean }): Promise<unknown>;
  deleteOne(filter: { _id: Types.ObjectId }): Promise<unknown>;
  find(filter: Record<string, unknown>, options: { projection: Record<string, 1> }): { toArray(): Promise<Array<Record<string, unknown>>> };
}

interface LocalOutage {
  since: number;
  lastFailureAt: number;
  /** Until when the shared record this process wrote counts (0: not written). */
  announcedUntil: number;
}

export class ProviderOutages {
  private readonly local = new Map<string, LocalOutage>();
  /** Agents whose shared record (written by another process) a health read here has seen: a success here clears it. */
  private readonly remote = new Set<string>();
  /** The board writes of this process, one after the other (a clear never overtakes the record it clears). */
  private writes: Promise<void> = Promise.resolve();
  private readonly seenBy = `${os.hostname()}:${process.pid}`;

  constructor(
    private readonly windowMs = OUTAGE_WINDOW_MS,
    private readonly shared?: { board: OutageBoardCollection; onError?: (error: unknown, what: string) => void },
  ) {}

  recordFailure(agentId: string, now = Date.now()): void {
    let outage = this.local.get(agentId);
    if (!outage || now - outage.lastFailureAt > this.windowMs) {
      if (this.local.size >= MAX_TRACKED) this.local.clear();
      outage = { since: now, lastFailureAt: now, announcedUntil: 0 };
      this.local.set(agentId, outage);
    }
    outage.lastFailureAt = now;
    // A flip to down, or failures outliving the record written at the flip: one write (never one per failing call).
    if (this.shared && now >= outage.announcedUntil && Types.ObjectId.isValid(agentId)) {
      outage.announcedUntil = now + this.windowMs;
      const record = { since: new Date(outage.since), lastFailureAt: new Date(now), expiresAt: new Date(outage.announcedUntil), seenBy: this.seenBy };
      const written = outage;
      this.write('record', (board) => board.updateOne({ _id: new Types.ObjectId(agentId) }, { $set: record }, { upsert: true }), () => {
        written.announcedUntil = 0; // not written: the next failure tries again, and the health read keeps the local view
      });
    }
  }

  recordSuccess(agentId: string): void {
    if (this.local.size === 0 && this.remote.size === 0) return;
    const outage = this.local.get(agentId);
    const remote = this.remote.delete(agentId);
    if (outage) this.local.delete(agentId);
    // A flip back up: one write, when there is a shared record this process knows of.
    if (this.shared && ((outage && outage.announcedUntil > 0) || remote)) {
      this.write('clear', (board) => board.deleteOne({ _id: new Types.ObjectId(agentId) }));
    }
  }

  /** This process's view only: when the provider last failed this agent, within the window and with no success since. */
  failingSince(agentId: string, now = Date.now()): Date | undefined {
    const outage = this.local.get(agentId);
    if (outage === undefined) return undefined;
    if (now - outage.lastFailureAt > this.windowMs) {
      this.local.delete(agentId);
      return undefined;
    }
    return new Date(outage.since);
  }

  /**
   * For the health read: agent id → since when its provider has been failing, as seen by this process or recorded by
   * any instance (the shared record, until it expires or a success clears it). A local outage whose record this
   * process wrote and that is gone before its expiry was cleared by a success elsewhere: it ends here too. A failed
   * read of the shared records leaves this process's view (the health must still answer).
   */
  async downSince(agentIds: string[], now = Date.now()): Promise<Map<string, Date>> {
    const out = new Map<string, Date>();
    for (const agentId of agentIds) {
      const since = this.failingSince(agentId, now);
      if (since) out.set(agentId, since);
    }
    const ids = agentIds.filter((agentId) => Types.ObjectId.isValid(agentId));
    if (!this.shared || ids.length === 0) return out;
    let records: Map<string, Date>;
    try {
      await this.writes;
      const found = await this.shared.board
        .find({ _id: { $in: ids.map((agentId) => new Types.ObjectId(agentId)) }, expiresAt: { $gt: new Date(now) } }, { projection: { _id: 1, since: 1 } })
        .toArray();
      records = new Map(found.map((record) => [String(record._id), record.since as Date]));
    } catch (error) {
      this.shared.onError?.(error, 'read');
      return out;
    }
    for (const agentId of ids) {
      const since = records.get(agentId);
      const mine = this.local.get(agentId);
      if (since) {
        if (!out.has(agentId) || since < out.get(agentId)!) out.set(agentId, since);
        if (this.remote.size >= MAX_TRACKED) this.remote.clear();
        this.remote.add(agentId);
      } else if (mine && out.has(agentId) && mine.announcedUntil > now) {
        this.local.delete(agentId);
        out.delete(agentId);
      }
    }
    return out;
  }

  /** Waits for this process's pending board writes (tests, shutdown). */
  async settled(): Promise<void> {
    await this.writes;
  }

  private write(what: string, operation: (board: OutageBoardCollection) => Promise<unknown>, failed?: () => void): void {
    const shared = this.shared!;
    this.writes = this.writes.then(() =>
      operation(shared.board).then(
        () => undefined,
        (error: unknown) => {
          failed?.();
          shared.onError?.(error, what);
        },
      ),
    );
  }
}
