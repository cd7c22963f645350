// Agents: create from a template, read, change (PATCH, LLM setting), delete, and their /v1 API keys.
import crypto from 'node:crypto';
import { Types } from 'mongoose';
import type { Config } from '../server/config/config';
import { isSandboxedProvider, type PooledProviderId } from '../server/config/config';
import type { Catalog } from '../server/catalog/catalog.service';
import { microsToUsd, usdToMicros } from '../server/catalog/catalog.service';
import type { AgentModels } from './agent.model';
import { hashAgentApiKey } from './agent-key-cache';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { invalidInput, forbidden, notFound } from '../server/errors/domain-error';
import type { Vault } from '../server/vault/vault.service';
import { maskSecret } from '../server/vault/vault.service';
import { assertSafeBaseUrl } from '../server/llm/base-url-guard';
import type { WorkspaceService } from '../server/workspaces/workspace.service';
import type { Role } from '../server/workspaces/workspace.model';
import type { AgentCacheSetting, AgentDocument, AgentLlmRecord, AgentPromptTemplateRecord, KeyStatus } from './agent.model';
import type { TemplateService } from './template.service';
import type { KeyStatusSource } from './key-health.model';
import type { LlmSettingInput, PatchAgentInput } from './agent.schemas';
import { assertPlausibleProviderKey } from '../server/llm/providers/provider-key-format';
import { isByokSandboxAvailable, isSandboxKey } from './byok-sandbox';
import { explainBaseUrlRefusal } from './base-url-advice';
// Cost-aware routing (#14)
import type { AgentLightModelRecord } from './agent.model';
import type { LightModelInput, RoutingSettingsInput } from './agent-routing.schemas';
import { DEFAULT_ROUTING, effectiveRouting, publicRouting, routingOf } from './agent-routing';
import type { PlanHistoryRecorder } from './agent-ports';
import type { BillingSetting, PlanChangeKind } from '../server/metering/billing/plan-history';

export interface Actor {
  userId: string;
  role: Role;
}

export type AgentChangeListener = (agentId: string) => void;
export type KeyStatusListener = (change: { agentId: string; workspaceId: string; status: KeyStatus; previousStatus: KeyStatus; source: KeyStatusSource; keyMask: string | null; at: Date }) => void;

/** A change made by the platform itself (e.g. an experiment promoting a variant), recorded in plan history as such. */
export interface SystemActor {
  system: string;
}

export class AgentService {
  private readonly changeListeners: AgentChangeListener[] = [];
  private readonly keyStatusListeners: KeyStatusListener[] = [];

  constructor(
    private readonly models: AgentModels,
    private readonly config: Config,
    private readonly catalog: Catalog,
    private readonly templates: TemplateService,
    private readonly vault: Vault,
    private readonly workspaces: WorkspaceService,
  ) {}

  /** Caches (the /v1 agent lookup) subscribe here to drop stale entries. */
  onAgentChanged(listener: AgentChangeListener): void {
    this.changeListeners.push(listener);
  }

  private notifyChanged(agentId: string): void {
    for (const listener of this.changeListeners) listener(agentId);
  }

  // ---- plan history (billing): one recordPlanChange call per change; see docs/BILLING.md ----
  private planHistory: PlanHistoryRecorder | undefined;

  usePlanHistory(recorder: PlanHistoryRecorder): void {
    this.planHistory = recorder;
  }

  private billingSettingOf(agent: Pick<AgentDocument, 'llm' | 'status'>): BillingSetting {
    const byok = agent.llm.mode === 'byok';
    return { mode: agent.llm.mode, plan: byok ? null : agent.llm.plan ?? null, status: agent.status ?? 'active', provider: byok ? agent.llm.provider ?? null : null, model: byok ? agent.llm.model ?? null : null };
  }

  /**
   * Records one change of what an agent bills for. Every path that changes an agent's LLM setting or status (the API,
   * experiment promotion, …) goes through setLlm / patch / create / remove, which call this once.
   */
  private async recordPlanChange(kind: PlanChangeKind, agent: Pick<AgentDocument, '_id' | 'workspaceId' | 'name'>, before: Pick<AgentDocument, 'llm' | 'status'> | null, after: Pick<AgentDocument, 'llm' | 'status'> | null, actor: Actor | SystemActor, at: Date): Promise<void> {
    if (!this.planHistory) return;
    await this.planHistory.record({
      workspaceId: agent.workspaceId.toString(),
      agentId: agent._id.toString(),
      agentName: agent.name,
      kind,
      from: before ? this.billingSettingOf(before) : null,
      to: after ? this.billingSettingOf(after) : null,
      actor: 'system' in actor ? { type: 'system', reason: actor.system } : { type: 'user', userId: actor.userId },
      at,
    });
  }

  isSandboxed(agent: Pick<AgentDocument, 'llm'>): boolean {
    if (agent.llm.mode === 'byok') return Boolean(agent.llm.sandboxKey);
    if (!agent.llm.plan) return false;
    const plan = this.catalog.getPlan(agent.llm.plan);
    return plan.backends.some((backend) => backend.provider !== 'custom' && isSandboxedProvider(this.config, backend.provider as PooledProviderId));
  }

  toPublic(agent: AgentDocument) {
    const llm =
      agent.llm.mode === 'managed'
        ? { mode: 'managed' as const, plan: agent.llm.plan }
        : {
            mode: 'byok' as const,
            provider: agent.llm.provider,
            model: agent.llm.model,
            baseUrl: agent.llm.baseUrl ?? null,
            key: { mask: agent.llm.keyMask ?? null, status: agent.llm.keyStatus ?? 'unchecked', checkedAt: agent.llm.keyCheckedAt?.toISOString() ?? null },
            // Cost-aware routing (#14): the light model, shown only when the agent has one.
            ...(agent.llm.light
              ? { light: { provider: agent.llm.light.provider, model: agent.llm.light.model, baseUrl: agent.llm.light.baseUrl ?? null, key: { mask: agent.llm.light.keyMask ?? null, status: agent.llm.light.keyStatus ?? 'unchecked' } } }
              : {}),
          };
    return {
      id: agent._id.toString(),
      workspaceId: agent.workspaceId.toString(),
      name: agent.name,
      templateId: agent.templateId,
      variables: agent.variables ?? {},
      status: agent.status,
      llm,
      limits: {
        monthlyTokenCap: agent.limits?.monthlyTokenCap ?? null,
        monthlyBudgetUsd: agent.limits?.monthlyBudgetMicros == null ? null : microsToUsd(agent.limits.monthlyBudgetMicros),
        endUserMonthlyTokenCap: agent.limits?.endUserMonthlyTokenCap ?? null,
        monthlyOverageBudgetUsd: agent.limits?.monthlyOverageBudgetMicros == null ? null : microsToUsd(agent.limits.monthlyOverageBudgetMicros),
      },
      alertThresholds: agent.alertThresholds ?? null,
      sandbox: this.isSandboxed(agent),
      routing: publicRouting(agent, this.catalog),
      createdAt: agent.createdAt.toISOString(),
      updatedAt: agent.updatedAt.toISOString(),
    };
  }

  /**
   * The checks of a BYOK setting that need no stored record (also used by the key test before an agent exists):
   * provider, model, base URL (only where the provider takes one, never to a private address unless the operator
   * allows it) and, when given, the key's format and whether it is a sandbox key.
   */
  checkByokSetting(input: Extract<LlmSettingInput, { mode: 'byok' }>) {
    const provider = this.catalog.findProvider(input.provider);
    if (!provider) throw invalidInput('UNKNOWN_PROVIDER', `Unknown provider "${input.provider}".`);
    if (!this.catalog.findModel(input.provider, input.model)) {
      throw invalidInput('UNKNOWN_MODEL', `${provider.name} has no model "${input.model}" in the catalog.`);
    }
    const sandboxKey = input.apiKey ? isSandboxKey(input.apiKey) : false;
    if (sandboxKey && !isByokSandboxAvailable(this.config)) {
      throw invalidInput('SANDBOX_KEY_UNAVAILABLE', 'Sandbox keys only work while Agent Host runs in sandbox mode (outside production, or with LLM_SANDBOX=on). Paste a real provider key.');
    }
    let baseUrl: string | null = null;
    if (input.baseUrl) {
      if (input.provider !== 'custom' && !this.config.allowProviderBaseUrlOverride) {
        throw invalidInput('BASE_URL_NOT_ALLOWED', `${provider.name} is always called at its own address; a base URL is only taken by "Custom (OpenAI-compatible)".`);
      }
      try {
        baseUrl = assertSafeBaseUrl(input.baseUrl, { allowPrivate: this.config.allowPrivateBaseUrls }).toString().replace(/\/+$/, '');
      } catch (error) {
        throw invalidInput('UNSAFE_BASE_URL', explainBaseUrlRefusal(input.baseUrl, error as Error, this.config.allowPrivateBaseUrls));
      }
    } else if (input.provider === 'custom' && !sandboxKey) {
      throw invalidInput('BASE_URL_REQUIRED', 'A custom provider needs the base URL of its OpenAI-compatible API (for example https://llm.example.com/v1, or http://localhost:11434/v1 for Ollama).');
    }
    if (input.apiKey) assertPlausibleProviderKey(this.catalog, input.provider, input.apiKey);
    return { provider, baseUrl, sandboxKey };
  }

  /** Validates an LLM setting and seals a new key when one is given. */
  private buildLlmRecord(
    workspaceId: string,
    agentId: string,
    input: LlmSettingInput,
    existing?: AgentLlmRecord,
  ): AgentLlmRecord {
    if (input.mode === 'managed') {
      if (!this.catalog.findPlan(input.plan)) throw invalidInput('UNKNOWN_PLAN', `Unknown plan "${input.plan}".`);
      return { mode: 'managed', plan: input.plan, provider: null, model: null, baseUrl: null, sealedKey: null, keyMask: null, keyStatus: null, keyCheckedAt: null };
    }
    const { provider, baseUrl, sandboxKey } = this.checkByokSetting(input);

    const binding = { workspaceId, agentId, provider: input.provider };
    if (input.apiKey) {
      return {
        mode: 'byok',
        plan: null,
        provider: input.provider,
        model: input.model,
        baseUrl,
        sealedKey: this.vault.seal(input.apiKey, binding),
        keyMask: maskSecret(input.apiKey),
        keyStatus: 'unchecked',
        keyCheckedAt: null,
        sandboxKey,
      };
    }
    // No new key: keep the stored one, but only for the same provider (the seal is bound to it) and the same endpoint:
    // otherwise anyone who may edit the agent could point it at their own server and receive the stored key.
    if (existing?.mode === 'byok' && existing.sealedKey && existing.provider === input.provider) {
      if ((existing.baseUrl ?? null) === baseUrl) return { ...existing, mode: 'byok', plan: null, model: input.model, baseUrl };
      throw invalidInput('API_KEY_REQUIRED', `Paste the ${provider.name} API key again to change the base URL it is sent to.`);
    }
    throw invalidInput('API_KEY_REQUIRED', `Paste your ${provider.name} API key to use your own key.`);
  }

  private async load(workspaceId: string, agentId: string): Promise<AgentDocument> {
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = await this.models.Agent.findOne({ _id: new Types.ObjectId(agentId), workspaceId: new Types.ObjectId(workspaceId) }).lean<AgentDocument>();
    if (!agent) throw notFound('Agent');
    return agent;
  }

  async get(workspaceId: string, agentId: string) {
    return this.toPublic(await this.load(workspaceId, agentId));
  }

  /** The raw record, for the runner (workspace-scoped). */
  async getRecord(workspaceId: string, agentId: string): Promise<AgentDocument> {
    return this.load(workspaceId, agentId);
  }

  async list(workspaceId: string) {
    const agents = await this.models.Agent.find({ workspaceId: new Types.ObjectId(workspaceId) }).sort({ createdAt: 1 }).lean<AgentDocument[]>();
    return agents.map((agent) => this.toPublic(agent));
  }

  // publish: agents from workspace templates ("ws_<id>"), which the agent keeps a snapshot of
  private workspaceTemplateSnapshot?: (workspaceId: string, templateId: string) => Promise<AgentPromptTemplateRecord | undefined>;
  useWorkspaceTemplates(snapshot: (workspaceId: string, templateId: string) => Promise<AgentPromptTemplateRecord | undefined>): void {
    this.workspaceTemplateSnapshot = snapshot;
  }

  async create(workspaceId: string, actor: Actor, input: { name: string; templateId: string; variables: Record<string, string>; llm: LlmSettingInput }) {
    const promptTemplate = await this.workspaceTemplateSnapshot?.(workspaceId, input.templateId);
    const variables = promptTemplate ? this.templates.resolveVariablesFor(promptTemplate, input.variables) : this.templates.resolveVariables(input.templateId, input.variables);
    const agentId = new Types.ObjectId();
    const llm = this.buildLlmRecord(workspaceId, agentId.toString(), input.llm);
    const created = await this.models.Agent.create({
      _id: agentId,
      workspaceId: new Types.ObjectId(workspaceId),
      name: input.name,
      templateId: input.templateId,
      variables,
      status: 'active',
      llm,
      limits: { monthlyTokenCap: null, monthlyBudgetMicros: null },
      ...(promptTemplate ? { promptTemplate } : {}),
    });
    this.notifyChanged(agentId.toString());
    await this.recordPlanChange('created', created, null, created, actor, created.createdAt);
    await this.workspaces.audit({
      workspaceId,
      actorUserId: actor.userId,
      action: 'agent.create',
      targetType: 'agent',
      targetId: agentId.toString(),
      changes: { name: input.name, templateId: input.templateId, llm: this.describeLlm(llm) },
    });
    return this.toPublic(created.toObject() as AgentDocument);
  }

  private describeLlm(llm: AgentLlmRecord) {
    return llm.mode === 'managed' ? { mode: 'managed', plan: llm.plan } : { mode: 'byok', provider: llm.provider, model: llm.model, baseUrl: llm.baseUrl, keyMask: llm.keyMask };
  }

  async patch(workspaceId: string, agentId: string, actor: Actor, input: PatchAgentInput) {
    const agent = await this.load(workspaceId, agentId);
    const set: Record<string, unknown> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.status !== undefined) set.status = input.status;
    if (input.variables !== undefined) {
      set.variables = agent.promptTemplate ? this.templates.resolveVariablesFor(agent.promptTemplate, input.variables) : this.templates.resolveVariables(agent.templateId, input.variables);
    }
    if (input.limits !== undefined) {
      if (actor.role !== 'owner') throw forbidden('Only workspace owners can change usage limits.');
      if (input.limits.monthlyTokenCap !== undefined) set['limits.monthlyTokenCap'] = input.limits.monthlyTokenCap;
      if (input.limits.monthlyBudgetUsd !== undefined) {
        set['limits.monthlyBudgetMicros'] = input.limits.monthlyBudgetUsd === null ? null : usdToMicros(input.limits.monthlyBudgetUsd);
      }
      if (input.limits.endUserMonthlyTokenCap !== undefined) set['limits.endUserMonthlyTokenCap'] = input.limits.endUserMonthlyTokenCap;
      if (input.limits.monthlyOverageBudgetUsd !== undefined) {
        set['limits.monthlyOverageBudgetMicros'] = input.limits.monthlyOverageBudgetUsd === null ? null : usdToMicros(input.limits.monthlyOverageBudgetUsd);
      }
    }
    if (input.alertThresholds !== undefined) {
      if (actor.role !== 'owner' && actor.role !== 'admin') throw forbidden('Only workspace owners and admins can change alert thresholds.');
      set.alertThresholds = input.alertThresholds;
    }
    if (Object.keys(set).length === 0) return this.toPublic(agent);
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: set }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    if (input.status !== undefined && input.status !== agent.status) await this.recordPlanChange(input.status === 'paused' ? 'paused' : 'resumed', updated, agent, updated, actor, updated.updatedAt);
    const action = input.limits !== undefined ? 'agent.limits.change' : 'agent.update';
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action, targetType: 'agent', targetId: agentId, changes: input as Record<string, unknown> });
    return this.toPublic(updated);
  }

  async setLlm(workspaceId: string, agentId: string, actor: Actor | (SystemActor & { userId?: undefined }), input: LlmSettingInput) {
    // Builders set up and replace provider keys (they edit agents); "keys" that need admin+ are the agent API keys.
    const agent = await this.load(workspaceId, agentId);
    const llm = this.buildLlmRecord(workspaceId, agentId, input, agent.llm);
    // A BYOK agent keeps its light model (#14) across a change of its main model.
    if (llm.mode === 'byok' && agent.llm.mode === 'byok' && agent.llm.light) llm.light = agent.llm.light;
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { llm } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.recordPlanChange('llm_changed', updated, agent, updated, actor, updated.updatedAt);
    await this.workspaces.audit({
      workspaceId,
      actorUserId: actor.userId ?? 'system',
      action: input.mode === 'byok' && input.apiKey ? 'agent.llm.key_replaced' : 'agent.llm.change',
      targetType: 'agent',
      targetId: agentId,
      changes: { from: this.describeLlm(agent.llm), to: this.describeLlm(llm) },
    });
    return this.toPublic(updated);
  }

  /** The agent's response cache setting (cache): validated by agents/response-cache-settings.ts. */
  async setCacheSetting(workspaceId: string, agentId: string, actor: Actor, cache: AgentCacheSetting) {
    const agent = await this.load(workspaceId, agentId);
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { cache } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.cache.change', targetType: 'agent', targetId: agentId, changes: { from: agent.cache ?? null, to: cache } });
    return updated;
  }

  async remove(workspaceId: string, agentId: string, actor: Actor): Promise<void> {
    const agent = await this.load(workspaceId, agentId);
    await this.models.AgentApiKey.deleteMany({ agentId: agent._id });
    await this.models.Agent.deleteOne({ _id: agent._id, workspaceId: agent.workspaceId });
    this.notifyChanged(agentId);
    await this.recordPlanChange('deleted', agent, agent, null, actor, new Date());
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.delete', targetType: 'agent', targetId: agentId, changes: { name: agent.name } });
  }

  /** Part of deleting a workspace: its API keys, then its agents; caches drop them at once. */
  async removeAllInWorkspace(workspaceId: string): Promise<void> {
    const id = new Types.ObjectId(workspaceId);
    const agents = await this.models.Agent.find({ workspaceId: id }, { _id: 1, workspaceId: 1, name: 1, llm: 1, status: 1 }).lean<AgentDocument[]>();
    const agentIds = agents.map((agent) => agent._id.toString());
    await this.models.AgentApiKey.deleteMany({ workspaceId: id });
    await this.models.Agent.deleteMany({ workspaceId: id });
    for (const agentId of agentIds) this.notifyChanged(agentId);
    const deletedAt = new Date();
    for (const agent of agents) await this.recordPlanChange('deleted', agent, agent, null, { system: 'workspace deleted' }, deletedAt);
  }

  // ---- cost-aware routing (#14): light model, routing setting, opt-out, degradation, consented fallback ----

  /** Adds or replaces a BYOK agent's light model; no key on the main model's provider and endpoint reuses its key. */
  async setLightModel(workspaceId: string, agentId: string, actor: Actor, input: LightModelInput) {
    const agent = await this.load(workspaceId, agentId);
    if (agent.llm.mode !== 'byok') throw invalidInput('LIGHT_MODEL_NEEDS_BYOK', "A managed plan's light model is part of the plan. Use your own key to choose a light model.");
    const current = agent.llm.light;
    const existing = current?.sealedKey && current.provider === input.provider
      ? { mode: 'byok' as const, provider: current.provider, baseUrl: current.baseUrl, sealedKey: current.sealedKey, keyMask: current.keyMask, keyStatus: current.keyStatus }
      : agent.llm;
    // The same validation, endpoint guard and sealing as the main model (bound to the light model's provider).
    const built = this.buildLlmRecord(workspaceId, agentId, { mode: 'byok', ...input }, existing);
    const light: AgentLightModelRecord = {
      provider: built.provider!,
      model: built.model!,
      baseUrl: built.baseUrl ?? null,
      sealedKey: built.sealedKey ?? null,
      keyMask: built.keyMask ?? null,
      keyStatus: input.apiKey ? 'unchecked' : built.keyStatus ?? 'unchecked',
    };
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId, 'llm.mode': 'byok' }, { $set: { 'llm.light': light } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.workspaces.audit({
      workspaceId,
      actorUserId: actor.userId,
      action: input.apiKey ? 'agent.llm.light_key_replaced' : 'agent.llm.light_change',
      targetType: 'agent',
      targetId: agentId,
      changes: { to: { provider: light.provider, model: light.model, baseUrl: light.baseUrl, keyMask: light.keyMask } },
    });
    return this.toPublic(updated);
  }

  /** Removes the light model; routing and degradation then have nothing to move to and stay off. */
  async removeLightModel(workspaceId: string, agentId: string, actor: Actor) {
    const agent = await this.load(workspaceId, agentId);
    if (agent.llm.mode !== 'byok' || !agent.llm.light) return this.toPublic(agent);
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { 'llm.light': null } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.llm.light_remove', targetType: 'agent', targetId: agentId, changes: { provider: agent.llm.light.provider, model: agent.llm.light.model } });
    return this.toPublic(updated);
  }

  /** The routing setting (builders), opt-out, degradation and fallback consent (owners: they spend the workspace's money). */
  async setRouting(workspaceId: string, agentId: string, actor: Actor, input: RoutingSettingsInput) {
    const agent = await this.load(workspaceId, agentId);
    const next = { ...routingOf(agent) };
    if (input.setting !== undefined) next.setting = input.setting;
    if (input.alwaysStrong !== undefined) next.alwaysStrong = input.alwaysStrong;
    if (input.degrade !== undefined) next.degrade = input.degrade;
    if (input.fallbackPlan !== undefined) next.fallbackPlan = input.fallbackPlan;
    const spendsMoney = (input.fallbackPlan !== undefined && input.fallbackPlan !== routingOf(agent).fallbackPlan) || (input.degrade !== undefined && input.degrade !== routingOf(agent).degrade);
    if (spendsMoney && actor.role !== 'owner') throw forbidden('Only workspace owners can change the fallback plan or graceful degradation.');
    if (next.fallbackPlan && agent.llm.mode !== 'byok') throw invalidInput('FALLBACK_NEEDS_BYOK', 'A fallback to a managed plan is for agents that use their own key.');
    const effective = effectiveRouting({ llm: agent.llm, routing: next }, this.catalog);
    if (next.setting && next.setting !== 'off' && !effective.lightAvailable) {
      throw agent.llm.mode === 'managed'
        ? invalidInput('PLAN_ROUTING_OFF', 'Smart routing is not offered on this plan.')
        : invalidInput('LIGHT_MODEL_REQUIRED', 'Add a light model first: routing needs a second model to send easy requests to.');
    }
    if (next.degrade && !effective.lightAvailable) {
      throw invalidInput('LIGHT_MODEL_REQUIRED', agent.llm.mode === 'managed' ? 'This plan has no light model to move to near the limit.' : 'Add a light model first: graceful degradation moves to it near the limit.');
    }
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { routing: { ...DEFAULT_ROUTING, ...next } } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'agent.routing.change', targetType: 'agent', targetId: agentId, changes: { from: routingOf(agent), to: next } });
    return this.toPublic(updated);
  }

  async recordKeyStatus(agentId: string, status: KeyStatus, source: KeyStatusSource = 'call'): Promise<void> {
    const at = new Date();
    // The record before the change tells whether the status changed (key-health.service.ts keeps that history).
    const before = await this.models.Agent.findOneAndUpdate(
      { _id: new Types.ObjectId(agentId), 'llm.mode': 'byok' },
      { $set: { 'llm.keyStatus': status, 'llm.keyCheckedAt': at } },
      { new: false, projection: { workspaceId: 1, 'llm.keyStatus': 1, 'llm.keyMask': 1 } },
    ).lean<Pick<AgentDocument, '_id' | 'workspaceId' | 'llm'>>();
    this.notifyChanged(agentId);
    const previous = before ? before.llm.keyStatus ?? 'unchecked' : undefined;
    if (before && previous !== status) {
      for (const listener of this.keyStatusListeners) listener({ agentId, workspaceId: before.workspaceId.toString(), status, previousStatus: previous!, source, keyMask: before.llm.keyMask ?? null, at });
    }
  }

  /** alerts: the key status history listens here (one call per actual change of a BYOK key's status). */
  onKeyStatusChanged(listener: KeyStatusListener): void {
    this.keyStatusListeners.push(listener);
  }

  // ---- agent API keys (/v1) ----

  async createApiKey(workspaceId: string, agentId: string, actor: Actor, input: { name?: string } = {}) {
    const agent = await this.load(workspaceId, agentId);
    const key = `ak_${crypto.randomBytes(32).toString('base64url')}`;
    const prefix = key.slice(0, 10);
    const name = input.name ?? null;
    const record = await this.models.AgentApiKey.create({
      agentId: agent._id,
      workspaceId: agent.workspaceId,
      keyHash: hashAgentApiKey(key),
      prefix,
      createdBy: new Types.ObjectId(actor.userId),
      name,
    });
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.create', targetType: 'agent', targetId: agentId, changes: { apiKeyId: record._id.toString(), prefix, name } });
    return { id: record._id.toString(), key, prefix, name, createdAt: record.createdAt.toISOString() };
  }

  async listApiKeys(workspaceId: string, agentId: string) {
    const agent = await this.load(workspaceId, agentId);
    const keys = await this.models.AgentApiKey.find({ agentId: agent._id }).sort({ createdAt: 1 }).lean();
    return keys.map((key) => ({ id: key._id.toString(), prefix: key.prefix, name: key.name ?? null, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null }));
  }

  async renameApiKey(workspaceId: string, agentId: string, keyId: string, actor: Actor, name: string) {
    const agent = await this.load(workspaceId, agentId);
    if (!OBJECT_ID_PATTERN.test(keyId)) throw notFound('API key');
    const key = await this.models.AgentApiKey.findOneAndUpdate({ _id: new Types.ObjectId(keyId), agentId: agent._id }, { $set: { name } }, { new: true }).lean();
    if (!key) throw notFound('API key');
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.rename', targetType: 'agent', targetId: agentId, changes: { apiKeyId: keyId, name } });
    return { id: key._id.toString(), prefix: key.prefix, name: key.name ?? null, createdAt: key.createdAt.toISOString(), lastUsedAt: key.lastUsedAt?.toISOString() ?? null };
  }

  async revokeApiKey(workspaceId: string, agentId: string, keyId: string, actor: Actor): Promise<void> {
    const agent = await this.load(workspaceId, agentId);
    if (!OBJECT_ID_PATTERN.test(keyId)) throw notFound('API key');
    const result = await this.models.AgentApiKey.deleteOne({ _id: new Types.ObjectId(keyId), agentId: agent._id });
    if (result.deletedCount === 0) throw notFound('API key');
    this.notifyChanged(agentId);
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action: 'apikey.revoke', targetType: 'agent', targetId: agentId, changes: { apiKeyId: keyId } });
  }

  /** /v1 authentication: the agent behind an `ak_` key, or undefined. */
  async findByApiKey(key: string): Promise<{ agent: AgentDocument; apiKeyId: string; lastUsedAt: Date | null } | undefined> {
    if (!key.startsWith('ak_') || key.length > 100) return undefined;
    const record = await this.models.AgentApiKey.findOne({ keyHash: hashAgentApiKey(key) }).lean();
    if (!record) return undefined;
    const agent = await this.models.Agent.findOne({ _id: record.agentId, workspaceId: record.workspaceId }).lean<AgentDocument>();
    if (!agent) return undefined;
    return { agent, apiKeyId: record._id.toString(), lastUsedAt: record.lastUsedAt };
  }

  async touchApiKey(apiKeyId: string): Promise<void> {
    await this.models.AgentApiKey.updateOne({ _id: new Types.ObjectId(apiKeyId) }, { $set: { lastUsedAt: new Date() } });
  }

  /** Light models' own keys (#14), counted with the main keys. */
  private async resealLightKeys(counts: { total: number; resealed: number; alreadyCurrent: number; failed: number }): Promise<void> {
    const cursor = this.models.Agent.find({ 'llm.mode': 'byok', 'llm.light.sealedKey': { $ne: null } }).lean<AgentDocument[]>().cursor();
    for await (const agent of cursor as AsyncIterable<AgentDocument>) {
      const light = agent.llm.light;
      if (!light?.sealedKey) continue;
      counts.total += 1;
      if (!this.vault.needsReseal(light.sealedKey)) {
        counts.alreadyCurrent += 1;
        continue;
      }
      try {
        const resealed = this.vault.reseal(light.sealedKey, { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider: light.provider });
        const result = await this.models.Agent.updateOne({ _id: agent._id, 'llm.light.sealedKey.nonce': light.sealedKey.nonce }, { $set: { 'llm.light.sealedKey': resealed } });
        if (result.matchedCount === 1) counts.resealed += 1;
        else counts.failed += 1;
      } catch {
        counts.failed += 1;
      }
    }
  }

  /** `npm run vault:rotate`: re-seal every stored key under the newest master key. */
  async resealAllKeys(): Promise<{ total: number; resealed: number; alreadyCurrent: number; failed: number }> {
    const counts = { total: 0, resealed: 0, alreadyCurrent: 0, failed: 0 };
    const cursor = this.models.Agent.find({ 'llm.mode': 'byok', 'llm.sealedKey': { $ne: null } }).lean<AgentDocument[]>().cursor();
    for await (const agent of cursor as AsyncIterable<AgentDocument>) {
      counts.total += 1;
      const sealed = agent.llm.sealedKey!;
      if (!this.vault.needsReseal(sealed)) {
        counts.alreadyCurrent += 1;
        continue;
      }
      try {
        const binding = { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider: agent.llm.provider! };
        const resealed = this.vault.reseal(sealed, binding);
        const result = await this.models.Agent.updateOne({ _id: agent._id, 'llm.sealedKey.nonce': sealed.nonce }, { $set: { 'llm.sealedKey': resealed } });
        // No match: the key was replaced or removed meanwhile; counted as failed so the operator runs the command again.
        if (result.matchedCount === 1) counts.resealed += 1;
        else counts.failed += 1;
      } catch {
        counts.failed += 1;
      }
    }
    await this.resealLightKeys(counts);
    return counts;
  }
}
