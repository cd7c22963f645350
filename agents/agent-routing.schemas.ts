// zod schemas for the routing settings of an agent (#14): its light model, its routing setting, opt-out, degradation
// and consented fallback. Strict: unknown fields are a 400.
import { z } from 'zod';
import { PROVIDER_IDS } from '../server/llm/llm.types';
import { ROUTING_SETTINGS } from '../server/llm/prompt-router';

export const lightModelSchema = z
  .object({
    provider: z.enum(PROVIDER_IDS),
    model: z.string().trim().min(1, 'is required').max(200),
    apiKey: z.string().trim().min(1).max(512).optional(),
    baseUrl: z.string().trim().max(2048).nullable().optional(),
  })
  .strict();
export type LightModelInput = z.infer<typeof lightModelSchema>;

export const routingSettingsSchema = z
  .object({
    setting: z.enum(ROUTING_SETTINGS).nullable().optional(),
    alwaysStrong: z.boolean().optional(),
    degrade: z.boolean().optional(),
    fallbackPlan: z.enum(['starter', 'pro', 'ultra']).nullable().optional(),
  })
  .strict();
export type RoutingSettingsInput = z.infer<typeof routingSettingsSchema>;
