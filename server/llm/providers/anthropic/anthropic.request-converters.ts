// Our normalized request → the Messages API: system text, image blocks, tool_use / tool_result blocks, tools with
// input_schema, tool_choice (auto / any / tool / none, parallel calls off with disable_parallel_tool_use), JSON
// Schema output (output_config.format), stop sequences; and Anthropic's tool_use blocks → our tool calls.
import type { ChatMessage, ChatRequest, ContentPart, ToolCall } from '../../llm.types';
import { deepFreeze, perToolSet } from '../../tool-sets';

type Block = Record<string, unknown> & { type: string };
interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

/** Anthropic has no JSON mode: `response_format: json_object` becomes this instruction. */
export const JSON_OBJECT_INSTRUCTION = 'Answer with one JSON object and nothing else: no prose, no code fences.';

function imageBlock(part: Extract<ContentPart, { type: 'image_url' }>): Block {
  if (part.base64 && part.mediaType) return { type: 'image', source: { type: 'base64', media_type: part.mediaType, data: part.base64 } };
  return { type: 'image', source: { type: 'url', url: part.url } };
}

function parseArguments(text: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : {};
  } catch {
    return {};
  }
}

function toAnthropicMessage(message: ChatMessage): AnthropicMessage {
  if (message.role === 'tool') {
    return { role: 'user', content: [{ type: 'tool_result', tool_use_id: message.toolCallId ?? '', content: message.content }] };
  }
  if (message.role === 'assistant') {
    if (!message.toolCalls?.length) return { role: 'assistant', content: message.content };
    const blocks: Block[] = message.content ? [{ type: 'text', text: message.content }] : [];
    for (const call of message.toolCalls) blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: parseArguments(call.arguments) });
    return { role: 'assistant', content: blocks };
  }
  if (!message.parts) return { role: 'user', content: message.content };
  return { role: 'user', content: message.parts.map((part) => (part.type === 'text' ? { type: 'text', text: part.text } : imageBlock(part))) };
}

const asBlocks = (content: string | Block[]): Block[] => (typeof content === 'string' ? (content ? [{ type: 'text', text: content }] : []) : content);

/** Tool results go in the user turn after the tool calls: consecutive messages of one role become one message. */
export function toAnthropicMessages(messages: readonly ChatMessage[]): AnthropicMessage[] {
  const converted: AnthropicMessage[] = [];
  for (const message of messages) {
    if (message.role === 'system') continue;
    const next = toAnthropicMessage(message);
    const previous = converted.at(-1);
    if (previous && previous.role === next.role && (message.role === 'tool' || Array.isArray(previous.content))) {
      previous.content = [...asBlocks(previous.content), ...asBlocks(next.content)];
    } else {
      converted.push(next);
    }
  }
  return converted;
}

export function anthropicSystem(request: ChatRequest): string {
  const system = request.messages
    .filter((message) => message.role === 'system')
    .map((message) => message.content)
    .join('\n\n');
  if (request.responseFormat?.type !== 'json_object') return system;
  return system ? `${system}\n\n${JSON_OBJECT_INSTRUCTION}` : JSON_OBJECT_INSTRUCTION;
}

/** The tools in Anthropic's shape: built once per shared tool set (#20). */
const anthropicTools = perToolSet((tools) =>
  deepFreeze(tools.map((tool) => ({ name: tool.name, ...(tool.description ? { description: tool.description } : {}), input_schema: tool.parameters }))),
);

/** The request's tool, output-format and stop fields in Anthropic's names; empty for a plain call. */
export function anthropicOptionFields(request: ChatRequest): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  if (request.tools?.length) {
    fields.tools = anthropicTools(request.tools);
    const noParallel = request.parallelToolCalls === false ? { disable_parallel_tool_use: true } : {};
    const choice = request.toolChoice;
    if (choice === 'none') fields.tool_choice = { type: 'none' };
    else if (choice === 'required') fields.tool_choice = { type: 'any', ...noParallel };
    else if (typeof choice === 'object') fields.tool_choice = { type: 'tool', name: choice.name, ...noParallel };
    else if (choice === 'auto' || request.parallelToolCalls === false) fields.tool_choice = { type: 'auto', ...noParallel };
  }
  if (request.responseFormat?.type === 'json_schema') fields.output_config = { format: { type: 'json_schema', schema: request.responseFormat.schema } };
  if (request.stop?.length) fields.stop_sequences = request.stop;
  return fields;
}

interface AnthropicBlockShape {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

export function readAnthropicContent(blocks: readonly AnthropicBlockShape[]): { content: string; toolCalls?: ToolCall[] } {
  let content = '';
  const toolCalls: ToolCall[] = [];
  for (const block of blocks) {
    if (block.type === 'text' && block.text) content += block.text;
    if (block.type === 'tool_use' && block.id && block.name) toolCalls.push({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) });
  }
  return toolCalls.length ? { content, toolCalls } : { content };
}
