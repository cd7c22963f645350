// Sticky routing: once a conversation needed the strong model it stays there for a while. A conversation is named by
// the caller (metadata.conversation_id / the X-Agent-Host-Conversation header) or, failing that, by a hash of the agent
// and the conversation's first user message (every later request of a chat resends it). The memory is one bounded
// in-process map with expiry: each instance remembers the conversations it served (see docs/API-EXTENSIONS.md).
import crypto from 'node:crypto';
import type { ChatMessage } from './llm.types';

export interface StickinessOptions {
  /** How long a conversation stays on the strong model after its last strong answer (sliding). */
  ttlMs: number;
  /** At most this many conversations are remembered; the least recently used is forgotten first. */
  maxEntries: number;
}

export const DEFAULT_STICKINESS: StickinessOptions = { ttlMs: 30 * 60_000, maxEntries: 50_000 };

interface ConversationEntry {
  /** The strong model answers this conversation until then (0: not sticky). */
  strongUntil: number;
  /** The light model answered this conversation before (a later strong decision is an escalation). */
  lightSeen: boolean;
  expiresAt: number;
}

// Only this much of the first user message is hashed: identity needs a prefix, not the whole text.
const IDENTITY_PREFIX_CHARS = 2000;

/** The conversation's key: the caller's id when given, else the agent and the first user message. */
export function conversationKey(agentId: string, messages: readonly ChatMessage[], explicitId?: string): string {
  if (explicitId) return `${agentId}:id:${explicitId.slice(0, 200)}`;
  const first = messages.find((message) => message.role === 'user')?.content ?? '';
  // One-shot hash: no Hash object per call (#20).
  const digest = crypto.hash('sha256', first.length > IDENTITY_PREFIX_CHARS ? first.slice(0, IDENTITY_PREFIX_CHARS) : first, 'base64url');
  return `${agentId}:h:${digest.slice(0, 22)}`;
}

export class RoutingStickiness {
  private readonly entries = new Map<string, ConversationEntry>();
  private readonly options: StickinessOptions;

  constructor(options: Partial<StickinessOptions> = {}, private readonly now: () => number = Date.now) {
    this.options = { ...DEFAULT_STICKINESS, ...options };
  }

  get size(): number {
    return this.entries.size;
  }

  private read(key: string): ConversationEntry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  /** Whether the conversation is held on the strong model, and whether it was answered light before. */
  state(key: string): { sticky: boolean; lightSeen: boolean } {
    const entry = this.read(key);
    return { sticky: entry !== undefined && entry.strongUntil > this.now(), lightSeen: entry?.lightSeen ?? false };
  }

  /** Records a decision: a strong one holds the conversation on the strong model for `ttlMs` from now. */
  remember(key: string, tier: 'light' | 'strong'): void {
    const now = this.now();
    const previous = this.read(key);
    // A conversation seen before keeps its entry object (updated, not replaced: one allocation fewer per call, #20).
    const entry: ConversationEntry = previous ?? { strongUntil: 0, lightSeen: false, expiresAt: 0 };
    if (tier === 'strong') entry.strongUntil = now + this.options.ttlMs;
    else entry.lightSeen = true;
    entry.expiresAt = now + this.options.ttlMs;
    // Re-inserted at the end: the map's order is least recently used first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
