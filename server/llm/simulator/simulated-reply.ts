// The simulator's deterministic "model": a reply derived from the prompt, its chunks and its token counts.
// With tools offered it calls one when the prompt asks for it (or tool_choice makes it), with arguments valid for the
// tool's schema; after a tool result it answers from it; with a JSON response format it answers a valid document.
import { decode, encode } from 'gpt-tokenizer';
import type { ChatMessage, ResponseFormat, ToolChoice, ToolDefinition } from '../llm.types';
import { exampleForJsonSchema } from '../json-schema';
import { countPromptTokens, countTokens } from '../token-estimator';

export interface SimulatedChatRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number | undefined;
  stream: boolean;
  /** OpenAI's `stream_options.include_usage`: a last chunk with the usage. */
  includeUsage?: boolean;
  tools?: ToolDefinition[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
}

export interface SimulatedToolCall {
  id: string;
  name: string;
  /** The arguments object and its JSON text. */
  input: Record<string, unknown>;
  arguments: string;
  /** `arguments` in the pieces a stream sends. */
  argumentChunks: string[];
}

export interface SimulatedReply {
  text: string;
  /** The text split into the pieces a stream sends, in order; they concatenate to `text`. */
  chunks: string[];
  finishReason: 'stop' | 'length' | 'tool_calls';
  toolCalls?: SimulatedToolCall[];
  inputTokens: number;
  outputTokens: number;
}

const QUOTED_WORDS = 8;
const WORDS_PER_CHUNK = 3;
const ARGUMENT_CHUNK_CHARS = 12;
const TREAT_SPECIAL_TOKENS_AS_TEXT = { disallowedSpecial: new Set<string>() };
/** Words in the prompt that ask for a tool. */
const ASKS_FOR_TOOL = /\b(tool|tools|call|use|look up|lookup|check|fetch|search|weather|function)\b/i;

function quote(text: string): string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  return words.slice(0, QUOTED_WORDS).join(' ') + (words.length > QUOTED_WORDS ? ' …' : '');
}

/** The last word of the prompt, without punctuation: what a tool's first free-text argument gets ("… in Paris?" → Paris). */
function argumentHint(text: string): string {
  const words = text.replace(/[^\p{L}\p{N}\s_-]/gu, ' ').trim().split(/\s+/).filter(Boolean);
  return words.at(-1) ?? 'example';
}

/** A stable id from the conversation, in the provider's own style (the wire adds its prefix). */
function callIdSuffix(seed: string, index: number): string {
  let hash = 2166136261;
  for (const character of `${seed}#${index}`) hash = Math.imul(hash ^ character.charCodeAt(0), 16777619) >>> 0;
  return hash.toString(36).padStart(7, '0').slice(0, 7) + index.toString(36);
}

function chooseTools(request: SimulatedChatRequest, prompt: string): ToolDefinition[] {
  const tools = request.tools ?? [];
  const choice = request.toolChoice ?? 'auto';
  if (tools.length === 0 || choice === 'none') return [];
  if (typeof choice === 'object') return tools.filter((tool) => tool.name === choice.name).slice(0, 1);
  const named = tools.filter((tool) => prompt.toLowerCase().includes(tool.name.toLowerCase()));
  if (named.length > 0) return request.parallelToolCalls === false ? named.slice(0, 1) : named;
  if (choice === 'required' || ASKS_FOR_TOOL.test(prompt)) return tools.slice(0, 1);
  return [];
}

function splitArguments(text: string): string[] {
  const pieces: string[] = [];
  for (let index = 0; index < text.length; index += ARGUMENT_CHUNK_CHARS) pieces.push(text.slice(index, index + ARGUMENT_CHUNK_CHARS));
  return pieces.length ? pieces : [''];
}

export function createSimulatedReply(request: SimulatedChatRequest): SimulatedReply {
  const last = request.messages.at(-1);
  const lastUserMessage = [...request.messages].reverse().find((message) => message.role === 'user');
  const prompt = lastUserMessage?.content ?? '';
  const inputTokens = countPromptTokens(request.messages, request.tools);

  // A tool call, unless the conversation just got a tool's result (then the model answers from it).
  if (last?.role !== 'tool') {
    const chosen = chooseTools(request, prompt);
    if (chosen.length > 0) {
      const seed = request.messages.map((message) => message.content).join('\u0000');
      const toolCalls = chosen.map((tool, index) => {
        const input = exampleForJsonSchema(tool.parameters, argumentHint(prompt)) as Record<string, unknown>;
        const text = JSON.stringify(input);
        return { id: callIdSuffix(seed, index), name: tool.name, input, arguments: text, argumentChunks: splitArguments(text) };
      });
      const outputTokens = toolCalls.reduce((total, call) => total + 5 + countTokens(call.name) + countTokens(call.arguments), 0);
      return { text: '', chunks: [], finishReason: 'tool_calls', toolCalls, inputTokens, outputTokens };
    }
  }

  let text: string;
  const format = request.responseFormat;
  if (format?.type === 'json_schema') {
    text = JSON.stringify(exampleForJsonSchema(format.schema, argumentHint(prompt)));
  } else if (format?.type === 'json_object') {
    text = JSON.stringify({ reply: `Sandbox reply to: ${quote(prompt)}`, source: 'Agent Host provider simulator' });
  } else if (last?.role === 'tool') {
    text = `Sandbox reply using the tool result: "${quote(last.content)}". This answer comes from the Agent Host provider simulator.`;
  } else {
    text =
      `Sandbox reply to: "${quote(prompt)}". This answer comes from the Agent Host provider simulator, ` +
      `so no real model was called and no provider was charged.`;
  }
  let finishReason: SimulatedReply['finishReason'] = 'stop';
  // A JSON document is never cut short: the budget only trims prose.
  if (request.maxTokens !== undefined && request.maxTokens >= 0 && !(format && format.type !== 'text')) {
    const tokens = encode(text, TREAT_SPECIAL_TOKENS_AS_TEXT);
    if (tokens.length > request.maxTokens) {
      text = decode(tokens.slice(0, request.maxTokens));
      finishReason = 'length';
    }
  }
  return { text, chunks: splitIntoChunks(text), finishReason, inputTokens, outputTokens: countTokens(text) };
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
