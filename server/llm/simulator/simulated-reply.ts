// The simulator's deterministic "model": a reply derived from the prompt, its chunks and its token counts.
import { decode, encode } from 'gpt-tokenizer';
import type { ChatMessage } from '../llm.types';
import { countPromptTokens, countTokens } from '../token-estimator';

export interface SimulatedChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number | undefined;
  stream: boolean;
  /** OpenAI's `stream_options.include_usage`: a last chunk with the usage. */
  includeUsage?: boolean;
}

export interface SimulatedReply {
  text: string;
  /** The text split into the pieces a stream sends, in order; they concatenate to `text`. */
  chunks: string[];
  finishReason: 'stop' | 'length';
  inputTokens: number;
  outputTokens: number;
}

const QUOTED_WORDS = 8;
const WORDS_PER_CHUNK = 3;
const TREAT_SPECIAL_TOKENS_AS_TEXT = { disallowedSpecial: new Set<string>() };

export function createSimulatedReply(request: SimulatedChatRequest): SimulatedReply {
  const lastUserMessage = [...request.messages].reverse().find((message) => message.role === 'user');
  const words = (lastUserMessage?.content ?? '').trim().split(/\s+/).filter(Boolean);
  const quoted = words.slice(0, QUOTED_WORDS).join(' ') + (words.length > QUOTED_WORDS ? ' …' : '');
  let text =
    `Sandbox reply to: "${quoted}". This answer comes from the Agent Host provider simulator, ` +
    `so no real model was called and no provider was charged.`;
  let finishReason: SimulatedReply['finishReason'] = 'stop';
  if (request.maxTokens !== undefined && request.maxTokens >= 0) {
    const tokens = encode(text, TREAT_SPECIAL_TOKENS_AS_TEXT);
    if (tokens.length > request.maxTokens) {
      text = decode(tokens.slice(0, request.maxTokens));
      finishReason = 'length';
    }
  }
  return {
    text,
    chunks: splitIntoChunks(text),
    finishReason,
    inputTokens: countPromptTokens(request.messages),
    outputTokens: countTokens(text),
  };
}

/** Whitespace stays attached to the following word, so the chunks concatenate back to the text exactly. */
function splitIntoChunks(text: string): string[] {
  const pieces = text.match(/\s*\S+/g) ?? [];
  const chunks: string[] = [];
  for (let index = 0; index < pieces.length; index += WORDS_PER_CHUNK) {
    chunks.push(pieces.slice(index, index + WORDS_PER_CHUNK).join(''));
  }
  const rest = text.slice(chunks.join('').length);
  if (rest) chunks.push(rest);
  return chunks;
}
