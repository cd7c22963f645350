// Token counts from the tokenizer, for calls whose provider gave no usage (cut streams, terse endpoints),
// and a tokenizer-free upper bound for the checks that only need to know a prompt surely fits.
// Tool definitions, tool calls and images count too (a plain text message takes none of those branches).
import type { ChatMessage, ChatRequest, ImagePart, ToolDefinition, Usage } from './llm.types';
import { perToolSet } from './tool-sets';

/** Like OpenAI's counting: each message costs a few tokens for its role and separators. */
const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
const TOKENS_PER_REPLY_PRIMING = 3;
/** Each tool definition's framing around its JSON (OpenAI renders tools into the prompt with a few tokens each). */
const TOKENS_PER_TOOL = 10;
/** Each tool call's framing around its name and arguments. */
const TOKENS_PER_TOOL_CALL = 5;
/**
 * An image, without decoding it: OpenAI's `low` detail is 85 tokens; `high`/`auto` is 85 + 170 per 512-px tile, here
 * taken for a 1024×1024 image (4 tiles). Anthropic's (w×h/750) comes to ~1,400 for that size; the estimate only
 * needs to be in the right range (providers report the real count).
 */
const IMAGE_TOKENS_LOW = 85;
const IMAGE_TOKENS_DEFAULT = 85 + 170 * 4;

/** User text may contain special-token strings such as `<|endoftext|>`; count them as plain text, never throw. */
const TREAT_SPECIAL_TOKENS_AS_TEXT = { disallowedSpecial: new Set<string>() };

// The o200k vocabulary costs ~65 MB of memory: it is loaded the first time an exact count is needed.
let tokenizer: typeof import('gpt-tokenizer') | undefined;

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  tokenizer ??= require('gpt-tokenizer') as typeof import('gpt-tokenizer');
  return tokenizer.countTokens(text, TREAT_SPECIAL_TOKENS_AS_TEXT);
}

export function imageTokens(part: ImagePart): number {
  return part.detail === 'low' ? IMAGE_TOKENS_LOW : IMAGE_TOKENS_DEFAULT;
}

/** The text a tool definition puts in the prompt: its name, description and parameter schema. */
function toolText(tool: ToolDefinition): string {
  return `${tool.name}\n${tool.description ?? ''}\n${JSON.stringify(tool.parameters)}`;
}

/** What a message carries besides its text (tool calls, images, a tool-call id), counted with `count`. */
function extrasTokens(message: ChatMessage, count: (text: string) => number): number {
  let total = 0;
  if (message.toolCalls) for (const call of message.toolCalls) total += TOKENS_PER_TOOL_CALL + count(call.name) + count(call.arguments) + count(call.id);
  if (message.parts) for (const part of message.parts) if (part.type === 'image_url') total += imageTokens(part);
  if (message.toolCallId) total += count(message.toolCallId);
  return total;
}

function toolsTokens(tools: readonly ToolDefinition[] | undefined, count: (text: string) => number): number {
  if (!tools?.length) return 0;
  let total = 0;
  for (const tool of tools) total += TOKENS_PER_TOOL + count(toolText(tool));
  return total;
}

// A shared (frozen) tool set is counted once (tool-sets.ts, #20).
const toolsTokensBound = perToolSet((tools) => toolsTokens(tools, byteBound));
const toolsTokensExact = perToolSet((tools) => toolsTokens(tools, countTokens));

/** Every BPE token covers at least one byte, and each role name is one token: so this never undercounts. */
const ROLE_TOKENS_BOUND = 2;
const byteBound = (text: string) => Buffer.byteLength(text, 'utf8');

export function upperBoundPromptTokens(messages: readonly ChatMessage[], tools?: readonly ToolDefinition[]): number {
  let total = TOKENS_PER_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + ROLE_TOKENS_BOUND + Buffer.byteLength(message.content, 'utf8');
    if (message.toolCalls || message.parts || message.toolCallId) total += extrasTokens(message, byteBound);
  }
  return tools?.length ? total + toolsTokensBound(tools) : total;
}

export function countPromptTokens(messages: readonly ChatMessage[], tools?: readonly ToolDefinition[]): number {
  let total = TOKENS_PER_REPLY_PRIMING;
  for (const message of messages) {
    total += TOKENS_PER_MESSAGE + countTokens(message.role) + countTokens(message.content);
    if (message.toolCalls || message.parts || message.toolCallId) total += extrasTokens(message, countTokens);
  }
  return tools?.length ? total + toolsTokensExact(tools) : total;
}

export function estimateUsage(request: ChatRequest, outputText: string): Usage {
  return {
    inputTokens: countPromptTokens(request.messages, request.tools),
    outputTokens: countTokens(outputText),
    source: 'estimated',
  };
}
