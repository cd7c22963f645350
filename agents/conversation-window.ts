// The history a conversation sends to the model, trimmed to the model's context window. Policy: the system prompt
// and the newest user message always go; older messages go newest first while they fit in the window minus the
// reply's budget and a 5% margin, at most MAX_HISTORY_MESSAGES of them; an older message that does not fit ends
// the history there (no gaps), and a history never starts with an assistant message.
import type { Catalog } from '../server/catalog/catalog.service';
import type { ChatMessage } from '../server/llm/llm.types';
import { countTokens } from '../server/llm/token-estimator';
import type { AgentDocument } from './agent.model';
import { DEFAULT_MAX_OUTPUT_TOKENS } from './run-targets';

export const MAX_HISTORY_MESSAGES = 40;
const TOKENS_PER_MESSAGE = 4;

/** The smallest context window among the models a call of this agent may reach (its BYOK model, or every plan backend). */
export function contextWindowOf(catalog: Catalog, agent: Pick<AgentDocument, 'llm'>): number {
  if (agent.llm.mode === 'byok') return catalog.findModel(agent.llm.provider as never, agent.llm.model ?? '')?.contextWindow ?? 8_192;
  const plan = catalog.findPlan(agent.llm.plan ?? '');
  const windows = (plan?.backends ?? []).map((backend) => catalog.findModel(backend.provider as never, backend.model)?.contextWindow).filter((value): value is number => typeof value === 'number');
  return windows.length ? Math.min(...windows) : 8_192;
}

export interface TrimResult {
  messages: ChatMessage[];
  /** How many older messages were left out. */
  dropped: number;
}

export function trimToContextWindow(
  history: ReadonlyArray<{ role: 'user' | 'assistant'; content: string }>,
  latest: string,
  options: { contextWindow: number; systemPromptTokens: number; replyTokens?: number },
): TrimResult {
  const reply = options.replyTokens ?? DEFAULT_MAX_OUTPUT_TOKENS;
  let budget = Math.floor(options.contextWindow * 0.95) - reply - options.systemPromptTokens - (countTokens(latest) + TOKENS_PER_MESSAGE);
  const kept: ChatMessage[] = [];
  for (let index = history.length - 1; index >= 0 && kept.length < MAX_HISTORY_MESSAGES; index -= 1) {
    const message = history[index]!;
    const cost = countTokens(message.content) + TOKENS_PER_MESSAGE;
    if (cost > budget) break;
    budget -= cost;
    kept.unshift({ role: message.role, content: message.content });
  }
  while (kept.length > 0 && kept[0]!.role === 'assistant') kept.shift();
  return { messages: [...kept, { role: 'user', content: latest }], dropped: history.length - kept.length };
}
