// zod schemas for the response cache setting and A/B experiments (strict: unknown fields are a 400).
import { z } from 'zod';
import { PROVIDER_IDS } from '../server/llm/llm.types';
import { displayNameSchema } from '../server/validation/display-name';

export const cacheSettingSchema = z
  .object({
    mode: z.enum(['off', 'exact', 'semantic']),
    ttlSeconds: z.number().int().min(60).max(30 * 24 * 3600).optional(),
    similarityThreshold: z
      .number()
      .refine((value) => value > 0 && value <= 1, 'must be greater than 0 and at most 1')
      .optional(),
    maxTemperature: z.number().min(0).max(2).optional(),
    allowAnyTemperature: z.boolean().optional(),
  })
  .strict();
export type CacheSettingInput = z.infer<typeof cacheSettingSchema>;

const variantLlmSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('managed'), plan: z.enum(['starter', 'pro', 'ultra']) }).strict(),
  z.object({ mode: z.literal('byok'), provider: z.enum(PROVIDER_IDS), model: z.string().trim().min(1).max(200) }).strict(),
]);

const variantSchema = z
  .object({
    name: z.string().trim().min(1).max(60).optional(),
    weight: z.number().int().min(0).max(100),
    llm: variantLlmSchema.optional(),
    temperature: z.number().min(0).max(2).optional(),
    variables: z.record(z.string(), z.string().max(20_000)).optional(),
  })
  .strict();

export const createExperimentSchema = z
  .object({
    name: displayNameSchema,
    assignBy: z.enum(['user', 'conversation', 'request']).default('user'),
    variants: z.array(variantSchema).min(2, 'needs at least two variants').max(5),
  })
  .strict();
export type CreateExperimentInput = z.infer<typeof createExperimentSchema>;

export const experimentActionSchema = z.object({ action: z.enum(['start', 'pause', 'stop']) }).strict();
export const promoteSchema = z.object({ variant: z.string().min(1).max(10) }).strict();
export const feedbackSchema = z.object({ requestId: z.string().min(1).max(200), rating: z.enum(['up', 'down']) }).strict();

export const compareSchema = z
  .object({
    messages: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().max(400_000) }).strict())
      .min(1)
      .max(500),
    maxTokens: z.number().int().positive().max(1_000_000).optional(),
    temperature: z.number().min(0).max(2).optional(),
    settings: z.array(z.object({ label: z.string().max(60).optional(), llm: variantLlmSchema }).strict()).min(2, 'compare two or three settings').max(3, 'compare two or three settings'),
  })
  .strict();
export type CompareInput = z.infer<typeof compareSchema>;
