// Key health that watches: the history of each BYOK key's status, and a background checker that keeps the status of
// keys in use current with the provider's cheapest authenticated call (the adapter's checkKey, via testConnection).
// The checker runs off the request path, at most once per interval per key (jittered), and claims each check with
// one atomic update, so several instances never check the same key twice.
import { Types } from 'mongoose';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { notFound } from '../server/errors/domain-error';
import type { Logger } from '../server/logger';
import type { AgentDocument, AgentModels } from './agent.model';
import type { KeyHealthModels, KeyStatusChangeDocument, KeyStatusSource } from './key-health.model';
import type { KeyStatusListener } from './agent.service';

export interface KeyCheckPolicy {
  /** A key is checked at most once per interval (±jitter). */
  intervalMs: number;
  /** 0..1: the share of the interval the next check moves by, at random, so checks spread out. */
  jitter: number;
  /** Only keys whose agent made a call within this window are checked. */
  usedWithinMs: number;
  /** How often the checker looks for keys that are due (±50 % at random). */
  tickMs: number;
  /** Keys checked per tick at most. */
  batchSize: number;
}

/** Every 6 hours per key (±25 %), keys used in the last 3 days, looked for every 5 minutes. */
export const DEFAULT_KEY_CHECK_POLICY: KeyCheckPolicy = { intervalMs: 6 * 3_600_000, jitter: 0.25, usedWithinMs: 3 * 86_400_000, tickMs: 5 * 60_000, batchSize: 20 };

export interface PublicKeyStatusChange {
  status: string;
  previousStatus: string | null;
  source: KeyStatusSource;
  keyMask: string | null;
  at: string;
}

export interface KeyHealthDependencies {
  models: Pick<AgentModels, 'Agent'> & KeyHealthModels;
  /** Agents with BYOK usage since then (server/metering: the rollups written since). */
  recentlyUsedByokAgents(since: Date): Promise<string[]>;
  /** The connection test with the agent's key, recording what it finds (agents/connection-test.ts). */
  checkKey(agent: AgentDocument, source: KeyStatusSource): Promise<{ status: string }>;
  logger: Logger;
}

export class KeyHealthService {
  private readonly policy: KeyCheckPolicy;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private stopped = false;

  constructor(
    private readonly dependencies: KeyHealthDependencies,
    policy: Partial<KeyCheckPolicy> = {},
  ) {
    this.policy = { ...DEFAULT_KEY_CHECK_POLICY, ...policy };
  }

  /** Subscribed to AgentService.onKeyStatusChanged: one history row per change. */
  readonly recordChange: KeyStatusListener = (change) => {
    void this.dependencies.models.KeyStatusChange.create({
      agentId: new Types.ObjectId(change.agentId),
      workspaceId: new Types.ObjectId(change.workspaceId),
      status: change.status,
      previousStatus: change.previousStatus,
      source: change.source,
      keyMask: change.keyMask,
      at: change.at,
    }).catch((error) => this.dependencies.logger.warn({ err: error, agentId: change.agentId }, 'could not record key status change'));
  };

  async history(workspaceId: string, agentId: string, limit = 50): Promise<PublicKeyStatusChange[]> {
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = await this.dependencies.models.Agent.exists({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) });
    if (!agent) throw notFound('Agent');
    const changes = await this.dependencies.models.KeyStatusChange.find({ agentId: new Types.ObjectId(agentId) }).sort({ at: -1, _id: -1 }).limit(limit).lean<KeyStatusChangeDocument[]>();
    return changes.map((change) => ({ status: change.status, previousStatus: change.previousStatus, source: change.source, keyMask: change.keyMask, at: change.at.toISOString() }));
  }

  start(): void {
    this.scheduleTick();
  }

  private scheduleTick(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.checkDueKeys().catch((error) => {
        this.dependencies.logger.warn({ err: error }, 'key health check failed');
        return 0;
      });
      void this.running.finally(() => {
        this.running = undefined;
        this.scheduleTick();
      });
    }, Math.round(this.policy.tickMs * (0.5 + Math.random())));
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  /** One pass: claims the due keys of recently used agents and checks them. Returns how many were checked. */
  async checkDueKeys(now = new Date()): Promise<number> {
    const agentIds = await this.dependencies.recentlyUsedByokAgents(new Date(now.getTime() - this.policy.usedWithinMs));
    let checked = 0;
    for (const agentId of agentIds) {
      if (checked >= this.policy.batchSize || this.stopped) break;
      const agent = await this.claim(agentId, now);
      if (!agent) continue;
      checked += 1;
      try {
        await this.dependencies.checkKey(agent, 'background_check');
      } catch (error) {
        this.dependencies.logger.warn({ err: error, agentId }, 'background key check failed');
      }
    }
    return checked;
  }

  /** Moves the key's next check one interval (± jitter) ahead, atomically: only the instance that moved it checks. */
  private async claim(agentId: string, now: Date): Promise<AgentDocument | null> {
    const spread = this.policy.intervalMs * this.policy.jitter * (2 * Math.random() - 1);
    return this.dependencies.models.Agent.findOneAndUpdate(
      {
        _id: new Types.ObjectId(agentId),
        'llm.mode': 'byok',
        'llm.sealedKey': { $ne: null },
        $or: [{ 'llm.keyNextCheckAt': null }, { 'llm.keyNextCheckAt': { $lte: now } }],
      },
      { $set: { 'llm.keyNextCheckAt': new Date(now.getTime() + this.policy.intervalMs + spread) } },
      { new: true },
    ).lean<AgentDocument>();
  }
}
