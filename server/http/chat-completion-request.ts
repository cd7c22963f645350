// The Chat Completions request as /v1 and the agent chat API both accept it (one zod schema), and its translation
// into the normalized request (server/llm/llm.types.ts): content parts, tool calls and tool results, tools, tool
// choice, response format, stop and sampling, `user` and `metadata`. Every refusal is a 400 with a stable code,
// before anything runs.
import { z } from 'zod';
import { DomainError } from '../errors/domain-error';
import { jsonSchemaProblem } from '../llm/json-schema';
import { checkedToolSet } from '../llm/tool-sets';
import type { ChatMessage, ChatOptions, ContentPart, ImagePart, ResponseFormat, ToolCall, ToolChoice, ToolDefinition } from '../llm/llm.types';

/** OpenAI's own limit on the number of tools in one request. */
export const MAX_TOOLS = 128;
/** Decoded size of one data-URL image: Anthropic's per-image limit, the strictest of the providers. */
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
const MAX_STOP_SEQUENCES = 4;
/** OpenAI's limit on `metadata` pairs. */
const MAX_METADATA_KEYS = 16;
const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

const contentPartSchema = z.object({ type: z.string() }).passthrough();
const toolCallSchema = z
  .object({
    id: z.string().min(1).max(200),
    type: z.literal('function').optional(),
    function: z.object({ name: z.string().min(1).max(64), arguments: z.string().max(400_000) }).passthrough(),
  })
  .passthrough();

const messageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant', 'tool']),
    content: z.union([z.string(), z.array(contentPartSchema), z.null()]).optional(),
    tool_calls: z.array(toolCallSchema).max(MAX_TOOLS).nullish(),
    tool_call_id: z.string().max(200).nullish(),
    name: z.string().max(200).nullish(),
  })
  .passthrough();

const toolSchema = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a tool name is 1-64 letters, digits, _ or -'),
        description: z.string().max(10_000).nullish(),
        parameters: z.unknown().optional(),
        strict: z.boolean().nullish(),
      })
      .passthrough(),
  })
  .passthrough();

const toolChoiceSchema = z.union([
  z.enum(['auto', 'none', 'required']),
  z.object({ type: z.literal('function'), function: z.object({ name: z.string().min(1) }).passthrough() }).passthrough(),
]);

const responseFormatSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text') }).passthrough(),
  z.object({ type: z.literal('json_object') }).passthrough(),
  z
    .object({
      type: z.literal('json_schema'),
      json_schema: z
        .object({
          name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'a schema name is 1-64 letters, digits, _ or -'),
          description: z.string().max(10_000).nullish(),
          schema: z.unknown().optional(),
          strict: z.boolean().nullish(),
        })
        .passthrough(),
    })
    .passthrough(),
]);

/** The fields beyond messages that /v1 and the agent chat API share, in OpenAI's names. */
export const chatSurfaceFields = {
  tools: z.array(toolSchema).nullish(),
  tool_choice: toolChoiceSchema.nullish(),
  parallel_tool_calls: z.boolean().nullish(),
  response_format: responseFormatSchema.nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1))]).nullish(),
  top_p: z.number().min(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  n: z.number().int().min(1).nullish(),
  metadata: z.record(z.string().max(64), z.string().max(512)).nullish(),
  user: z.string().max(256).nullish(),
};

export const chatMessagesSchema = z.array(messageSchema).min(1, 'needs at least one message').max(500);

type SurfaceInput = { [K in keyof typeof chatSurfaceFields]?: z.infer<(typeof chatSurfaceFields)[K]> };
type MessageInput = z.infer<typeof messageSchema>;

export interface NormalizedChatInput {
  messages: ChatMessage[];
  options?: ChatOptions;
  endUser?: string;
  metadata?: Record<string, string>;
}

const refuse = (code: ConstructorParameters<typeof DomainError>[0], message: string, field?: string) =>
  new DomainError(code, message, field ? { details: { issues: [{ field, message }] } } : {});

function parseImage(part: Record<string, unknown>, field: string): ImagePart {
  const imageUrl = part.image_url as { url?: unknown; detail?: unknown } | string | undefined;
  const url = typeof imageUrl === 'string' ? imageUrl : imageUrl?.url;
  const detail = typeof imageUrl === 'object' ? imageUrl.detail : undefined;
  if (typeof url !== 'string' || url.length === 0) throw refuse('IMAGE_INVALID', 'An image_url part needs image_url.url (an https URL or a data URL).', field);
  if (detail !== undefined && detail !== null && detail !== 'auto' && detail !== 'low' && detail !== 'high') {
    throw refuse('IMAGE_INVALID', 'image_url.detail is auto, low or high.', field);
  }
  const image: ImagePart = { type: 'image_url', url, ...(typeof detail === 'string' ? { detail: detail as ImagePart['detail'] } : {}) };
  if (url.startsWith('data:')) {
    const match = /^data:([\w/+.-]+);base64,/.exec(url.slice(0, 100));
    const mediaType = match?.[1]?.toLowerCase();
    if (!match || !mediaType || !(IMAGE_MEDIA_TYPES as readonly string[]).includes(mediaType)) {
      throw refuse('IMAGE_INVALID', `A data URL image is data:<type>;base64,… with type ${IMAGE_MEDIA_TYPES.join(', ')}.`, field);
    }
    const base64 = url.slice(match[0].length);
    const padding = base64.endsWith('==') ? 2 : base64.endsWith('=') ? 1 : 0;
    const bytes = Math.floor((base64.length * 3) / 4) - padding;
    if (bytes > MAX_IMAGE_BYTES) throw refuse('IMAGE_TOO_LARGE', `An image may be at most ${MAX_IMAGE_BYTES / (1024 * 1024)} MiB (this one is ${(bytes / (1024 * 1024)).toFixed(1)} MiB).`, field);
    if (base64.length === 0 || base64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64)) throw refuse('IMAGE_INVALID', 'The image data is not valid base64.', field);
    if (!hasImageSignature(Buffer.from(base64.slice(0, 24), 'base64'), mediaType)) throw refuse('IMAGE_INVALID', `The image data is not a ${mediaType} image.`, field);
    return { ...image, mediaType, base64 };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw refuse('IMAGE_INVALID', 'The image URL is not a valid URL.', field);
  }
  if (parsed.protocol !== 'https:') throw refuse('IMAGE_INVALID', 'An image URL must be https (or a data URL).', field);
  return image;
}

function hasImageSignature(head: Buffer, mediaType: string): boolean {
  switch (mediaType) {
    case 'image/png':
      return head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    case 'image/jpeg':
      return head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff;
    case 'image/gif':
      return head.subarray(0, 4).toString('latin1') === 'GIF8';
    default:
      return head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP';
  }
}

/** A message's parts: text joined into `content`; `parts` kept only when there is an image. */
function readContent(content: MessageInput['content'], role: string, field: string): { content: string; parts?: ContentPart[] } {
  if (content === null || content === undefined) return { content: '' };
  if (typeof content === 'string') return { content };
  const parts: ContentPart[] = [];
  let text = '';
  let images = false;
  content.forEach((part, index) => {
    const partField = `${field}.content.${index}`;
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw refuse('VALIDATION_FAILED', 'A text part needs a text string.', partField);
      text += part.text;
      parts.push({ type: 'text', text: part.text });
    } else if (part.type === 'image_url') {
      if (role !== 'user') throw refuse('CONTENT_PART_UNSUPPORTED', 'Images are only accepted in user messages.', partField);
      images = true;
      parts.push(parseImage(part, partField));
    } else {
      throw refuse('CONTENT_PART_UNSUPPORTED', `Content parts of type "${part.type}" are not supported (text and image_url are).`, partField);
    }
  });
  return images ? { content: text, parts } : { content: text };
}

function readTools(tools: NonNullable<SurfaceInput['tools']>): ToolDefinition[] {
  if (tools.length > MAX_TOOLS) throw refuse('TOO_MANY_TOOLS', `At most ${MAX_TOOLS} tools per request (this one has ${tools.length}).`, 'tools');
  // The same tools come with every call of a client: checked once per set, then shared frozen (#20, tool-sets.ts).
  return checkedToolSet(JSON.stringify(tools), () => {
    const names = new Set<string>();
    return tools.map((tool, index) => {
      const { name, description, strict } = tool.function;
      if (names.has(name)) throw refuse('VALIDATION_FAILED', `Two tools are named "${name}".`, `tools.${index}.function.name`);
      names.add(name);
      const parameters = (tool.function.parameters ?? { type: 'object', properties: {} }) as Record<string, unknown>;
      const problem = jsonSchemaProblem(parameters, { objectRoot: true });
      if (problem) throw refuse('JSON_SCHEMA_INVALID', `The parameters of tool "${name}" are not a valid JSON Schema: ${problem}`, `tools.${index}.function.parameters`);
      return { name, parameters, ...(description ? { description } : {}), ...(typeof strict === 'boolean' ? { strict } : {}) };
    });
  });
}

function readToolChoice(choice: NonNullable<SurfaceInput['tool_choice']>, tools: ToolDefinition[] | undefined): ToolChoice {
  if (typeof choice === 'string') {
    if (choice === 'required' && !tools?.length) throw refuse('TOOL_CHOICE_UNKNOWN', 'tool_choice "required" needs at least one tool in tools.', 'tool_choice');
    return choice;
  }
  const name = choice.function.name;
  if (!tools?.some((tool) => tool.name === name)) throw refuse('TOOL_CHOICE_UNKNOWN', `tool_choice names the function "${name}", which is not in tools.`, 'tool_choice.function.name');
  return { name };
}

function readResponseFormat(format: NonNullable<SurfaceInput['response_format']>): ResponseFormat {
  if (format.type !== 'json_schema') return { type: format.type };
  const { name, description, strict } = format.json_schema;
  const schema = (format.json_schema.schema ?? { type: 'object' }) as Record<string, unknown>;
  const problem = jsonSchemaProblem(schema);
  if (problem) throw refuse('JSON_SCHEMA_INVALID', `response_format.json_schema.schema is not a valid JSON Schema: ${problem}`, 'response_format.json_schema.schema');
  return { type: 'json_schema', name, schema, ...(description ? { description } : {}), ...(typeof strict === 'boolean' ? { strict } : {}) };
}

function readMessages(input: MessageInput[], allowSystem: boolean): ChatMessage[] {
  let callIds: Set<string> | undefined;
  return input.map((message, index) => {
    const role = message.role === 'developer' ? 'system' : message.role;
    // The common case, a text message, takes no other branch.
    if (typeof message.content === 'string' && (role === 'user' || (role === 'assistant' && !message.tool_calls?.length) || (role === 'system' && allowSystem))) {
      return { role, content: message.content };
    }
    const field = `messages.${index}`;
    if (role === 'system' && !allowSystem) throw refuse('VALIDATION_FAILED', 'System messages are not accepted here: the agent has its own instructions.', `${field}.role`);
    const { content, parts } = readContent(message.content, role, field);
    if (role === 'assistant' && message.tool_calls?.length) {
      const toolCalls: ToolCall[] = message.tool_calls.map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
      callIds ??= new Set();
      for (const call of toolCalls) callIds.add(call.id);
      return { role, content, toolCalls };
    }
    if (role === 'tool') {
      const toolCallId = message.tool_call_id ?? '';
      if (!callIds?.has(toolCallId)) {
        throw refuse('TOOL_CALL_ID_UNKNOWN', `This tool message answers the call "${toolCallId}", which no earlier assistant message made.`, `${field}.tool_call_id`);
      }
      return { role, content, toolCallId };
    }
    return parts ? { role, content, parts } : { role, content };
  });
}

const SAMPLING_FIELDS = [
  ['top_p', 'topP'],
  ['seed', 'seed'],
  ['presence_penalty', 'presencePenalty'],
  ['frequency_penalty', 'frequencyPenalty'],
] as const;

/**
 * Validated input → the normalized request. `allowSystem`: whether system/developer messages are taken (on /v1;
 * the agent chat API has the agent's own instructions only).
 */
export function normalizeChatInput(input: { messages: MessageInput[] } & SurfaceInput, options: { allowSystem: boolean }): NormalizedChatInput {
  if (input.n !== undefined && input.n !== null && input.n > 1) throw refuse('PARAMETER_UNSUPPORTED', 'Only n=1 is supported: ask again for another answer.', 'n');
  if (input.metadata && Object.keys(input.metadata).length > MAX_METADATA_KEYS) throw refuse('VALIDATION_FAILED', `At most ${MAX_METADATA_KEYS} metadata pairs.`, 'metadata');
  const messages = readMessages(input.messages, options.allowSystem);
  const chat: ChatOptions = {};
  let any = false;
  if (input.tools?.length) {
    chat.tools = readTools(input.tools);
    any = true;
  }
  if (input.tool_choice != null) {
    chat.toolChoice = readToolChoice(input.tool_choice, chat.tools);
    any = true;
  }
  if (input.parallel_tool_calls != null) {
    chat.parallelToolCalls = input.parallel_tool_calls;
    any = true;
  }
  if (input.response_format != null) {
    chat.responseFormat = readResponseFormat(input.response_format);
    any = true;
  }
  if (input.stop != null) {
    const stop = typeof input.stop === 'string' ? [input.stop] : input.stop;
    if (stop.length > MAX_STOP_SEQUENCES) throw refuse('VALIDATION_FAILED', `At most ${MAX_STOP_SEQUENCES} stop sequences.`, 'stop');
    if (stop.length > 0) {
      chat.stop = stop;
      any = true;
    }
  }
  for (const [field, key] of SAMPLING_FIELDS) {
    const value = input[field];
    if (value != null) {
      chat[key] = value;
      any = true;
    }
  }
  const normalized: NormalizedChatInput = { messages };
  if (any) normalized.options = chat;
  if (input.user) normalized.endUser = input.user;
  if (input.metadata && Object.keys(input.metadata).length > 0) normalized.metadata = input.metadata;
  return normalized;
}
