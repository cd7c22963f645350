// What makes two calls "the same question" for the response cache, and when a call is not cached at all.
// The key is a hash of the WHOLE normalized request minus the fields that do not shape the answer (who asks, ids,
// signals, cache directives), so every generation parameter — today's and any added later (tools, response formats,
// sampling options…) — is part of it without being listed here. Around it: the workspace, the agent, the agent's LLM
// setting, its template and the rendered system prompt; changing any of them makes older entries unreachable.
import crypto from 'node:crypto';
import type { AgentCacheSetting, AgentDocument } from './agent.model';

/** RunInput fields that never change the answer (or are already folded into the agent): everything else is keyed. */
export const NON_SHAPING_FIELDS = ['agent', 'signal', 'abortController', 'requestId', 'endUser', 'metadata', 'conversationId', 'apiKeyId', 'cacheControl', 'experiment', 'pinned'] as const;

export const DEFAULT_CACHE_SETTING: AgentCacheSetting = {
  mode: 'off',
  ttlSeconds: 3600,
  similarityThreshold: 0.95,
  maxTemperature: 1,
  allowAnyTemperature: false,
};

export function cacheSettingOf(agent: Pick<AgentDocument, 'cache'>): AgentCacheSetting {
  return { ...DEFAULT_CACHE_SETTING, ...(agent.cache ?? {}) };
}

/** JSON with object keys sorted at every level and undefined dropped: equal requests serialize equally. */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, item]) => item !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
}

const sha256 = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** The request fields that shape the answer (the normalized request minus NON_SHAPING_FIELDS). */
export function shapingFields(input: object): Record<string, unknown> {
  const fields: Record<string, unknown> = { ...(input as Record<string, unknown>) };
  for (const name of NON_SHAPING_FIELDS) delete fields[name];
  return fields;
}

type FingerprintedAgent = Pick<AgentDocument, 'llm' | 'templateId' | 'variables'>;
/** Per agent record (the runner reuses one for a few seconds): the fingerprint and the fields it was made of. */
const fingerprints = new WeakMap<object, { llm: unknown; templateId: unknown; variables: unknown; fingerprint: string }>();

/** The agent's LLM setting as it shapes answers (the key itself does not: replacing it keeps the entries). */
export function settingFingerprint(agent: FingerprintedAgent): string {
  const known = fingerprints.get(agent);
  if (known && known.llm === agent.llm && known.templateId === agent.templateId && known.variables === agent.variables) return known.fingerprint;
  const { mode, plan, provider, model, baseUrl } = agent.llm;
  const fingerprint = sha256(canonicalJson({ llm: { mode, plan: plan ?? null, provider: provider ?? null, model: model ?? null, baseUrl: baseUrl ?? null }, templateId: agent.templateId, variables: agent.variables ?? {} }));
  fingerprints.set(agent, { llm: agent.llm, templateId: agent.templateId, variables: agent.variables, fingerprint });
  return fingerprint;
}

export interface CacheKeys {
  /** Everything: the exact key. */
  key: string;
  /** Everything but the last user message: semantic lookups only compare entries of one scope. */
  readonly scope: string;
  /** The text a semantic lookup embeds (the last user message). */
  lastUserText: string;
}

interface MessageLike {
  role: string;
  content?: unknown;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part) => (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string' ? (part as { text: string }).text : '')).join('');
  return '';
}

export function cacheKeys(input: { agent: AgentDocument; messages: readonly MessageLike[] }, systemPrompt: string): CacheKeys {
  const { agent } = input;
  const fields = shapingFields(input);
  const context = {
    workspaceId: agent.workspaceId.toString(),
    agentId: agent._id.toString(),
    setting: settingFingerprint(agent),
    system: systemPrompt,
  };
  const messages = input.messages;
  let lastUser = -1;
  for (let index = messages.length - 1; index >= 0; index -= 1) {
    if (messages[index]!.role === 'user') {
      lastUser = index;
      break;
    }
  }
  let scope: string | undefined;
  return {
    key: sha256(canonicalJson({ ...context, request: fields })),
    // Made when first read (a store or a semantic lookup): an exact hit never needs it.
    get scope() {
      scope ??= sha256(canonicalJson({ ...context, request: { ...fields, messages: messages.map((message, index) => (index === lastUser ? { role: 'user', content: '<last user message>' } : message)) } }));
      return scope;
    },
    lastUserText: lastUser >= 0 ? textOf(messages[lastUser]!.content) : '',
  };
}

/** Why a request is not looked up in the cache (undefined: it is). */
export type CacheSkipReason = 'cache_off' | 'client_no_cache' | 'tools' | 'temperature_above_limit';

/**
 * Tool use in either direction is never cached: a request that offers tools or carries tool traffic in its messages
 * (whatever the normalized shape names it: any non-empty field, option or message field whose name starts with "tool",
 * e.g. `options.tools`, `options.toolChoice`, a message's `toolCalls` / `toolCallId`, or a `tool` message).
 */
export function involvesTools(input: object): boolean {
  const nonEmpty = (value: unknown) => value !== undefined && value !== null && value !== false && !(Array.isArray(value) && value.length === 0);
  const hasToolField = (record: Record<string, unknown>) => Object.entries(record).some(([name, value]) => /^tool/i.test(name) && nonEmpty(value));
  const fields = shapingFields(input);
  if (hasToolField(fields)) return true;
  // The generation options (tools, toolChoice, parallelToolCalls… on RunInput.options).
  const options = fields.options;
  if (options && typeof options === 'object' && hasToolField(options as Record<string, unknown>)) return true;
  const messages = Array.isArray(fields.messages) ? (fields.messages as Array<Record<string, unknown>>) : [];
  return messages.some((message) => message.role === 'tool' || hasToolField(message));
}

/** A result that asked for tool calls is never stored. */
export function answerInvolvesTools(result: { finishReason: string; [field: string]: unknown }): boolean {
  return result.finishReason === 'tool_calls' || involvesTools({ ...result, messages: [] });
}

export function skipReason(setting: AgentCacheSetting, input: { temperature?: number; cacheControl?: string } & object): CacheSkipReason | undefined {
  if (setting.mode === 'off') return 'cache_off';
  if (input.cacheControl === 'no-cache' || input.cacheControl === 'no-store') return 'client_no_cache';
  if (involvesTools(input)) return 'tools';
  if (!setting.allowAnyTemperature && input.temperature !== undefined && input.temperature > setting.maxTemperature) return 'temperature_above_limit';
  return undefined;
}
