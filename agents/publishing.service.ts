// Publishing an agent: its public share link (an unguessable slug, rotated at will), the chat's look (name, greeting,
// suggested questions, accent colour), the sites that may embed it, and the conversation retention. The public view
// of a published agent carries none of its prompt, LLM setting or keys.
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { DomainError, notFound } from '../server/errors/domain-error';
import type { WorkspaceService } from '../server/workspaces/workspace.service';
import type { AgentDocument, AgentModels, AgentPublishingRecord } from './agent.model';
import { retentionDaysOf } from './conversation.service';
import type { PublishingSettingsInput } from './publishing.schemas';

export const SLUG_PATTERN = /^[A-Za-z0-9_-]{20,64}$/;
export const DEFAULT_ACCENT = '#2563eb';

function newSlug(): string {
  return crypto.randomBytes(18).toString('base64url');
}

interface Actor {
  userId: string;
}

export class PublishingService {
  constructor(
    private readonly models: Pick<AgentModels, 'Agent'>,
    private readonly workspaces: Pick<WorkspaceService, 'audit'>,
  ) {}

  private async load(workspaceId: string, agentId: string): Promise<AgentDocument> {
    if (!OBJECT_ID_PATTERN.test(agentId) || !OBJECT_ID_PATTERN.test(workspaceId)) throw notFound('Agent');
    const agent = await this.models.Agent.findOne({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) }).lean<AgentDocument>();
    if (!agent) throw notFound('Agent');
    return agent;
  }

  private current(agent: AgentDocument): AgentPublishingRecord {
    const stored = agent.publishing ?? undefined;
    return {
      enabled: stored?.enabled ?? false,
      slug: stored?.slug ?? null,
      displayName: stored?.displayName ?? agent.name,
      greeting: stored?.greeting ?? `Hi! I'm ${agent.name}. How can I help?`,
      suggestedQuestions: stored?.suggestedQuestions ?? [],
      accentColor: stored?.accentColor ?? DEFAULT_ACCENT,
      allowedOrigins: stored?.allowedOrigins ?? [],
      publishedAt: stored?.publishedAt ?? null,
    };
  }

  /** What the owner sees and edits. */
  toSettings(agent: AgentDocument) {
    const publishing = this.current(agent);
    const retentionDays = retentionDaysOf(agent);
    return {
      agentId: agent._id.toString(),
      enabled: publishing.enabled,
      slug: publishing.enabled ? publishing.slug : null,
      sharePath: publishing.enabled && publishing.slug ? `/p/${publishing.slug}` : null,
      displayName: publishing.displayName,
      greeting: publishing.greeting,
      suggestedQuestions: publishing.suggestedQuestions,
      accentColor: publishing.accentColor,
      allowedOrigins: publishing.allowedOrigins,
      publishedAt: publishing.publishedAt ? new Date(publishing.publishedAt).toISOString() : null,
      retentionDays,
      retentionIsDefault: typeof agent.conversations?.retentionDays !== 'number',
    };
  }

  async settings(workspaceId: string, agentId: string) {
    return this.toSettings(await this.load(workspaceId, agentId));
  }

  private async save(agent: AgentDocument, set: Record<string, unknown>, actor: Actor, action: string, changes: Record<string, unknown>) {
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: set }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    await this.workspaces.audit({ workspaceId: agent.workspaceId.toString(), actorUserId: actor.userId, action, targetType: 'agent', targetId: agent._id.toString(), changes });
    return this.toSettings(updated);
  }

  async update(workspaceId: string, agentId: string, actor: Actor, input: PublishingSettingsInput) {
    const agent = await this.load(workspaceId, agentId);
    const publishing = { ...this.current(agent) };
    if (input.displayName !== undefined) publishing.displayName = input.displayName;
    if (input.greeting !== undefined) publishing.greeting = input.greeting;
    if (input.suggestedQuestions !== undefined) publishing.suggestedQuestions = input.suggestedQuestions;
    if (input.accentColor !== undefined) publishing.accentColor = input.accentColor.toLowerCase();
    if (input.allowedOrigins !== undefined) publishing.allowedOrigins = [...new Set(input.allowedOrigins)];
    const set: Record<string, unknown> = { publishing };
    if (input.retentionDays !== undefined) set['conversations.retentionDays'] = input.retentionDays;
    return this.save(agent, set, actor, 'agent.publishing.change', input as Record<string, unknown>);
  }

  /** Publishes (a new slug the first time) or, with `rotate`, replaces the slug so the old link stops working. */
  async publish(workspaceId: string, agentId: string, actor: Actor, options: { rotate?: boolean } = {}) {
    const agent = await this.load(workspaceId, agentId);
    const publishing = { ...this.current(agent) };
    for (let attempt = 0; ; attempt += 1) {
      if (!publishing.slug || options.rotate) publishing.slug = newSlug();
      publishing.enabled = true;
      publishing.publishedAt ??= new Date();
      try {
        return await this.save(agent, { publishing }, actor, options.rotate ? 'agent.publishing.rotate' : 'agent.publish', {});
      } catch (error) {
        // A slug collision (18 random bytes: never in practice) draws a new one.
        if (!isDuplicateKeyError(error) || attempt >= 3) throw error;
        publishing.slug = null;
      }
    }
  }

  /** Unpublishes: the link and every embed stop at once (404); the settings stay for a later publish. */
  async unpublish(workspaceId: string, agentId: string, actor: Actor) {
    const agent = await this.load(workspaceId, agentId);
    const publishing = { ...this.current(agent), enabled: false, slug: null, publishedAt: null };
    return this.save(agent, { publishing }, actor, 'agent.unpublish', {});
  }

  /** The agent behind a share link, when it is published; unknown, malformed or unpublished links are all a 404. */
  async findPublished(slug: string): Promise<AgentDocument> {
    if (!SLUG_PATTERN.test(slug)) throw notFound('Chat');
    const agent = await this.models.Agent.findOne({ 'publishing.slug': slug, 'publishing.enabled': true }).lean<AgentDocument>();
    if (!agent) throw notFound('Chat');
    return agent;
  }

  /** The share page and same-site requests (no Origin, or the platform's own) pass; other sites must be listed. */
  assertOriginAllowed(agent: AgentDocument, origin: string | undefined, ownOrigin: string): void {
    if (!origin || origin === ownOrigin) return;
    if ((agent.publishing?.allowedOrigins ?? []).includes(origin)) return;
    throw new DomainError('ORIGIN_NOT_ALLOWED', 'This chat is not enabled on this website.', { details: { origin } });
  }

  /** What a visitor's page may know: the look of the chat and whether conversations are kept. Nothing else. */
  publicView(agent: AgentDocument) {
    const publishing = this.current(agent);
    return {
      displayName: publishing.displayName,
      greeting: publishing.greeting,
      suggestedQuestions: publishing.suggestedQuestions,
      accentColor: publishing.accentColor,
      keepsConversations: retentionDaysOf(agent) > 0,
    };
  }
}
