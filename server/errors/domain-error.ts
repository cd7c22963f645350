// The one error type every layer throws: a stable code, a message for people, optional details. No HTTP status here:
// the web layer maps codes to statuses (server/http/error-response.ts), so nothing below it depends on HTTP.

/** Every stable error code the platform answers with. A new code is added here and in the HTTP status table. */
export const ERROR_CODES = [
  // The request itself
  'VALIDATION_FAILED',
  'INVALID_JSON',
  'BAD_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNSUPPORTED_ENCODING',
  'INVALID_MONTH',
  // Who is asking
  'UNAUTHORIZED',
  'INVALID_CREDENTIALS',
  'CURRENT_PASSWORD_INCORRECT',
  'RESET_LINK_INVALID',
  'invalid_api_key',
  'FORBIDDEN',
  'TOO_MANY_ATTEMPTS',
  // What is asked for
  'NOT_FOUND',
  'EMAIL_TAKEN',
  'ALREADY_MEMBER',
  'LAST_OWNER',
  'MEMBER_CHANGED',
  // Agent settings
  'TEMPLATE_NOT_FOUND',
  'TEMPLATE_VARIABLE_UNKNOWN',
  'TEMPLATE_VARIABLE_MISSING',
  'UNKNOWN_PLAN',
  'UNKNOWN_PROVIDER',
  'UNKNOWN_MODEL',
  'BASE_URL_NOT_ALLOWED',
  'BASE_URL_REQUIRED',
  'UNSAFE_BASE_URL',
  'API_KEY_REQUIRED',
  'API_KEY_FORMAT',
  // Cost-aware routing (#14)
  'LIGHT_MODEL_NEEDS_BYOK',
  'LIGHT_MODEL_REQUIRED',
  'PLAN_ROUTING_OFF',
  'FALLBACK_NEEDS_BYOK',
  'ROUTE_INVALID',
  // Running an agent
  'PLAN_LIMIT_REACHED',
  'PROMPT_TOO_LARGE',
  'PROVIDER_KEY_INVALID',
  'PROVIDER_KEY_UNUSABLE',
  'PROVIDER_QUOTA_EXCEEDED',
  'PROVIDER_RATE_LIMITED',
  'PROVIDER_BAD_REQUEST',
  'PROVIDER_UNAVAILABLE',
  'METER_BACKLOG_FULL',
  'CLIENT_CLOSED_REQUEST',
  // Alerts and webhooks
  'UNSAFE_WEBHOOK_URL',
  'TOO_MANY_WEBHOOKS',
  // experience (#18): BYOK setup that cannot dead-end
  'SANDBOX_KEY_UNAVAILABLE',
  // Activity log and invites (experience-b)
  'INVALID_DATE_RANGE',
  'INVALID_CURSOR',
  'INVITE_INVALID',
  'INVITE_EMAIL_MISMATCH',
  'INVITE_PENDING',
  // Tool calling, structured output, images (the Chat Completions surface)
  'TOOL_CHOICE_UNKNOWN',
  'TOOL_CALL_ID_UNKNOWN',
  'JSON_SCHEMA_INVALID',
  'TOO_MANY_TOOLS',
  'IMAGE_INVALID',
  'IMAGE_TOO_LARGE',
  'CONTENT_PART_UNSUPPORTED',
  'MODEL_CAPABILITY_MISSING',
  'PARAMETER_UNSUPPORTED',
  // Response cache and A/B experiments (cache)
  'SEMANTIC_CACHE_UNAVAILABLE',
  'EXPERIMENT_SPLIT_INVALID',
  'EXPERIMENT_VARIANT_UNAVAILABLE',
  'EXPERIMENT_VARIANT_UNKNOWN',
  'EXPERIMENT_ALREADY_RUNNING',
  'EXPERIMENT_STATE',
  // Publishing: end-user caps, share links and the embeddable chat, visitors' abuse limits, workspace templates (publish)
  'END_USER_LIMIT_REACHED',
  'ORIGIN_NOT_ALLOWED',
  'VISITOR_ID_INVALID',
  'MESSAGE_EMPTY',
  'MESSAGE_TOO_LONG',
  'VISITOR_RATE_LIMITED',
  'VISITOR_DAILY_LIMIT',
  'TEMPLATE_INVALID',
  'TEMPLATE_VARIABLE_UNDECLARED',
  // Ours
  'DB_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export interface DomainErrorOptions {
  details?: unknown;
  /** When the caller may try again (rendered as Retry-After on HTTP). */
  retryAfterSeconds?: number;
  cause?: unknown;
}

export class DomainError extends Error {
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainErrorOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}

/** Our own error somewhere in a cause chain (e.g. the SSRF guard's refusal inside an SDK's connection error). */
export function domainErrorInCauses(error: unknown): DomainError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 8; current = current.cause, depth += 1) {
    if (current instanceof DomainError) return current;
  }
  return undefined;
}

export const invalidInput = (code: ErrorCode, message: string, details?: unknown) => new DomainError(code, message, { details });
export const unauthorized = (message = 'Authentication required.') => new DomainError('UNAUTHORIZED', message);
export const forbidden = (message = 'Your role in this workspace does not allow this.') => new DomainError('FORBIDDEN', message);
export const notFound = (what = 'Resource') => new DomainError('NOT_FOUND', `${what} not found.`);
export const conflict = (code: ErrorCode, message: string) => new DomainError(code, message);
