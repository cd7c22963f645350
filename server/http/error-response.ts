// The one place an error becomes an HTTP answer: the code → status table, and the two shapes (ours, OpenAI's on /v1).
// Express routes (middleware/error-handler.ts) and /v1 (openai-compatible-api.ts) both render through errorResponse.
import { DomainError, type ErrorCode } from '../errors/domain-error';
import { translateDriverError } from '../db/driver-errors';

export const HTTP_STATUS_BY_CODE: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  INVALID_JSON: 400,
  BAD_REQUEST: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNSUPPORTED_ENCODING: 415,
  INVALID_MONTH: 400,
  UNAUTHORIZED: 401,
  INVALID_CREDENTIALS: 401,
  // Bad input on a signed-in request: a 401 would sign the client out.
  CURRENT_PASSWORD_INCORRECT: 400,
  RESET_LINK_INVALID: 400,
  invalid_api_key: 401,
  FORBIDDEN: 403,
  TOO_MANY_ATTEMPTS: 429,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  ALREADY_MEMBER: 409,
  LAST_OWNER: 409,
  MEMBER_CHANGED: 409,
  TEMPLATE_NOT_FOUND: 400,
  TEMPLATE_VARIABLE_UNKNOWN: 400,
  TEMPLATE_VARIABLE_MISSING: 400,
  UNKNOWN_PLAN: 400,
  UNKNOWN_PROVIDER: 400,
  UNKNOWN_MODEL: 400,
  BASE_URL_NOT_ALLOWED: 400,
  BASE_URL_REQUIRED: 400,
  UNSAFE_BASE_URL: 400,
  API_KEY_REQUIRED: 400,
  API_KEY_FORMAT: 400,
  // Cost-aware routing (#14)
  LIGHT_MODEL_NEEDS_BYOK: 400,
  LIGHT_MODEL_REQUIRED: 400,
  PLAN_ROUTING_OFF: 400,
  FALLBACK_NEEDS_BYOK: 400,
  ROUTE_INVALID: 400,
  PLAN_LIMIT_REACHED: 429,
  PROMPT_TOO_LARGE: 413,
  PROVIDER_KEY_INVALID: 424,
  PROVIDER_KEY_UNUSABLE: 424,
  PROVIDER_QUOTA_EXCEEDED: 402,
  PROVIDER_RATE_LIMITED: 429,
  PROVIDER_BAD_REQUEST: 400,
  PROVIDER_UNAVAILABLE: 503,
  METER_BACKLOG_FULL: 503,
  CLIENT_CLOSED_REQUEST: 499,
  // Alerts and webhooks
  UNSAFE_WEBHOOK_URL: 400,
  TOO_MANY_WEBHOOKS: 400,
  // Activity log and invites (experience-b)
  INVALID_DATE_RANGE: 400,
  INVALID_CURSOR: 400,
  INVITE_INVALID: 410,
  INVITE_EMAIL_MISMATCH: 403,
  INVITE_PENDING: 409,
  // Tool calling, structured output, images (the Chat Completions surface)
  TOOL_CHOICE_UNKNOWN: 400,
  TOOL_CALL_ID_UNKNOWN: 400,
  JSON_SCHEMA_INVALID: 400,
  TOO_MANY_TOOLS: 400,
  IMAGE_INVALID: 400,
  IMAGE_TOO_LARGE: 400,
  CONTENT_PART_UNSUPPORTED: 400,
  MODEL_CAPABILITY_MISSING: 400,
  PARAMETER_UNSUPPORTED: 400,
  // Response cache and A/B experiments (cache)
  SEMANTIC_CACHE_UNAVAILABLE: 400,
  EXPERIMENT_SPLIT_INVALID: 400,
  EXPERIMENT_VARIANT_UNAVAILABLE: 400,
  EXPERIMENT_VARIANT_UNKNOWN: 400,
  EXPERIMENT_ALREADY_RUNNING: 409,
  EXPERIMENT_STATE: 409,
  // Publishing (publish)
  END_USER_LIMIT_REACHED: 429,
  ORIGIN_NOT_ALLOWED: 403,
  VISITOR_ID_INVALID: 400,
  MESSAGE_EMPTY: 400,
  MESSAGE_TOO_LONG: 400,
  VISITOR_RATE_LIMITED: 429,
  VISITOR_DAILY_LIMIT: 429,
  TEMPLATE_INVALID: 400,
  TEMPLATE_VARIABLE_UNDECLARED: 400,
  DB_UNAVAILABLE: 503,
  INTERNAL: 500,
  // experience (#18): BYOK setup that cannot dead-end
  SANDBOX_KEY_UNAVAILABLE: 400,
};

const OPENAI_ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'invalid_request_error',
  424: 'authentication_error',
  429: 'rate_limit_error',
  503: 'api_error',
};

export type ErrorShape = 'platform' | 'openai';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: unknown;
  /** The error was not one of ours: the caller logs it (its message is never sent). */
  unexpected: boolean;
}

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

/** What the Express body parser throws, as our error; undefined for anything else. */
function fromBodyParser(error: unknown): DomainError | undefined {
  const parserError = error as BodyParserError;
  if (parserError?.type === 'entity.parse.failed') return new DomainError('INVALID_JSON', 'The request body is not valid JSON.');
  if (parserError?.type === 'entity.too.large') return new DomainError('PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return new DomainError('UNSUPPORTED_ENCODING', 'Unsupported request encoding.');
  }
  if (parserError?.status && parserError.status >= 400 && parserError.status < 500) return new DomainError('BAD_REQUEST', 'The request could not be read.');
  return undefined;
}

/** Any thrown value as our error: ours as is, body-parser and database-driver failures translated, the rest INTERNAL. */
export function toDomainError(error: unknown, requestId: string): { error: DomainError; unexpected: boolean } {
  if (error instanceof DomainError) return { error, unexpected: false };
  const translated = fromBodyParser(error) ?? translateDriverError(error);
  if (translated) return { error: translated, unexpected: translated.code === 'DB_UNAVAILABLE' };
  return { error: new DomainError('INTERNAL', `Something went wrong on our side. Reference: ${requestId}`), unexpected: true };
}

export function statusOf(error: DomainError): number {
  return HTTP_STATUS_BY_CODE[error.code] ?? 500;
}

export function renderErrorBody(error: DomainError, shape: ErrorShape) {
  if (shape === 'openai') {
    return { error: { message: error.message, type: OPENAI_ERROR_TYPES[statusOf(error)] ?? 'api_error', code: error.code, param: null } };
  }
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

export function errorResponse(thrown: unknown, shape: ErrorShape, requestId: string): ErrorResponse {
  const { error, unexpected } = toDomainError(thrown, requestId);
  const headers: Record<string, string> = error.retryAfterSeconds !== undefined ? { 'Retry-After': String(error.retryAfterSeconds) } : {};
  return { status: statusOf(error), headers, body: renderErrorBody(error, shape), unexpected };
}

/** A failure after a stream's headers went out: our error as is, anything else "the provider stopped responding". */
export function streamFailure(thrown: unknown): DomainError {
  return thrown instanceof DomainError ? thrown : new DomainError('PROVIDER_UNAVAILABLE', 'The AI provider stopped responding.');
}
