// Workspace templates: saved (from scratch or from an agent), edited, deleted, listed beside the built-in templates,
// and resolved when an agent is created from one (templateId "ws_<id>"). The prompt is checked on every save.
import { Types } from 'mongoose';
import { z } from 'zod';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { invalidInput, notFound } from '../server/errors/domain-error';
import type { WorkspaceService } from '../server/workspaces/workspace.service';
import type { AgentDocument, AgentModels, AgentPromptTemplateRecord } from './agent.model';
import type { TemplateService } from './template.service';
import type { WorkspaceTemplateDocument, WorkspaceTemplateModels } from './workspace-template.model';

export const WORKSPACE_TEMPLATE_PREFIX = 'ws_';

const variableSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must start with a letter and use only letters, digits and _'),
    label: z.string().trim().min(1, 'is required').max(120),
    required: z.boolean().optional().default(false),
    default: z.string().max(20_000).optional(),
  })
  .strict();

const templateFields = {
  name: z.string().trim().min(1, 'is required').max(80),
  description: z.string().trim().max(500),
  variables: z
    .array(variableSchema)
    .max(30)
    .refine((variables) => new Set(variables.map((variable) => variable.name)).size === variables.length, 'has the same name twice'),
  systemPrompt: z.string().min(1, 'is required').max(50_000),
  recommendedPlan: z.enum(['starter', 'pro', 'ultra']),
  estimatedMonthlyTokens: z.object({ input: z.number().int().min(0).max(1e12), output: z.number().int().min(0).max(1e12) }).strict(),
};

export const createWorkspaceTemplateSchema = z
  .object({
    fromAgentId: z.string().max(100).optional(),
    name: templateFields.name,
    description: templateFields.description.optional(),
    variables: templateFields.variables.optional(),
    systemPrompt: templateFields.systemPrompt.optional(),
    recommendedPlan: templateFields.recommendedPlan.optional(),
    estimatedMonthlyTokens: templateFields.estimatedMonthlyTokens.optional(),
  })
  .strict();
export const patchWorkspaceTemplateSchema = z.object(templateFields).partial().strict();

interface Actor {
  userId: string;
}

export class WorkspaceTemplateService {
  constructor(
    private readonly models: WorkspaceTemplateModels & Pick<AgentModels, 'Agent'>,
    private readonly templates: TemplateService,
    private readonly workspaces: Pick<WorkspaceService, 'audit'>,
  ) {}

  toPublic(template: WorkspaceTemplateDocument) {
    return {
      id: `${WORKSPACE_TEMPLATE_PREFIX}${template._id.toHexString()}`,
      workspaceTemplate: true,
      name: template.name,
      description: template.description,
      variables: template.variables.map((variable) => ({ name: variable.name, label: variable.label, required: variable.required, ...(variable.default !== undefined ? { default: variable.default } : {}) })),
      systemPrompt: template.systemPrompt,
      recommendedPlan: template.recommendedPlan,
      estimatedMonthlyTokens: template.estimatedMonthlyTokens,
      createdAt: template.createdAt.toISOString(),
      updatedAt: template.updatedAt.toISOString(),
    };
  }

  private objectIdOf(templateId: string): Types.ObjectId | undefined {
    const hex = templateId.startsWith(WORKSPACE_TEMPLATE_PREFIX) ? templateId.slice(WORKSPACE_TEMPLATE_PREFIX.length) : templateId;
    return OBJECT_ID_PATTERN.test(hex) ? new Types.ObjectId(hex) : undefined;
  }

  private async load(workspaceId: string, templateId: string): Promise<WorkspaceTemplateDocument> {
    const id = this.objectIdOf(templateId);
    if (!id) throw notFound('Template');
    const template = await this.models.WorkspaceTemplate.findOne({ _id: id, workspaceId: new Types.ObjectId(workspaceId) }).lean<WorkspaceTemplateDocument>();
    if (!template) throw notFound('Template');
    return template;
  }

  async list(workspaceId: string) {
    const templates = await this.models.WorkspaceTemplate.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: 1 }).lean<WorkspaceTemplateDocument[]>();
    return templates.map((template) => this.toPublic(template));
  }

  async get(workspaceId: string, templateId: string) {
    return this.toPublic(await this.load(workspaceId, templateId));
  }

  /** What an agent offers to a template made from it: its prompt source, and its variables with its values as defaults. */
  private async fromAgent(workspaceId: string, agentId: string) {
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = await this.models.Agent.findOne({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) }).lean<AgentDocument>();
    if (!agent) throw notFound('Agent');
    const builtIn = this.templates.find(agent.templateId);
    const source = agent.promptTemplate ?? (builtIn ? { systemPrompt: builtIn.systemPrompt, variables: builtIn.variables, name: builtIn.name } : undefined);
    if (!source) throw invalidInput('TEMPLATE_NOT_FOUND', `The agent's template "${agent.templateId}" is gone.`);
    return {
      description: builtIn?.description ?? `Made from the agent ${agent.name}.`,
      systemPrompt: source.systemPrompt,
      variables: source.variables.map((variable) => ({ ...variable, default: agent.variables?.[variable.name] ?? variable.default })),
      recommendedPlan: (agent.llm.mode === 'managed' && agent.llm.plan ? agent.llm.plan : builtIn?.recommendedPlan ?? 'starter') as 'starter' | 'pro' | 'ultra',
      estimatedMonthlyTokens: builtIn?.estimatedMonthlyTokens ?? { input: 100_000, output: 50_000 },
    };
  }

  private check(systemPrompt: string, variables: Array<{ name: string }>): void {
    this.templates.checkSource(systemPrompt, variables.map((variable) => variable.name));
  }

  async create(workspaceId: string, actor: Actor, input: z.infer<typeof createWorkspaceTemplateSchema>) {
    const base = input.fromAgentId ? await this.fromAgent(workspaceId, input.fromAgentId) : undefined;
    const systemPrompt = input.systemPrompt ?? base?.systemPrompt;
    if (!systemPrompt) throw invalidInput('VALIDATION_FAILED', 'Invalid body: systemPrompt: is required', { issues: [{ field: 'systemPrompt', message: 'is required' }] });
    const variables = (input.variables ?? base?.variables ?? []).map((variable) => ({ name: variable.name, label: variable.label, required: variable.required ?? false, ...(variable.default !== undefined ? { default: variable.default } : {}) }));
    this.check(systemPrompt, variables);
    const created = await this.models.WorkspaceTemplate.create({
      workspaceId: new Types.ObjectId(workspaceId),
      name: input.name,
      description: input.description ?? base?.description ?? '',
      variables,
      systemPrompt,
      recommendedPlan: input.recommendedPlan ?? base?.recommendedPlan ?? 'starter',
      estimatedMonthlyTokens: input.estimatedMonthlyTokens ?? base?.estimatedMonthlyTokens ?? { input: 100_000, output: 50_000 },
      createdBy: new Types.ObjectId(actor.userId),
    });
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'template.create', targetType: 'template', targetId: created._id.toHexString(), changes: { name: input.name, fromAgentId: input.fromAgentId ?? null } });
    return this.toPublic(created.toObject() as WorkspaceTemplateDocument);
  }

  async update(workspaceId: string, templateId: string, actor: Actor, input: z.infer<typeof patchWorkspaceTemplateSchema>) {
    const template = await this.load(workspaceId, templateId);
    const next = {
      name: input.name ?? template.name,
      description: input.description ?? template.description,
      variables: (input.variables ?? template.variables).map((variable) => ({ name: variable.name, label: variable.label, required: variable.required ?? false, ...(variable.default !== undefined ? { default: variable.default } : {}) })),
      systemPrompt: input.systemPrompt ?? template.systemPrompt,
      recommendedPlan: input.recommendedPlan ?? template.recommendedPlan,
      estimatedMonthlyTokens: input.estimatedMonthlyTokens ?? template.estimatedMonthlyTokens,
    };
    this.check(next.systemPrompt, next.variables);
    const updated = await this.models.WorkspaceTemplate.findOneAndUpdate({ _id: template._id, workspaceId: template.workspaceId }, { $set: next }, { new: true }).lean<WorkspaceTemplateDocument>();
    if (!updated) throw notFound('Template');
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'template.update', targetType: 'template', targetId: template._id.toHexString(), changes: { fields: Object.keys(input) } });
    return this.toPublic(updated);
  }

  async remove(workspaceId: string, templateId: string, actor: Actor): Promise<void> {
    const template = await this.load(workspaceId, templateId);
    await this.models.WorkspaceTemplate.deleteOne({ _id: template._id, workspaceId: template.workspaceId });
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'template.delete', targetType: 'template', targetId: template._id.toHexString(), changes: { name: template.name } });
  }

  /** For agent creation: the snapshot an agent made from this template keeps (400 when it is not this workspace's). */
  async snapshotFor(workspaceId: string, templateId: string): Promise<AgentPromptTemplateRecord | undefined> {
    if (!templateId.startsWith(WORKSPACE_TEMPLATE_PREFIX)) return undefined;
    const id = this.objectIdOf(templateId);
    const template = id ? await this.models.WorkspaceTemplate.findOne({ _id: id, workspaceId: new Types.ObjectId(workspaceId) }).lean<WorkspaceTemplateDocument>() : null;
    if (!template) throw invalidInput('TEMPLATE_NOT_FOUND', `There is no template "${templateId}" in this workspace.`);
    return { workspaceTemplateId: templateId, name: template.name, systemPrompt: template.systemPrompt, variables: template.variables };
  }
}
