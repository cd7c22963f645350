// workspace_templates: agent templates a workspace saved for itself (name, description, variables, Handlebars prompt,
// suggested plan and usage estimate), offered next to the built-in ones; an agent made from one keeps a snapshot.
import { Schema, type Connection, type Model, type Types } from 'mongoose';

export interface WorkspaceTemplateVariable {
  name: string;
  label: string;
  required: boolean;
  default?: string;
}

export interface WorkspaceTemplateDocument {
  _id: Types.ObjectId;
  workspaceId: Types.ObjectId;
  name: string;
  description: string;
  variables: WorkspaceTemplateVariable[];
  systemPrompt: string;
  recommendedPlan: 'starter' | 'pro' | 'ultra';
  estimatedMonthlyTokens: { input: number; output: number };
  createdBy: Types.ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

const workspaceTemplateSchema = new Schema<WorkspaceTemplateDocument>(
  {
    workspaceId: { type: Schema.Types.ObjectId, required: true },
    name: { type: String, required: true },
    description: { type: String, default: '' },
    variables: { type: Schema.Types.Mixed, default: [] },
    systemPrompt: { type: String, required: true },
    recommendedPlan: { type: String, enum: ['starter', 'pro', 'ultra'], required: true },
    estimatedMonthlyTokens: { input: Number, output: Number },
    createdBy: { type: Schema.Types.ObjectId, required: true },
  },
  { collection: 'workspace_templates', autoIndex: false, versionKey: false, timestamps: true, minimize: false },
);
workspaceTemplateSchema.index({ workspaceId: 1, createdAt: 1 });

export const createWorkspaceTemplateModels = (connection: Connection) => ({
  WorkspaceTemplate: connection.model<WorkspaceTemplateDocument>('WorkspaceTemplate', workspaceTemplateSchema) as Model<WorkspaceTemplateDocument>,
});
export type WorkspaceTemplateModels = ReturnType<typeof createWorkspaceTemplateModels>;
