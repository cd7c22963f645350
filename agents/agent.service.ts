// Agents: create from a template, read, change (PATCH, LLM setting), delete; the one entry point the routers,
// runner and platform use. Each concern lives in its own file and is reached from here: the API's view of an agent
// (agent-public-view.ts), the LLM setting and BYOK checks (agent-llm-setting.ts), limits and alert thresholds
// (agent-limits-setting.ts), plan history (agent-plan-history.ts), the cache setting (agent-cache-setting.ts),
// cost-aware routing (agent-routing-setting.ts), BYOK key status (agent-key-status.ts), /v1 API keys
// (agent-api-keys.ts) and the vault key rotation (agent-key-reseal.ts).
import { Types } from 'mongoose';
import type { Config } from '../server/config/config';
import type { Catalog } from '../server/catalog/catalog.service';
import type { AgentModels } from './agent.model';
import { OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { notFound } from '../server/errors/domain-error';
import type { Vault } from '../server/vault/vault.service';
import type { WorkspaceService } from '../server/workspaces/workspace.service';
import type { AgentCacheSetting, AgentDocument, AgentPromptTemplateRecord, KeyStatus } from './agent.model';
import type { TemplateService } from './template.service';
import type { KeyStatusSource } from './key-health.model';
import type { LlmSettingInput, PatchAgentInput } from './agent.schemas';
import type { LightModelInput, RoutingSettingsInput } from './agent-routing.schemas';
import type { PlanHistoryRecorder } from './agent-ports';
import type { Actor, AgentEditContext, SystemActor } from './agent-edit-context';
import { isAgentSandboxed, toPublicAgent } from './agent-public-view';
import { buildLlmRecord, checkByokSetting, describeLlm } from './agent-llm-setting';
import { setLimitsAndThresholds } from './agent-limits-setting';
import { AgentPlanHistory } from './agent-plan-history';
import { setAgentCacheSetting } from './agent-cache-setting';
import { removeLightModel, setLightModel, setRouting, type RoutingSettingContext } from './agent-routing-setting';
import { AgentKeyStatus, type KeyStatusListener } from './agent-key-status';
import { createAgentApiKey, findAgentByApiKey, listAgentApiKeys, renameAgentApiKey, revokeAgentApiKey, touchAgentApiKey } from './agent-api-keys';
import { resealAllAgentKeys } from './agent-key-reseal';

export type { Actor, SystemActor } from './agent-edit-context';
export type { KeyStatusListener } from './agent-key-status';

export type AgentChangeListener = (agentId: string) => void;

export class AgentService {
  private readonly changeListeners: AgentChangeListener[] = [];
  private readonly planHistory = new AgentPlanHistory();
  private readonly keyStatus: AgentKeyStatus;
  /** What the concern files need to change an agent (see agent-edit-context.ts). */
  private readonly context: RoutingSettingContext;

  constructor(
    private readonly models: AgentModels,
    private readonly config: Config,
    private readonly catalog: Catalog,
    private readonly templates: TemplateService,
    private readonly vault: Vault,
    private readonly workspaces: WorkspaceService,
  ) {
    this.keyStatus = new AgentKeyStatus(models, (agentId) => this.notifyChanged(agentId));
    this.context = {
      models,
      workspaces,
      catalog,
      config,
      vault,
      load: (workspaceId, agentId) => this.load(workspaceId, agentId),
      notifyChanged: (agentId) => this.notifyChanged(agentId),
      toPublic: (agent) => this.toPublic(agent),
    } satisfies AgentEditContext & RoutingSettingContext;
  }

  /** Caches (the /v1 agent lookup) subscribe here to drop stale entries. */
  onAgentChanged(listener: AgentChangeListener): void {
    this.changeListeners.push(listener);
  }

  private notifyChanged(agentId: string): void {
    for (const listener of this.changeListeners) listener(agentId);
  }

  // ---- plan history (billing): one record per change; see docs/BILLING.md and agent-plan-history.ts ----
  usePlanHistory(recorder: PlanHistoryRecorder): void {
    this.planHistory.use(recorder);
  }

  isSandboxed(agent: Pick<AgentDocument, 'llm'>): boolean {
    return isAgentSandboxed(agent, this.catalog, this.config);
  }

  toPublic(agent: AgentDocument) {
    return toPublicAgent(agent, this.catalog, this.config);
  }

  /** The checks of a BYOK setting that need no stored record (also used by the key test before an agent exists). */
  checkByokSetting(input: Extract<LlmSettingInput, { mode: 'byok' }>) {
    return checkByokSetting(input, this.catalog, this.config);
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
    const llm = buildLlmRecord(this.context, workspaceId, agentId.toString(), input.llm);
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
    await this.planHistory.record('created', created, null, created, actor, created.createdAt);
    await this.workspaces.audit({
      workspaceId,
      actorUserId: actor.userId,
      action: 'agent.create',
      targetType: 'agent',
      targetId: agentId.toString(),
      changes: { name: input.name, templateId: input.templateId, llm: describeLlm(llm) },
    });
    return this.toPublic(created.toObject() as AgentDocument);
  }

  async patch(workspaceId: string, agentId: string, actor: Actor, input: PatchAgentInput) {
    const agent = await this.load(workspaceId, agentId);
    const set: Record<string, unknown> = {};
    if (input.name !== undefined) set.name = input.name;
    if (input.status !== undefined) set.status = input.status;
    if (input.variables !== undefined) {
      set.variables = agent.promptTemplate ? this.templates.resolveVariablesFor(agent.promptTemplate, input.variables) : this.templates.resolveVariables(agent.templateId, input.variables);
    }
    setLimitsAndThresholds(actor, input, set);
    if (Object.keys(set).length === 0) return this.toPublic(agent);
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: set }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    if (input.status !== undefined && input.status !== agent.status) await this.planHistory.record(input.status === 'paused' ? 'paused' : 'resumed', updated, agent, updated, actor, updated.updatedAt);
    const action = input.limits !== undefined ? 'agent.limits.change' : 'agent.update';
    await this.workspaces.audit({ workspaceId, actorUserId: actor.userId, action, targetType: 'agent', targetId: agentId, changes: input as Record<string, unknown> });
    return this.toPublic(updated);
  }

  async setLlm(workspaceId: string, agentId: string, actor: Actor | (SystemActor & { userId?: undefined }), input: LlmSettingInput) {
    // Builders set up and replace provider keys (they edit agents); "keys" that need admin+ are the agent API keys.
    const agent = await this.load(workspaceId, agentId);
    const llm = buildLlmRecord(this.context, workspaceId, agentId, input, agent.llm);
    // A BYOK agent keeps its light model (#14) across a change of its main model.
    if (llm.mode === 'byok' && agent.llm.mode === 'byok' && agent.llm.light) llm.light = agent.llm.light;
    const updated = await this.models.Agent.findOneAndUpdate({ _id: agent._id, workspaceId: agent.workspaceId }, { $set: { llm } }, { new: true }).lean<AgentDocument>();
    if (!updated) throw notFound('Agent');
    this.notifyChanged(agentId);
    await this.planHistory.record('llm_changed', updated, agent, updated, actor, updated.updatedAt);
    await this.workspaces.audit({
      workspaceId,
      actorUserId: actor.userId ?? 'system',
      action: input.mode === 'byok' && input.apiKey ? 'agent.llm.key_replaced' : 'agent.llm.change',
      targetType: 'agent',
      targetId: agentId,
      changes: { from: describeLlm(agent.llm), to: describeLlm(llm) },
    });
    return this.toPublic(updated);
  }

  /** The agent's response cache setting (cache): validated by agents/response-cache-settings.ts. */
  setCacheSetting(workspaceId: string, agentId: string, actor: Actor, cache: AgentCacheSetting) {
    return setAgentCacheSetting(this.context, workspaceId, agentId, actor, cache);
  }

  async remove(workspaceId: string, agentId: string, actor: Actor): Promise<void> {
    const agent = await this.load(workspaceId, agentId);
    await this.models.AgentApiKey.deleteMany({ agentId: agent._id });
    await this.models.Agent.deleteOne({ _id: agent._id, workspaceId: agent.workspaceId });
    this.notifyChanged(agentId);
    await this.planHistory.record('deleted', agent, agent, null, actor, new Date());
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
    for (const agent of agents) await this.planHistory.record('deleted', agent, agent, null, { system: 'workspace deleted' }, deletedAt);
  }

  // ---- cost-aware routing (#14): light model, routing setting, opt-out, degradation, consented fallback ----

  /** Adds or replaces a BYOK agent's light model; no key on the main model's provider and endpoint reuses its key. */
  setLightModel(workspaceId: string, agentId: string, actor: Actor, input: LightModelInput) {
    return setLightModel(this.context, workspaceId, agentId, actor, input);
  }

  /** Removes the light model; routing and degradation then have nothing to move to and stay off. */
  removeLightModel(workspaceId: string, agentId: string, actor: Actor) {
    return removeLightModel(this.context, workspaceId, agentId, actor);
  }

  /** The routing setting (builders), opt-out, degradation and fallback consent (owners: they spend the workspace's money). */
  setRouting(workspaceId: string, agentId: string, actor: Actor, input: RoutingSettingsInput) {
    return setRouting(this.context, workspaceId, agentId, actor, input);
  }

  // ---- BYOK key status ----

  recordKeyStatus(agentId: string, status: KeyStatus, source: KeyStatusSource = 'call'): Promise<void> {
    return this.keyStatus.record(agentId, status, source);
  }

  /** alerts: the key status history listens here (one call per actual change of a BYOK key's status). */
  onKeyStatusChanged(listener: KeyStatusListener): void {
    this.keyStatus.onChanged(listener);
  }

  // ---- agent API keys (/v1) ----

  createApiKey(workspaceId: string, agentId: string, actor: Actor, input: { name?: string } = {}) {
    return createAgentApiKey(this.context, workspaceId, agentId, actor, input);
  }

  listApiKeys(workspaceId: string, agentId: string) {
    return listAgentApiKeys(this.context, workspaceId, agentId);
  }

  renameApiKey(workspaceId: string, agentId: string, keyId: string, actor: Actor, name: string) {
    return renameAgentApiKey(this.context, workspaceId, agentId, keyId, actor, name);
  }

  revokeApiKey(workspaceId: string, agentId: string, keyId: string, actor: Actor): Promise<void> {
    return revokeAgentApiKey(this.context, workspaceId, agentId, keyId, actor);
  }

  /** /v1 authentication: the agent behind an `ak_` key, or undefined. */
  findByApiKey(key: string): Promise<{ agent: AgentDocument; apiKeyId: string; lastUsedAt: Date | null } | undefined> {
    return findAgentByApiKey(this.models, key);
  }

  touchApiKey(apiKeyId: string): Promise<void> {
    return touchAgentApiKey(this.models, apiKeyId);
  }

  /** `npm run vault:rotate`: re-seal every stored key under the newest master key. */
  resealAllKeys(): Promise<{ total: number; resealed: number; alreadyCurrent: number; failed: number }> {
    return resealAllAgentKeys(this.models, this.vault);
  }
}
