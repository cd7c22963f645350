// Plans and the model catalog: one data file (default-catalog.json), optionally overridden by the operator's CATALOG_FILE.
import fs from 'node:fs';
import { z } from 'zod';
import defaultCatalog from './default-catalog.json';
import type { ModelCapability, ProviderId } from '../llm/llm.types';
import { PROVIDER_IDS } from '../llm/llm.types';
import { ConfigError } from '../config/config';

const modelSchema = z.object({
  id: z.string().min(1),
  inputUsdPerMillion: z.number().min(0),
  outputUsdPerMillion: z.number().min(0),
  contextWindow: z.number().int().positive(),
  maxOutputTokens: z.number().int().positive().optional(),
  /** What the model can do beyond text; a capability left out is one the model does not have. */
  capabilities: z
    .object({ tools: z.boolean().default(false), vision: z.boolean().default(false), jsonSchema: z.boolean().default(false) })
    .optional(),
});

const providerSchema = z.object({
  id: z.enum(PROVIDER_IDS),
  name: z.string(),
  keyPrefixes: z.array(z.string()).default([]),
  anyModel: z.boolean().optional(),
  models: z.array(modelSchema),
});

const planSchema = z.object({
  id: z.enum(['starter', 'pro', 'ultra']),
  name: z.string(),
  tier: z.enum(['economy', 'standard', 'premium']),
  popular: z.boolean().default(false),
  priceUsd: z.number().min(0),
  includedTokens: z.number().int().min(0),
  overageUsdPerMillion: z.number().int().min(0),
  description: z.string(),
  backends: z.array(z.object({ provider: z.enum(PROVIDER_IDS), model: z.string() })).min(1),
  // Cost-aware routing (#14): the plan's light backend for easy requests, and the operator's routing for the plan
  // ('off': plan routing is off; otherwise the setting agents on the plan get unless their owner picks another).
  lightBackend: z.object({ provider: z.enum(PROVIDER_IDS), model: z.string() }).optional(),
  routing: z.enum(['off', 'quality', 'balanced', 'savings']).default('off'),
});

const catalogSchema = z.object({ plans: z.array(planSchema), providers: z.array(providerSchema) });

export type CatalogModel = z.infer<typeof modelSchema>;
export type CatalogProvider = z.infer<typeof providerSchema>;
export type Plan = z.infer<typeof planSchema>;
export type PlanId = Plan['id'];
export const PLAN_IDS = ['starter', 'pro', 'ultra'] as const;

/** USD amounts become integer micro-dollars exactly once, here. */
export function usdToMicros(usd: number): number {
  return Math.round(usd * 1_000_000);
}

export function microsToUsd(micros: number): number {
  return Math.round(micros) / 1_000_000;
}

export class Catalog {
  private readonly plansById: Map<string, Plan>;
  private readonly providersById: Map<string, CatalogProvider>;

  constructor(
    readonly plans: Plan[],
    readonly providers: CatalogProvider[],
  ) {
    this.plansById = new Map(plans.map((plan) => [plan.id, plan]));
    this.providersById = new Map(providers.map((provider) => [provider.id, provider]));
  }

  findPlan(id: string): Plan | undefined {
    return this.plansById.get(id);
  }

  getPlan(id: string): Plan {
    const plan = this.plansById.get(id);
    if (!plan) throw new Error(`Unknown plan ${id}`);
    return plan;
  }

  findProvider(id: string): CatalogProvider | undefined {
    return this.providersById.get(id);
  }

  /** The catalog model, or for `anyModel` providers (custom) a zero-priced entry for whatever model the user named. */
  findModel(providerId: string, modelId: string): CatalogModel | undefined {
    const provider = this.providersById.get(providerId);
    if (!provider) return undefined;
    const model = provider.models.find((candidate) => candidate.id === modelId);
    if (model) return model;
    if (provider.anyModel && modelId.length > 0) {
      // A custom endpoint's model is the user's choice: everything is passed through and the endpoint decides.
      return { id: modelId, inputUsdPerMillion: 0, outputUsdPerMillion: 0, contextWindow: 128000, capabilities: { tools: true, vision: true, jsonSchema: true } };
    }
    return undefined;
  }
}

/** Whether a catalog model has a capability (tools, vision, jsonSchema). */
export function modelHasCapability(model: CatalogModel, capability: ModelCapability): boolean {
  return model.capabilities?.[capability] === true;
}

function mergeById<T extends { id: string }>(base: T[], overrides: Partial<T>[] | undefined): T[] {
  if (!overrides) return base;
  const merged = new Map(base.map((item) => [item.id, item]));
  for (const override of overrides) {
    if (!override.id) continue;
    merged.set(override.id, { ...(merged.get(override.id) ?? {}), ...override } as T);
  }
  return [...merged.values()];
}

export function loadCatalog(catalogFile?: string): Catalog {
  let source: unknown = defaultCatalog;
  if (catalogFile) {
    let override: { plans?: Partial<Plan>[]; providers?: Partial<CatalogProvider>[] };
    try {
      override = JSON.parse(fs.readFileSync(catalogFile, 'utf8'));
    } catch (error) {
      throw new ConfigError(`CATALOG_FILE: cannot read ${catalogFile}: ${(error as Error).message}`);
    }
    source = {
      plans: mergeById(defaultCatalog.plans as Plan[], override.plans),
      providers: mergeById(defaultCatalog.providers as CatalogProvider[], override.providers),
    };
  }
  const parsed = catalogSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(`CATALOG_FILE: invalid catalog: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  }
  return new Catalog(parsed.data.plans, parsed.data.providers);
}

export function isProviderId(value: string): value is ProviderId {
  return (PROVIDER_IDS as readonly string[]).includes(value);
}
