// Token counts from the tokenizer, for calls whose provider gave no usage (cut streams, terse endpoints),
// and a tokenizer-free upper bound for the checks that only need to know a prompt surely fits.
import type { ChatMessage, ChatRequest, Usage } from './llm.types';

/** Like OpenAI's counting: each message costs a few tokens for its role and separators. */
const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
const TOKENS_PER_REPLY_PRIMING = 3;

/** User text may contain special-token strings such as `<|endoftext|>`; count them as plain text, never throw. */
const TREAT_SPECIAL_TOKENS_AS_TEXT = { disallowedSpecial: new Set<string>() };

// The o200k vocabulary costs ~65 MB of memory: it is loaded the first time an exact count is needed.
let tokenizer: typeof import('gpt-tokenizer') | undefined;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  tokenizer ??= require('gpt-tokenizer') as typeof import('gpt-tokenizer');
  return tokenizer.countTokens(text, TREAT_SPECIAL_TOKENS_AS_TEXT);
}

/** Every BPE token covers at least one byte, and each role name is one token: so this never undercounts. */
const ROLE_TOKENS_BOUND = 2;

export function upperBoundPromptTokens(messages: readonly ChatMessage[]): number {
  let total = TOKENS_PER_REPLY_PRIMING;
  for (const message of messages) total += TOKENS_PER_MESSAGE + ROLE_TOKENS_BOUND + Buffer.byteLength(message.content, 'utf8');
  return total;
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
