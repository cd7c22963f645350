// Response shapes and small query schemas of the OpenAPI document that no router validates with (answers, not input).
import { z } from 'zod';

export const monthQuerySchema = z.object({ month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/).optional().meta({ description: 'UTC month like 2026-11 (default: this month)' }) }).strict();

export const errorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable error code, e.g. VALIDATION_FAILED, NOT_FOUND, PLAN_LIMIT_REACHED' }),
      message: z.string(),
      details: z.unknown().optional(),
      requestId: z.string().optional(),
    }),
  })
  .meta({ id: 'Error' });

export const activityRowSchema = z
  .object({
    id: z.string(),
    requestId: z.string(),
    timestamp: z.string().meta({ format: 'date-time' }),
    agentId: z.string(),
    agentName: z.string(),
    apiKey: z.object({ id: z.string(), name: z.string().nullable(), prefix: z.string().nullable() }).nullable().meta({ description: 'The agent API key that made the call; null for the playground' }),
    endUser: z.string().nullable(),
    mode: z.enum(['byok', 'managed']),
    plan: z.string().nullable().meta({ description: 'Managed agents: the plan' }),
    provider: z.string().nullable().meta({ description: 'BYOK agents only' }),
    model: z.string().nullable().meta({ description: 'BYOK agents only' }),
    requestType: z.string(),
    status: z.enum(['ok', 'error', 'partial', 'timeout']),
    tokensInput: z.number().int(),
    tokensOutput: z.number().int(),
    tokens: z.number().int(),
    priceUsd: z.number().meta({ description: 'What the platform bills for this call' }),
    providerCostUsd: z.number().nullable().meta({ description: "BYOK only: your own provider's charge at catalog prices" }),
    latencyMs: z.number(),
    attempt: z.number().int(),
    sandbox: z.boolean(),
    usageSource: z.enum(['provider', 'estimated']),
    routing: z.object({ tier: z.string(), reason: z.string().nullable(), forced: z.boolean() }).nullable(),
    cacheHit: z.boolean().nullable(),
    savedPriceUsd: z.number().nullable(),
  })
  .meta({ id: 'ActivityRow' });

export const activityPageSchema = z
  .object({ items: z.array(activityRowSchema), nextCursor: z.string().nullable(), from: z.string(), to: z.string() })
  .meta({ id: 'ActivityPage' });
