// Conversations kept on the server: appended after each answer while the agent's retention is on (nothing is written
// when it is off), read back as history, and for owners: listed (search, filter by visitor), exported, deleted.
import { Types } from 'mongoose';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { notFound } from '../server/errors/domain-error';
import type { AgentDocument } from './agent.model';
import type { ConversationDocument, ConversationMessage, ConversationModels } from './conversation.model';

/** Retention for a managed agent whose owner chose nothing: 30 days. A BYOK agent keeps nothing unless asked to. */
export const DEFAULT_MANAGED_RETENTION_DAYS = 30;
export const MAX_RETENTION_DAYS = 365;
/** A conversation keeps at most this many messages (the oldest go first). */
export const MAX_STORED_MESSAGES = 200;
const DAY_MS = 86_400_000;

export function retentionDaysOf(agent: Pick<AgentDocument, 'llm' | 'conversations'>): number {
  const chosen = agent.conversations?.retentionDays;
  if (typeof chosen === 'number') return chosen;
  return agent.llm.mode === 'byok' ? 0 : DEFAULT_MANAGED_RETENTION_DAYS;
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface ConversationListQuery {
  q?: string;
  visitorId?: string;
  source?: 'published' | 'playground';
  limit?: number;
}

export class ConversationService {
  constructor(private readonly models: ConversationModels) {}

  /** The stored messages of one conversation of this agent (and this visitor, for a visitor); undefined when gone. */
  async history(agent: AgentDocument, conversationId: string, owner: { visitorId?: string; userId?: string }): Promise<ConversationMessage[] | undefined> {
    if (!OBJECT_ID_PATTERN.test(conversationId)) return undefined;
    const filter: Record<string, unknown> = { _id: new Types.ObjectId(conversationId), agentId: agent._id, expiresAt: { $gt: new Date() } };
    if (owner.visitorId) filter.visitorId = owner.visitorId;
    if (owner.userId) filter.userId = new Types.ObjectId(owner.userId);
    const conversation = await this.models.Conversation.collection.findOne(filter, { projection: { messages: 1 } });
    return conversation ? ((conversation.messages ?? []) as ConversationMessage[]) : undefined;
  }

  /** Adds one exchange; creates the conversation when it has no id yet (or its id is gone). Returns its id. */
  async append(
    agent: AgentDocument,
    input: { conversationId?: string; source: 'published' | 'playground'; visitorId?: string; userId?: string; user: string; assistant: string },
    now = new Date(),
  ): Promise<string | undefined> {
    const days = retentionDaysOf(agent);
    if (days <= 0) return undefined;
    const expiresAt = new Date(now.getTime() + days * DAY_MS);
    const added: ConversationMessage[] = [
      { role: 'user', content: input.user, at: now },
      ...(input.assistant ? [{ role: 'assistant' as const, content: input.assistant, at: now }] : []),
    ];
    if (input.conversationId && OBJECT_ID_PATTERN.test(input.conversationId)) {
      const filter: Record<string, unknown> = { _id: new Types.ObjectId(input.conversationId), agentId: agent._id };
      if (input.visitorId) filter.visitorId = input.visitorId;
      if (input.userId) filter.userId = new Types.ObjectId(input.userId);
      const updated = await this.models.Conversation.collection.updateOne(filter, {
        $push: { messages: { $each: added, $slice: -MAX_STORED_MESSAGES } },
        $inc: { messageCount: added.length },
        $set: { updatedAt: now, expiresAt },
      } as never);
      if (updated.matchedCount === 1) return input.conversationId;
    }
    const id = new Types.ObjectId();
    await this.models.Conversation.collection.insertOne({
      _id: id,
      workspaceId: agent.workspaceId,
      agentId: agent._id,
      source: input.source,
      visitorId: input.visitorId ?? null,
      userId: input.userId ? new Types.ObjectId(input.userId) : null,
      title: input.user.slice(0, 120),
      messages: added,
      messageCount: added.length,
      createdAt: now,
      updatedAt: now,
      expiresAt,
    } as never);
    return id.toHexString();
  }

  private toSummary(conversation: Partial<ConversationDocument>) {
    const messages = conversation.messages ?? [];
    return {
      id: conversation._id!.toString(),
      source: conversation.source,
      visitorId: conversation.visitorId ?? null,
      title: conversation.title ?? '',
      messageCount: conversation.messageCount ?? messages.length,
      lastMessage: messages.length ? messages[messages.length - 1]!.content.slice(0, 200) : '',
      createdAt: conversation.createdAt?.toISOString() ?? null,
      updatedAt: conversation.updatedAt?.toISOString() ?? null,
      expiresAt: conversation.expiresAt?.toISOString() ?? null,
    };
  }

  private toFull(conversation: ConversationDocument) {
    return {
      ...this.toSummary(conversation),
      messages: (conversation.messages ?? []).map((message) => ({ role: message.role, content: message.content, at: new Date(message.at).toISOString() })),
    };
  }

  private filterFor(agentId: Types.ObjectId, query: ConversationListQuery): Record<string, unknown> {
    const filter: Record<string, unknown> = { agentId, expiresAt: { $gt: new Date() } };
    if (query.source) filter.source = query.source;
    if (query.visitorId) filter.visitorId = query.visitorId;
    if (query.q) filter['messages.content'] = { $regex: escapeRegex(query.q), $options: 'i' };
    return filter;
  }

  async list(agent: Pick<AgentDocument, '_id'>, query: ConversationListQuery) {
    const filter = this.filterFor(agent._id, query);
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 200);
    const [documents, total] = await Promise.all([
      this.models.Conversation.collection.find(filter).sort({ updatedAt: -1 }).limit(limit).toArray(),
      this.models.Conversation.collection.countDocuments(filter),
    ]);
    return { total, conversations: documents.map((document) => this.toSummary(document as unknown as ConversationDocument)) };
  }

  async get(agent: Pick<AgentDocument, '_id'>, conversationId: string) {
    if (!OBJECT_ID_PATTERN.test(conversationId)) throw notFound('Conversation');
    const document = await this.models.Conversation.collection.findOne({ _id: new Types.ObjectId(conversationId), agentId: agent._id, expiresAt: { $gt: new Date() } });
    if (!document) throw notFound('Conversation');
    return this.toFull(document as unknown as ConversationDocument);
  }

  /** Every conversation that matches, whole, oldest first (the owner's export). */
  async *export(agent: Pick<AgentDocument, '_id'>, query: ConversationListQuery) {
    const cursor = this.models.Conversation.collection.find(this.filterFor(agent._id, query)).sort({ createdAt: 1 }).batchSize(200);
    for await (const document of cursor) yield this.toFull(document as unknown as ConversationDocument);
  }

  async remove(agent: Pick<AgentDocument, '_id'>, conversationId: string): Promise<void> {
    if (!OBJECT_ID_PATTERN.test(conversationId)) throw notFound('Conversation');
    const result = await this.models.Conversation.collection.deleteOne({ _id: new Types.ObjectId(conversationId), agentId: agent._id });
    if (result.deletedCount === 0) throw notFound('Conversation');
  }

  async removeAll(agent: Pick<AgentDocument, '_id'>, query: Pick<ConversationListQuery, 'visitorId' | 'source'> = {}): Promise<number> {
    const filter: Record<string, unknown> = { agentId: agent._id };
    if (query.source) filter.source = query.source;
    if (query.visitorId) filter.visitorId = query.visitorId;
    return (await this.models.Conversation.collection.deleteMany(filter)).deletedCount;
  }

  /** Part of deleting an agent or a workspace. */
  async removeForAgents(agentIds: Types.ObjectId[]): Promise<void> {
    if (agentIds.length) await this.models.Conversation.collection.deleteMany({ agentId: { $in: agentIds } });
  }
}
