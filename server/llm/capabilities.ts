// What a request needs from the model beyond text (catalog capabilities) and from the provider (optional
// parameters), so a call is refused, or a backend skipped, before any provider is called.
import type { ChatMessage, ChatOptions, ModelCapability, OptionalParameter } from './llm.types';

export interface RequestNeeds {
  capabilities: ModelCapability[];
  parameters: OptionalParameter[];
}

/** undefined for a plain text call (the common case: nothing to check). */
export function requestNeeds(messages: readonly ChatMessage[], options: ChatOptions | undefined): RequestNeeds | undefined {
  const capabilities = new Set<ModelCapability>();
  for (const message of messages) {
    if (message.parts?.some((part) => part.type === 'image_url')) capabilities.add('vision');
    if (message.toolCalls?.length || message.role === 'tool') capabilities.add('tools');
  }
  const parameters: OptionalParameter[] = [];
  if (options) {
    if (options.tools?.length) capabilities.add('tools');
    if (options.responseFormat && options.responseFormat.type !== 'text') capabilities.add('jsonSchema');
    if (options.topP !== undefined) parameters.push('topP');
    if (options.seed !== undefined) parameters.push('seed');
    if (options.presencePenalty !== undefined) parameters.push('presencePenalty');
    if (options.frequencyPenalty !== undefined) parameters.push('frequencyPenalty');
  }
  if (capabilities.size === 0 && parameters.length === 0) return undefined;
  return { capabilities: [...capabilities], parameters };
}

export const CAPABILITY_WORDS: Record<ModelCapability, string> = {
  tools: 'tool calling',
  vision: 'images',
  jsonSchema: 'structured JSON output (response_format)',
};

export const PARAMETER_NAMES: Record<OptionalParameter, string> = {
  topP: 'top_p',
  seed: 'seed',
  presencePenalty: 'presence_penalty',
  frequencyPenalty: 'frequency_penalty',
};
