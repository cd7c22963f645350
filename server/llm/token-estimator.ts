// Token counts from the tokenizer, for calls whose provider gave no usage (cut streams, terse endpoints).
import { countTokens as countTokensWithTokenizer } from 'gpt-tokenizer';
import type { ChatMessage, ChatRequest, Usage } from './llm.types';

/** Like OpenAI's counting: each message costs a few tokens for its role and separators. */
const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
const TOKENS_PER_REPLY_PRIMING = 3;

/** User text may contain special-token strings such as `<|endoftext|>`; count them as plain text, never throw. */
const TREAT_SPECIAL_TOKENS_AS_TEXT = { disallowedSpecial: new Set<string>() };

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  return countTokensWithTokenizer(text, TREAT_SPECIAL_TOKENS_AS_TEXT);
}

export function countPromptTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(message.content);
  }
  return total;
}

export function estimateUsage(request: ChatRequest, outputText: string): Usage {
  return {
    inputTokens: countPromptTokens(request.messages),
    outputTokens: countTokens(outputText),
    source: 'estimated',
  };
}
