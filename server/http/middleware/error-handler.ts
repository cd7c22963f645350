// The Express error middleware: every error leaves through errorResponse (OpenAI shape on /v1), never a stack trace.
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { DomainError } from '../../errors/domain-error';
import { errorResponse } from '../error-response';

export const errorHandler: ErrorRequestHandler = (error, request, response, _next) => {
  const rendered = errorResponse(error, request.path.startsWith('/v1') ? 'openai' : 'platform', String(request.id ?? ''));
  if (rendered.unexpected) request.log?.error({ err: error }, 'unhandled error');
  if (response.headersSent) {
    response.end();
    return;
  }
  for (const [name, value] of Object.entries(rendered.headers)) response.setHeader(name, value);
  response.status(rendered.status).json(rendered.body);
};

export const notFoundHandler: RequestHandler = (request, _response, next) => {
  next(new DomainError('NOT_FOUND', `No route for ${request.method} ${request.path}.`));
};
