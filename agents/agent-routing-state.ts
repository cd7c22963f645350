// What one agent's routing needs on every call, derived once per agent version (#20): its routing record, effective
// setting, whether a limit applies, the light model's catalog entry and (BYOK) its endpoint, the strong model's price.
// Held per agent document: a change re-reads the agent (the /v1 key cache within seconds on every instance, the chat
// API on each call), and a new document — or the same one with another `updatedAt`, LLM setting, routing or limits —
// derives it again. An experiment's variant is a document of its own, so it gets its own state.
import type { Catalog, CatalogModel } from '../server/catalog/catalog.service';
import type { ProviderId } from '../server/llm/llm.types';
import { LimitHeadroom } from '../server/metering/limit-headroom';
import type { AgentDocument, AgentRoutingRecord } from './agent.model';
import type { KeyOpener, ProviderRouting, RouteEndpoint } from './agent-ports';
import { effectiveRouting, planOf, routingOf, type EffectiveRouting } from './agent-routing';
import { sealedKeyCredential } from './run-targets';

export interface StrongPrice {
  inputUsdPerMillion: number;
  outputUsdPerMillion: number;
}

/** The light model as the routing of one agent version sees it (the endpoint is BYOK's: a plan's pool is read per call). */
export interface LightModelState {
  provider: ProviderId;
  model: CatalogModel;
  /** BYOK: the light model's endpoint; its credential opens the sealed key per call (never cached in plaintext). */
  endpoint?: RouteEndpoint;
}

export interface AgentRoutingState {
  /** The agent's id as text (a conversation's key starts with it). */
  agentId: string;
  settings: AgentRoutingRecord;
  effective: EffectiveRouting;
  hasLimit: boolean;
  /** Undefined when the agent has no usable light model (none, not in the catalog, no key). */
  light: LightModelState | undefined;
  /** The strong model's prices by `provider/model` (a managed plan's first backend can vary with the request's needs). */
  strongPrices: Map<string, StrongPrice | undefined>;
}

interface Entry {
  version: number;
  llm: AgentDocument['llm'];
  routing: AgentDocument['routing'];
  limits: AgentDocument['limits'];
  state: AgentRoutingState;
}

export class AgentRoutingStates {
  private readonly entries = new WeakMap<AgentDocument, Entry>();

  constructor(private readonly dependencies: { catalog: Catalog; routing: ProviderRouting; vault: KeyOpener }) {}

  /** The routing state of this agent document, derived on its first call (and again if the document changed). */
  of(agent: AgentDocument): AgentRoutingState {
    const version = agent.updatedAt instanceof Date ? agent.updatedAt.getTime() : Number.NaN;
    const entry = this.entries.get(agent);
    if (entry && entry.version === version && entry.llm === agent.llm && entry.routing === agent.routing && entry.limits === agent.limits) return entry.state;
    const state = this.derive(agent);
    // No version (a document without timestamps): derived on every call.
    if (!Number.isNaN(version)) this.entries.set(agent, { version, llm: agent.llm, routing: agent.routing, limits: agent.limits, state });
    return state;
  }

  /** The strong model's prices (cached in the agent's state). */
  strongPrice(state: AgentRoutingState, provider: string, model: string): StrongPrice | undefined {
    const key = `${provider}/${model}`;
    if (state.strongPrices.has(key)) return state.strongPrices.get(key);
    const found = this.dependencies.catalog.findModel(provider, model);
    const price = found ? { inputUsdPerMillion: found.inputUsdPerMillion, outputUsdPerMillion: found.outputUsdPerMillion } : undefined;
    if (state.strongPrices.size < 16) state.strongPrices.set(key, price);
    return price;
  }

  private derive(agent: AgentDocument): AgentRoutingState {
    const { catalog } = this.dependencies;
    const effective = effectiveRouting(agent, catalog);
    return {
      agentId: agent._id.toString(),
      settings: routingOf(agent),
      effective,
      hasLimit: LimitHeadroom.hasLimit(agent),
      light: effective.lightAvailable ? this.lightModel(agent) : undefined,
      strongPrices: new Map(),
    };
  }

  private lightModel(agent: AgentDocument): LightModelState | undefined {
    const { catalog, routing, vault } = this.dependencies;
    if (agent.llm.mode === 'managed') {
      const backend = planOf(agent, catalog)?.lightBackend;
      const model = backend && catalog.findModel(backend.provider, backend.model);
      return backend && model ? { provider: backend.provider as ProviderId, model } : undefined;
    }
    const light = agent.llm.light;
    if (!light?.sealedKey) return undefined;
    const model = catalog.findModel(light.provider, light.model);
    if (!model) return undefined;
    const provider = light.provider as ProviderId;
    return { provider, model, endpoint: routing.byok(provider, sealedKeyCredential(vault, agent, light.sealedKey, light.provider), light.baseUrl ?? undefined) };
  }
}
