// One turn of a server-side conversation (a published chat's visitor, or the playground): the history (stored when
// the agent keeps conversations, else what the page sent) trimmed to the model's context window, the agent's
// streamed answer, then the exchange appended (only when retention is on). The meter event names the end user and
// never holds content.
import type { Catalog } from '../server/catalog/catalog.service';
import { DomainError } from '../server/errors/domain-error';
import { countTokens } from '../server/llm/token-estimator';
import type { AgentDocument } from './agent.model';
import type { AgentRunner } from './agent-runner';
import { contextWindowOf, trimToContextWindow } from './conversation-window';
import { retentionDaysOf, type ConversationService } from './conversation.service';
import { MAX_VISITOR_MESSAGE_LENGTH } from './publishing.schemas';
import type { TemplateService } from './template.service';

export type ConversationEvent =
  | { type: 'delta'; content: string }
  | { type: 'end'; conversationId: string | null; usage: { inputTokens: number; outputTokens: number }; finishReason: string; historyDropped: number };

export interface ConversationTurn {
  agent: AgentDocument;
  source: 'published' | 'playground';
  visitorId?: string;
  userId?: string;
  message: string;
  conversationId?: string;
  history?: Array<{ role: 'user' | 'assistant'; content: string }>;
  endUser?: string;
  metadata?: Record<string, string>;
  signal: AbortSignal;
  requestId: string;
  maxMessageLength?: number;
}

export function checkMessage(message: string, maxLength = MAX_VISITOR_MESSAGE_LENGTH): string {
  const text = message.trim();
  if (!text) throw new DomainError('MESSAGE_EMPTY', 'Please type a message first.');
  if (text.length > maxLength) throw new DomainError('MESSAGE_TOO_LONG', `Messages can be at most ${maxLength} characters.`, { details: { maxLength } });
  return text;
}

export class ConversationChat {
  private readonly promptTokens = new Map<string, number>();

  constructor(private readonly dependencies: { runner: AgentRunner; conversations: ConversationService; templates: TemplateService; catalog: Catalog }) {}

  private systemPromptTokens(agent: AgentDocument): number {
    const key = `${agent._id.toString()}:${new Date(agent.updatedAt).getTime()}`;
    let tokens = this.promptTokens.get(key);
    if (tokens === undefined) {
      tokens = countTokens(this.dependencies.templates.renderAgent(agent)) + 4;
      if (this.promptTokens.size > 2000) this.promptTokens.clear();
      this.promptTokens.set(key, tokens);
    }
    return tokens;
  }

  async turn(turn: ConversationTurn): Promise<AsyncGenerator<ConversationEvent>> {
    const message = checkMessage(turn.message, turn.maxMessageLength);
    const { agent } = turn;
    const keeps = retentionDaysOf(agent) > 0;
    let history: Array<{ role: 'user' | 'assistant'; content: string }> = [];
    let conversationId = turn.conversationId;
    if (keeps) {
      const stored = conversationId ? await this.dependencies.conversations.history(agent, conversationId, { visitorId: turn.visitorId, userId: turn.userId }) : undefined;
      if (!stored) conversationId = undefined;
      history = (stored ?? []).map((entry) => ({ role: entry.role, content: entry.content }));
    } else {
      history = turn.history ?? [];
    }
    const trimmed = trimToContextWindow(history, message, { contextWindow: contextWindowOf(this.dependencies.catalog, agent), systemPromptTokens: this.systemPromptTokens(agent) });
    const stream = await this.dependencies.runner.stream({
      agent,
      messages: trimmed.messages,
      signal: turn.signal,
      requestId: turn.requestId,
      endUser: turn.endUser,
      metadata: turn.metadata,
    });
    const conversations = this.dependencies.conversations;
    return (async function* events(): AsyncGenerator<ConversationEvent> {
      let reply = '';
      for await (const event of stream.events) {
        if (event.type === 'delta') {
          reply += event.content;
          yield event;
        } else if (event.type === 'end') {
          const id = await conversations.append(agent, { conversationId, source: turn.source, visitorId: turn.visitorId, userId: turn.userId, user: message, assistant: reply });
          yield { type: 'end', conversationId: id ?? null, usage: event.usage, finishReason: event.finishReason, historyDropped: trimmed.dropped };
        }
      }
    })();
  }
}
