// OpenRouter's dialect of the OpenAI wire: errors are `{error: {code, message}}` with the HTTP status as the code,
// and an account out of credit answers 402.
import { OPENAI_WIRE_DIALECT, createOpenAiWire, type OpenAiWireDialect } from '../openai/openai.simulator-wire';

export const OPENROUTER_WIRE_DIALECT: OpenAiWireDialect = {
  ...OPENAI_WIRE_DIALECT,
  errorStatus: (reason, described) => (reason === 'quota' ? 402 : described.status),
  errorBody: (reason, described, status) => ({
    error: { code: status, message: reason === 'quota' ? 'Insufficient credits. Add more using https://openrouter.ai/settings/credits' : described.message },
  }),
};

export const createOpenRouterWire = () => createOpenAiWire(OPENROUTER_WIRE_DIALECT);
