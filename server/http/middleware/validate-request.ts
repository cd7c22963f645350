// zod validation for request bodies and queries: any mismatch is a 400 VALIDATION_FAILED naming the fields.
import type { z } from 'zod';
import { DomainError } from '../../errors/domain-error';

export function parseInput<Schema extends z.ZodType>(schema: Schema, input: unknown, what = 'body'): z.infer<Schema> {
  const result = schema.safeParse(input ?? {});
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({
    field: issue.path.join('.') || what,
    message: issue.code === 'unrecognized_keys' ? `not allowed here: ${(issue as { keys?: string[] }).keys?.join(', ')}` : issue.message,
  }));
  const first = issues[0]!;
  return (() => {
    throw new DomainError('VALIDATION_FAILED', `Invalid ${what}: ${first.field}: ${first.message}`, { details: { issues } });
  })();
}
