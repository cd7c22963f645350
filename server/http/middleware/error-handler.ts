// The one error middleware: every error leaves as {"error":{"code","message"}} (OpenAI shape on /v1), never a stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { AppError } from '../app-error';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
}

function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const parserError = error as BodyParserError;
  if (parserError?.type === 'entity.parse.failed') return new AppError(400, 'INVALID_JSON', 'The request body is not valid JSON.');
  if (parserError?.type === 'entity.too.large') return new AppError(413, 'PAYLOAD_TOO_LARGE', 'The request body is too large.');
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return new AppError(415, 'UNSUPPORTED_ENCODING', 'Unsupported request encoding.');
  }
  if (parserError?.status && parserError.status >= 400 && parserError.status < 500) {
    return new AppError(parserError.status, 'BAD_REQUEST', 'The request could not be read.');
  }
  return undefined;
}

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

export function renderError(error: AppError, openAiShape: boolean) {
  if (openAiShape) {
    return { error: { message: error.message, type: OPENAI_ERROR_TYPES[error.status] ?? 'api_error', code: error.code, param: null } };
  }
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

export const errorHandler: ErrorRequestHandler = (error, request, response, _next) => {
  const known = toAppError(error);
  const appError = known ?? new AppError(500, 'INTERNAL', `Something went wrong on our side. Reference: ${String(request.id ?? '')}`);
  if (!known) request.log?.error({ err: error }, 'unhandled error');
  if (response.headersSent) {
    response.end();
    return;
  }
  for (const [name, value] of Object.entries(appError.headers ?? {})) response.setHeader(name, value);
  response.status(appError.status).json(renderError(appError, request.path.startsWith('/v1')));
};

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new AppError(404, 'NOT_FOUND', `No route for ${request.method} ${request.path}.`));
};
