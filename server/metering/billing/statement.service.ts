// Monthly statements: built from the month's bills (workspace-bills.ts), closed exactly once per workspace-month
// (unique index + insert-if-absent, safe with several instances and across restarts), never changed afterwards.
// Events written for a closed month after it closed are billed as adjustment lines on the next statement.
import crypto from 'node:crypto';
import { Types, type Model } from 'mongoose';
import type { Catalog } from '../../catalog/catalog.service';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../../db/driver-errors';
import { notFound } from '../../errors/domain-error';
import type { Logger } from '../../logger';
import type { MeteredAgentCollection, UsageMonthlyDocument } from '../metering.models';
import { monthOf } from '../pricing';
import { monthBounds, previousMonth, type AgentMonthBill } from './billing-rule';
import type { PlanChangeDocument } from './plan-history';
import type { StatementAdjustment, StatementAgent, StatementDocument } from './statement.models';
import { BILLED_AGENT_PROJECTION, BILLED_ROLLUP_PROJECTION, billWorkspaceMonth, type BilledAgentRecord, type BilledRollup } from './workspace-bills';
import { StatementEvents } from './statement-events';

/** How many earlier closed months a closing statement looks back at for late events. */
const ADJUSTMENT_LOOKBACK_MONTHS = 3;

export interface StatementServiceOptions {
  /** A month closes this long after it ends, so calls in flight at midnight and queued meter batches land first. */
  closeGraceMs: number;
}

export const DEFAULT_STATEMENT_OPTIONS: StatementServiceOptions = { closeGraceMs: 10 * 60_000 };

export type StatementDraft = Omit<StatementDocument, '_id'>;

export function statementNumber(workspaceId: string, month: string): string {
  const digest = crypto.createHash('sha256').update(workspaceId).digest('hex').slice(0, 8).toUpperCase();
  return `AH-${month.replace('-', '')}-${digest}`;
}

export class StatementService {
  readonly events = new StatementEvents();
  private readonly options: StatementServiceOptions;

  constructor(
    private readonly models: {
      Statement: Model<StatementDocument>;
      PlanChange: Model<PlanChangeDocument>;
      UsageMonthly: Model<UsageMonthlyDocument>;
      Agent: { collection: MeteredAgentCollection };
    },
    private readonly catalog: Catalog,
    private readonly logger: Logger,
    options: Partial<StatementServiceOptions> = {},
  ) {
    this.options = { ...DEFAULT_STATEMENT_OPTIONS, ...options };
  }

  /** The month's bills as they stand now (truth from rollups and history). */
  async billsOf(workspaceId: Types.ObjectId, month: string): Promise<{ bills: AgentMonthBill[]; rollups: Array<BilledRollup & { costTotalMicros?: number }> }> {
    const [agents, rollups, changes] = await Promise.all([
      this.models.Agent.collection.find({ workspaceId }, { projection: BILLED_AGENT_PROJECTION }).toArray() as unknown as Promise<BilledAgentRecord[]>,
      this.models.UsageMonthly.collection.find({ workspaceId, month }, { projection: { ...BILLED_ROLLUP_PROJECTION, costTotalMicros: 1 } }).toArray() as unknown as Promise<Array<BilledRollup & { costTotalMicros?: number }>>,
      this.models.PlanChange.collection.find({ workspaceId, at: { $gte: monthBounds(month).start } }).sort({ at: 1, _id: 1 }).toArray() as unknown as Promise<PlanChangeDocument[]>,
    ]);
    return { bills: billWorkspaceMonth({ month, agents, rollups, changes, catalog: this.catalog }), rollups };
  }

  /** What the statement of `month` says (or would say if it closed now): nothing is written. */
  async draft(workspaceId: string, month: string, now = new Date()): Promise<StatementDraft> {
    const workspaceObjectId = new Types.ObjectId(workspaceId);
    const { bills, rollups } = await this.billsOf(workspaceObjectId, month);
    const agents: StatementAgent[] = bills.map((bill) => {
      const planOverage = bill.planUsage.reduce((total, line) => total + line.overageMicros, 0);
      return {
        agentId: bill.agentId,
        name: bill.name,
        segments: bill.segments.map((segment) => ({ ...segment })),
        allowanceMinimums: bill.allowanceMinimums,
        planUsage: bill.planUsage,
        otherOverageMicros: bill.overageMicros - planOverage,
        byok: bill.byok,
        planFeesMicros: bill.planFeesMicros,
        overageMicros: bill.overageMicros,
        amountDueMicros: bill.amountDueMicros,
      };
    });
    const adjustments = await this.lateAdjustments(workspaceObjectId, month);
    const sum = (values: number[]) => values.reduce((total, value) => total + value, 0);
    const planFeesMicros = sum(agents.map((agent) => agent.planFeesMicros));
    const overageMicros = sum(agents.map((agent) => agent.overageMicros));
    const adjustmentsMicros = sum(adjustments.map((line) => line.amountMicros));
    const byAgent = rollups.map((rollup) => ({ agentId: rollup.agentId!.toString(), managedProviderCostMicros: (rollup.costTotalMicros ?? 0) - (rollup.byokCostMicros ?? 0) }));
    return {
      workspaceId: workspaceObjectId,
      month,
      number: statementNumber(workspaceId, month),
      closedAt: now,
      currency: 'USD',
      agents,
      adjustments,
      totals: { planFeesMicros, overageMicros, adjustmentsMicros, amountDueMicros: planFeesMicros + overageMicros + adjustmentsMicros, byokProviderCostMicros: sum(agents.map((agent) => agent.byok.providerCostMicros)) },
      operator: { managedProviderCostMicros: sum(byAgent.map((entry) => entry.managedProviderCostMicros)), byAgent },
    };
  }

  /**
   * Late events: for each earlier closed month, what its bills say now minus what its statement and the adjustments
   * since have billed. Only a statement's own month and later ones are compared, so each difference is billed once.
   */
  private async lateAdjustments(workspaceId: Types.ObjectId, month: string): Promise<StatementAdjustment[]> {
    const months: string[] = [];
    for (let candidate = previousMonth(month), count = 0; count < ADJUSTMENT_LOOKBACK_MONTHS; candidate = previousMonth(candidate), count += 1) months.push(candidate);
    const earlier = (await this.models.Statement.collection.find({ workspaceId, month: { $in: months } }).toArray()) as unknown as StatementDocument[];
    if (earlier.length === 0) return [];
    const later = (await this.models.Statement.collection.find({ workspaceId, month: { $gt: months[months.length - 1]!, $lt: month } }, { projection: { month: 1, adjustments: 1 } }).toArray()) as unknown as StatementDocument[];
    const adjustments: StatementAdjustment[] = [];
    for (const statement of earlier.sort((a, b) => a.month.localeCompare(b.month))) {
      const { bills } = await this.billsOf(workspaceId, statement.month);
      const billed = new Map<string, { amount: number; tokens: number; overageTokens: number; name: string }>();
      for (const agent of statement.agents) {
        billed.set(agent.agentId, { amount: agent.amountDueMicros, tokens: sumTokens(agent.planUsage) + agent.byok.tokens, overageTokens: sumOverage(agent.planUsage), name: agent.name });
      }
      for (const laterStatement of later.filter((candidate) => candidate.month > statement.month)) {
        for (const line of laterStatement.adjustments ?? []) {
          if (line.month !== statement.month) continue;
          const entry = billed.get(line.agentId) ?? { amount: 0, tokens: 0, overageTokens: 0, name: line.name };
          entry.amount += line.amountMicros;
          entry.tokens += line.tokens;
          entry.overageTokens += line.overageTokens;
          billed.set(line.agentId, entry);
        }
      }
      for (const bill of bills) {
        const before = billed.get(bill.agentId) ?? { amount: 0, tokens: 0, overageTokens: 0, name: bill.name };
        const tokens = sumTokens(bill.planUsage) + bill.byok.tokens - before.tokens;
        const overageTokens = sumOverage(bill.planUsage) - before.overageTokens;
        const amount = bill.amountDueMicros - before.amount;
        if (amount === 0 && tokens === 0) continue;
        adjustments.push({
          month: statement.month,
          agentId: bill.agentId,
          name: bill.name,
          description: `Usage of ${statement.month} recorded after statement ${statement.number} closed`,
          tokens,
          overageTokens,
          amountMicros: amount,
        });
      }
    }
    return adjustments;
  }

  /**
   * Closes one workspace-month exactly once: the first writer inserts it; every other attempt (another instance, a
   * restart, a second timer tick) finds it and changes nothing. `closed` says whether this call wrote it.
   */
  async close(workspaceId: string, month: string, now = new Date()): Promise<{ statement: StatementDocument; closed: boolean }> {
    const workspaceObjectId = new Types.ObjectId(workspaceId);
    const existing = (await this.models.Statement.collection.findOne({ workspaceId: workspaceObjectId, month })) as StatementDocument | null;
    if (existing) return { statement: existing, closed: false };
    const { workspaceId: _workspace, month: _month, ...draft } = await this.draft(workspaceId, month, now);
    let closed = false;
    try {
      // Insert-if-absent: a statement that exists is never touched again.
      const result = await this.models.Statement.collection.updateOne({ workspaceId: workspaceObjectId, month }, { $setOnInsert: draft as never }, { upsert: true });
      closed = result.upsertedCount === 1;
    } catch (error) {
      // Two first upserts raced to the unique index: the other one wrote it.
      if (!isDuplicateKeyError(error)) throw error;
    }
    const statement = (await this.models.Statement.collection.findOne({ workspaceId: workspaceObjectId, month })) as StatementDocument | null;
    if (!statement) throw new Error(`statement ${workspaceId} ${month} missing after close`);
    if (closed) {
      this.logger.info({ workspaceId, month, number: statement.number, amountDueMicros: statement.totals.amountDueMicros }, 'statement closed');
      this.events.emitClosed({ workspaceId, month, statementId: statement._id.toString(), number: statement.number, amountDueMicros: statement.totals.amountDueMicros, closedAt: statement.closedAt });
    }
    return { statement, closed };
  }

  /** The month that is due to close at `now` (the previous one, once the grace period after its end has passed). */
  dueMonth(now: Date): string | undefined {
    const current = monthOf(now);
    if (now.getTime() < monthBounds(current).start.getTime() + this.options.closeGraceMs) return undefined;
    return previousMonth(current);
  }

  /** Closes the previous month of every workspace that had agents or usage in it; idempotent. */
  async closeDue(now = new Date()): Promise<{ month: string | undefined; closed: number; alreadyClosed: number }> {
    const month = this.dueMonth(now);
    if (!month) return { month, closed: 0, alreadyClosed: 0 };
    const { end } = monthBounds(month);
    const [fromAgents, fromRollups, fromHistory, done] = await Promise.all([
      this.models.Agent.collection.find({ createdAt: { $lt: end } }, { projection: { workspaceId: 1 } }).toArray(),
      this.models.UsageMonthly.collection.find({ month }, { projection: { workspaceId: 1 } }).toArray(),
      this.models.PlanChange.collection.find({ at: { $gte: monthBounds(month).start } }, { projection: { workspaceId: 1 } }).toArray(),
      this.models.Statement.collection.find({ month }, { projection: { workspaceId: 1 } }).toArray(),
    ]);
    const closedAlready = new Set(done.map((row) => String(row.workspaceId)));
    const workspaceIds = new Set([...fromAgents, ...fromRollups, ...fromHistory].map((row) => String(row.workspaceId)));
    let closed = 0;
    let alreadyClosed = 0;
    for (const workspaceId of workspaceIds) {
      if (closedAlready.has(workspaceId)) {
        alreadyClosed += 1;
        continue;
      }
      const result = await this.close(workspaceId, month, now);
      if (result.closed) closed += 1;
      else alreadyClosed += 1;
    }
    return { month, closed, alreadyClosed };
  }

  async list(workspaceId: string) {
    const rows = (await this.models.Statement.collection
      .find({ workspaceId: new Types.ObjectId(workspaceId) }, { projection: { month: 1, number: 1, closedAt: 1, totals: 1, currency: 1 } })
      .sort({ month: -1 })
      .toArray()) as unknown as StatementDocument[];
    return rows;
  }

  async get(workspaceId: string, month: string): Promise<StatementDocument> {
    if (!OBJECT_ID_PATTERN.test(workspaceId)) throw notFound('Statement');
    const statement = (await this.models.Statement.collection.findOne({ workspaceId: new Types.ObjectId(workspaceId), month })) as StatementDocument | null;
    if (!statement) throw notFound('Statement');
    return statement;
  }
}

function sumTokens(lines: ReadonlyArray<{ tokens: number }>): number {
  return lines.reduce((total, line) => total + line.tokens, 0);
}

function sumOverage(lines: ReadonlyArray<{ overageTokens: number }>): number {
  return lines.reduce((total, line) => total + line.overageTokens, 0);
}
