// A/B experiments of agents (collection `experiments`) and thumbs up / down feedback on answers (collection `feedback`).
import { Schema, Types, type Connection, type Model } from 'mongoose';

export type ExperimentStatus = 'draft' | 'running' | 'paused' | 'stopped';
export type AssignmentUnit = 'user' | 'conversation' | 'request';

export interface ExperimentVariant {
  /** "A", "B", "C"… in the order given. */
  key: string;
  name: string;
  /** Share of the traffic in percent; the variants' weights sum to 100. */
  weight: number;
  llm?: { mode: 'managed'; plan: 'starter' | 'pro' | 'ultra' } | { mode: 'byok'; provider: string; model: string } | null;
  temperature?: number | null;
  variables?: Record<string, string> | null;
}

export interface ExperimentDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  name: string;
  status: ExperimentStatus;
  /** true while running: a partial unique index keeps one running experiment per agent. */
  running: boolean;
  assignBy: AssignmentUnit;
  variants: ExperimentVariant[];
  /** Failed calls per variant key (meter events exist only for calls that produced tokens). */
  failures: Record<string, number>;
  startedAt: Date | null;
  stoppedAt: Date | null;
  promotedVariant: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface FeedbackDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  agentId: Types.ObjectId;
  requestId: string;
  rating: 'up' | 'down';
  experiment?: { id: string; variant: string } | null;
  createdAt: Date;
  updatedAt: Date;
}

const experimentSchema = new Schema<ExperimentDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    status: { type: String, enum: ['draft', 'running', 'paused', 'stopped'], required: true },
    running: { type: Boolean, default: false },
    assignBy: { type: String, enum: ['user', 'conversation', 'request'], required: true },
    variants: { type: Schema.Types.Mixed, required: true },
    failures: { type: Schema.Types.Mixed, default: {} },
    startedAt: { type: Date, default: null },
    stoppedAt: { type: Date, default: null },
    promotedVariant: { type: String, default: null },
  },
  { collection: 'experiments', autoIndex: false, timestamps: true, minimize: false, versionKey: false },
);
experimentSchema.index({ agentId: 1, createdAt: -1 });
experimentSchema.index({ agentId: 1 }, { unique: true, partialFilterExpression: { running: true }, name: 'one_running_experiment_per_agent' });

const feedbackSchema = new Schema<FeedbackDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    agentId: { type: Schema.Types.ObjectId, required: true },
    requestId: { type: String, required: true, unique: true },
    rating: { type: String, enum: ['up', 'down'], required: true },
    experiment: { type: new Schema({ id: String, variant: String }, { _id: false }), default: null },
  },
  { collection: 'feedback', autoIndex: false, timestamps: true, versionKey: false },
);
feedbackSchema.index({ 'experiment.id': 1 });

export const createExperimentModels = (connection: Connection) => ({
  Experiment: connection.model<ExperimentDocument>('Experiment', experimentSchema) as Model<ExperimentDocument>,
  Feedback: connection.model<FeedbackDocument>('Feedback', feedbackSchema) as Model<FeedbackDocument>,
});
