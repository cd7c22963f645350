// The agent as the agent routes answer it (agents/agent.service.ts toPublic, plus `health` from agents/agent-health.ts
// on list/get/create/patch/PUT llm). Strict objects: test/integration/openapi.test.ts validates real answers against
// these shapes, so a field added to the answer without being described here fails that test.
import { z } from 'zod';
import { HEALTH_STATES } from '../../../agents/agent-health';
import { KEY_STATUSES } from '../../../agents/agent.model';
import { ROUTING_SETTINGS } from '../../llm/prompt-router';

const keyStatus = z.enum(KEY_STATUSES).meta({ description: "The key's last verdict: unchecked, valid, invalid (rejected), rate_limited, quota_exceeded (out of credit), unreachable" });

const managedLlmSchema = z.object({ mode: z.literal('managed'), plan: z.string().nullable().meta({ description: 'The managed plan (starter, pro, ultra)' }) }).strict();

const byokLlmSchema = z
  .object({
    mode: z.literal('byok'),
    provider: z.string(),
    model: z.string(),
    baseUrl: z.string().nullable(),
    key: z.object({ mask: z.string().nullable().meta({ description: 'The key with all but its ends masked' }), status: keyStatus, checkedAt: z.string().nullable().meta({ format: 'date-time' }) }).strict(),
    light: z
      .object({ provider: z.string(), model: z.string(), baseUrl: z.string().nullable(), key: z.object({ mask: z.string().nullable(), status: keyStatus }).strict() })
      .strict()
      .optional()
      .meta({ description: 'Cost-aware routing: the light model, only when the agent has one' }),
  })
  .strict();

const routingSetting = z.enum(ROUTING_SETTINGS);

export const agentHealthSchema = z
  .object({
    state: z.enum(HEALTH_STATES).meta({
      description:
        'active; sandbox (runs on the simulator, billing simulated); paused; key_rejected; out_of_credit; cap_reached (monthly limit or budget used); ' +
        'provider_down (a plan with no servable backend, a BYOK key whose provider was unreachable, or calls failing because the provider is unavailable — seen by any instance of the server, for 10 minutes or until a call succeeds)',
    }),
    label: z.string().meta({ description: 'A word or two for a badge' }),
    message: z.string().meta({ description: 'What it means and what to do, in plain words' }),
    canRun: z.boolean().meta({ description: 'False when every call would be refused until someone applies the fix' }),
    fix: z
      .object({ tab: z.enum(['setting', 'settings']), label: z.string(), role: z.enum(['builder', 'owner']).meta({ description: 'The least role that can apply the fix' }) })
      .strict()
      .nullable(),
  })
  .strict()
  .meta({ id: 'AgentHealth', description: "The agent's health at a glance, computed when the agent is read" });

const agentFields = {
  id: z.string(),
  workspaceId: z.string(),
  name: z.string(),
  templateId: z.string(),
  variables: z.record(z.string(), z.string()),
  status: z.enum(['active', 'paused']),
  llm: z.discriminatedUnion('mode', [managedLlmSchema, byokLlmSchema]),
  limits: z
    .object({
      monthlyTokenCap: z.number().int().nullable().meta({ description: 'Managed: tokens a month' }),
      monthlyBudgetUsd: z.number().nullable().meta({ description: 'BYOK: provider cost a month' }),
      endUserMonthlyTokenCap: z.number().int().nullable(),
      monthlyOverageBudgetUsd: z.number().nullable(),
    })
    .strict(),
  alertThresholds: z.array(z.number()).nullable(),
  sandbox: z.boolean(),
  routing: z
    .object({
      setting: routingSetting.nullable().meta({ description: "The agent's own choice (null: the plan's)" }),
      effectiveSetting: routingSetting,
      explanation: z.string(),
      alwaysStrong: z.boolean(),
      degrade: z.boolean(),
      fallbackPlan: z.string().nullable(),
      lightAvailable: z.boolean(),
      planRouting: routingSetting.nullable(),
      lightModel: z.object({ provider: z.string(), model: z.string() }).strict().nullable(),
    })
    .strict(),
  createdAt: z.string().meta({ format: 'date-time' }),
  updatedAt: z.string().meta({ format: 'date-time' }),
};

/** An agent with its health (list, get, create, patch, PUT llm). */
export const agentSchema = z.object({ ...agentFields, health: agentHealthSchema }).strict().meta({ id: 'Agent' });

/** An agent as the routing routes answer it (no health). */
export const agentWithoutHealthSchema = z.object(agentFields).strict().meta({ id: 'AgentSetting' });
