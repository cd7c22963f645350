// Groq's dialect of the OpenAI wire: UUID completion ids, timings in usage, `x_groq` fields (the stream's usage in
// its last chunk), no service tier, refusal or annotations, Meta-owned models, errors without `param`.
import { OPENAI_WIRE_DIALECT, createOpenAiWire, type OpenAiWireDialect } from '../openai/openai.simulator-wire';
import { randomBase62, randomUUID } from '../../simulator/simulator-wire';
import type { SimulatedReply } from '../../simulator/simulated-reply';

function groqUsage(reply: SimulatedReply): Record<string, unknown> {
  // Groq adds timings (seconds) to the counts.
  const promptTime = reply.inputTokens / 50_000;
  const completionTime = reply.outputTokens / 1_200;
  return {
    queue_time: 0.01,
    prompt_tokens: reply.inputTokens,
    prompt_time: promptTime,
    completion_tokens: reply.outputTokens,
    completion_time: completionTime,
    total_tokens: reply.inputTokens + reply.outputTokens,
    total_time: promptTime + completionTime,
  };
}

export const GROQ_WIRE_DIALECT: OpenAiWireDialect = {
  ...OPENAI_WIRE_DIALECT,
  completionId: () => `chatcmpl-${randomUUID()}`,
  requestId: () => `req_${randomBase62(26).toLowerCase()}`,
  usage: groqUsage,
  serviceTier: undefined,
  assistantMessage: (text) => ({ role: 'assistant', content: text }),
  firstStreamDelta: { role: 'assistant', content: '' },
  usageNullOnChunks: false,
  extraFields: (where, context, reply) => {
    if (where === 'last-chunk') return { x_groq: { id: context.requestId, usage: groqUsage(reply) } };
    return { x_groq: { id: context.requestId } };
  },
  modelEntry: (id) => ({
    id,
    object: 'model',
    created: 1_721_172_741,
    owned_by: 'Meta',
    active: true,
    context_window: 131_072,
    public_apps: null,
    max_completion_tokens: 32_768,
  }),
  errorBody: (_reason, described) => ({ error: { message: described.message, type: described.type, code: described.code } }),
};

export const createGroqWire = () => createOpenAiWire(GROQ_WIRE_DIALECT);
