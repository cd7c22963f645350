// zod schemas for agent requests (strict: unknown fields such as workspaceId, llm or role are a 400).
import { z } from 'zod';
import { PROVIDER_IDS } from '../server/llm/llm.types';
import { displayNameSchema } from '../server/validation/display-name';
import { alertThresholdsSchema } from '../server/metering/alert-thresholds';

const name = displayNameSchema;
const variables = z.record(z.string(), z.string().max(20_000));

export const managedLlmSchema = z.object({ mode: z.literal('managed'), plan: z.enum(['starter', 'pro', 'ultra']) }).strict();
export const byokLlmSchema = z
  .object({
    mode: z.literal('byok'),
    provider: z.enum(PROVIDER_IDS),
    model: z.string().trim().min(1, 'is required').max(200),
    apiKey: z.string().trim().min(1).max(512).optional(),
    baseUrl: z.string().trim().max(2048).nullable().optional(),
  })
  .strict();
export const llmSettingSchema = z.discriminatedUnion('mode', [managedLlmSchema, byokLlmSchema]);
export type LlmSettingInput = z.infer<typeof llmSettingSchema>;

export const createAgentSchema = z
  .object({
    name,
    templateId: z.string().min(1).max(100),
    variables: variables.default({}),
    llm: llmSettingSchema,
  })
  .strict();

const limitsSchema = z
  .object({
    monthlyTokenCap: z.number().int().positive().max(1e12).nullable().optional(),
    // At least one micro-dollar, the unit money is stored in: a smaller budget would be stored as 0 and block the agent.
    monthlyBudgetUsd: z.number().min(0.000001, 'must be at least 0.000001 (one micro-dollar)').max(1e7).nullable().optional(),
    // publish: tokens one end user (a `user` on /v1, a visitor of a published chat) may use per month
    endUserMonthlyTokenCap: z.number().int().positive().max(1e12).nullable().optional(),
    // A managed agent's overage spend for the month; 0 allows no overage at all (the plan's included usage only).
    monthlyOverageBudgetUsd: z.number().min(0).max(1e7).refine((usd) => usd === 0 || usd >= 0.000001, 'must be 0 or at least 0.000001 (one micro-dollar)').nullable().optional(),
  })
  .strict();

export const patchAgentSchema = z
  .object({
    name: name.optional(),
    variables: variables.optional(),
    status: z.enum(['active', 'paused']).optional(),
    limits: limitsSchema.optional(),
    // alerts: percentages of the allowance or budget at which owners are alerted (null: the workspace's)
    alertThresholds: alertThresholdsSchema.nullable().optional(),
  })
  .strict();
export type PatchAgentInput = z.infer<typeof patchAgentSchema>;

// Named agent API keys (activity log, experience-b): a name on create (optional for older clients), and rename.
export const createApiKeySchema = z.object({ name: name.optional() }).strict();
export const renameApiKeySchema = z.object({ name }).strict();
