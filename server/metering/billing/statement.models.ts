// Monthly statements (collection `statements`): one per workspace-month, written once when the month closes and never
// changed after. Money in integer micro-dollars.
import { Schema, Types, type Connection, type Model } from 'mongoose';
import type { AllowanceMinimum, PlanUsageLine } from './billing-rule';
import { createPlanChangeModel } from './plan-history';

export interface StatementSegment {
  kind: 'plan' | 'byok' | 'paused';
  plan: string | null;
  planName: string | null;
  from: Date;
  to: Date;
  feeMicros: number;
}

export interface StatementAgent {
  agentId: string;
  name: string;
  segments: StatementSegment[];
  allowanceMinimums: AllowanceMinimum[];
  planUsage: PlanUsageLine[];
  /** Overage priced on events without a plan id (none since plan history; kept so the lines always add up). */
  otherOverageMicros: number;
  byok: { tokens: number; providerCostMicros: number };
  planFeesMicros: number;
  overageMicros: number;
  amountDueMicros: number;
}

/** A late change to an earlier closed month (events written after its statement closed), billed on this one. */
export interface StatementAdjustment {
  month: string;
  agentId: string;
  name: string;
  description: string;
  tokens: number;
  overageTokens: number;
  amountMicros: number;
}

export interface StatementTotals {
  planFeesMicros: number;
  overageMicros: number;
  adjustmentsMicros: number;
  amountDueMicros: number;
  /** BYOK agents' own provider cost, for information (not part of the amount due). */
  byokProviderCostMicros: number;
}

export interface StatementDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  month: string;
  number: string;
  closedAt: Date;
  currency: 'USD';
  agents: StatementAgent[];
  adjustments: StatementAdjustment[];
  totals: StatementTotals;
  /** Operator-only figures: never in a customer-facing answer or export. */
  operator: { managedProviderCostMicros: number; byAgent: Array<{ agentId: string; managedProviderCostMicros: number }> };
}

const statementSchema = new Schema<StatementDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    month: { type: String, required: true },
    number: { type: String, required: true, unique: true },
    closedAt: { type: Date, required: true },
    currency: { type: String, default: 'USD' },
    agents: { type: Schema.Types.Mixed, default: [] },
    adjustments: { type: Schema.Types.Mixed, default: [] },
    totals: { type: Schema.Types.Mixed, required: true },
    operator: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'statements', autoIndex: false, versionKey: false, minimize: false },
);
statementSchema.index({ workspaceId: 1, month: 1 }, { unique: true });

export const createStatementModel = (connection: Connection): Model<StatementDocument> => connection.model<StatementDocument>('Statement', statementSchema);

export const createBillingModels = (connection: Connection) => ({
  PlanChange: createPlanChangeModel(connection),
  Statement: createStatementModel(connection),
});
export type BillingModels = ReturnType<typeof createBillingModels>;
