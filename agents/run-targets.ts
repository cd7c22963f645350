// Which backends serve one agent call and with what output budget: the BYOK key's provider, or the plan's backends
// in failover order, each with the room its context window leaves for the prompt.
import type { Catalog, CatalogModel, Plan } from '../server/catalog/catalog.service';
import { DomainError, isDomainError } from '../server/errors/domain-error';
import type { ChatMessage, ChatOptions, ProviderId } from '../server/llm/llm.types';
import { modelHasCapability } from '../server/catalog/catalog.service';
import { CAPABILITY_WORDS, PARAMETER_NAMES, requestNeeds, type RequestNeeds } from '../server/llm/capabilities';
import { providerSupportsParameter } from '../server/llm/providers/provider-registry';
import type { RouteTarget } from '../server/llm/llm-router';
import { countPromptTokens, upperBoundPromptTokens } from '../server/llm/token-estimator';
import { applicableLimit } from '../server/metering/limits.service';
import type { AgentDocument, SealedKeyRecord } from './agent.model';
import type { ByokCredential, KeyOpener, ProviderRouting } from './agent-ports';

export const DEFAULT_MAX_OUTPUT_TOKENS = 1024;

export interface SystemPrompt {
  prompt: string;
  /** Never below the exact count; needs no tokenizer. */
  tokensBound: number;
  /** Counted with the tokenizer the first time a call needs it. */
  exactTokens?: number;
}

export interface RunTargets {
  targets: RouteTarget[];
  plan: Plan | undefined;
  promptTokens: number;
}

interface ResolvedTargets {
  targets: RouteTarget[];
  plan: Plan | undefined;
  /** The prompt's size, not the request, decided some target's output budget. */
  roomLimited: boolean;
}

export const storedKeyUnusable = () =>
  new DomainError('PROVIDER_KEY_UNUSABLE', "The stored provider key of this agent can no longer be used. Paste the key again in the agent's LLM settings.");

const sandboxUnavailable = (): never => {
  throw new DomainError('PROVIDER_UNAVAILABLE', 'This agent uses a sandbox key, and Agent Host is not running its sandbox now. Paste a real provider key.');
};

/** The output budget for a model, or undefined when the prompt leaves no room; `roomLimited` when the prompt decided it. */
export function outputBudget(model: CatalogModel, promptTokens: number, requested: number | undefined): { maxTokens: number | undefined; roomLimited: boolean } {
  const wanted = Math.min(requested ?? DEFAULT_MAX_OUTPUT_TOKENS, model.maxOutputTokens ?? Number.MAX_SAFE_INTEGER);
  const room = model.contextWindow - promptTokens;
  return { maxTokens: room <= 0 ? undefined : Math.max(1, Math.min(wanted, room)), roomLimited: room < wanted };
}

/** Why this model (on this provider) cannot serve the request, or undefined when it can. */
export function unmetNeed(provider: ProviderId, model: CatalogModel, needs: RequestNeeds): DomainError | undefined {
  const capability = needs.capabilities.find((candidate) => !modelHasCapability(model, candidate));
  if (capability) {
    return new DomainError('MODEL_CAPABILITY_MISSING', `This agent's model (${model.id}) does not support ${CAPABILITY_WORDS[capability]}.`, { details: { capability, model: model.id } });
  }
  const parameter = needs.parameters.find((candidate) => !providerSupportsParameter(provider, candidate));
  if (parameter) {
    return new DomainError('PARAMETER_UNSUPPORTED', `This agent's provider (${provider}) does not support ${PARAMETER_NAMES[parameter]}.`, { details: { parameter: PARAMETER_NAMES[parameter], provider } });
  }
  return undefined;
}

function planCannot(planName: string, unmet: DomainError): DomainError {
  const details = unmet.details as Record<string, string>;
  const what = details.capability ? CAPABILITY_WORDS[details.capability as keyof typeof CAPABILITY_WORDS] : details.parameter;
  return new DomainError(unmet.code, `No model of the ${planName} plan supports ${what}.`, { details: { ...details, plan: planName } });
}

export class RunTargetResolver {
  constructor(private readonly dependencies: { catalog: Catalog; routing: ProviderRouting; vault: KeyOpener }) {}

  /**
   * Routes with a tokenizer-free upper bound of the prompt's size first; only when that bound is close to a
   * context window (it never undercounts), or a limit needs the reservation, is the prompt counted exactly.
   */
  forPrompt(agent: AgentDocument, system: SystemPrompt, messages: ChatMessage[], requestedMaxTokens: number | undefined, options?: ChatOptions): RunTargets {
    // Tools, images, structured output, optional parameters: checked against the catalog before any provider call.
    const needs = requestNeeds(messages, options);
    const tools = options?.tools;
    // A limit's reservation needs the exact count; without one the bound is enough when it fits.
    if (!applicableLimit(agent)) {
      const bound = system.tokensBound + upperBoundPromptTokens(messages, tools);
      try {
        const resolved = this.resolve(agent, bound, requestedMaxTokens, needs);
        if (!resolved.roomLimited) return { targets: resolved.targets, plan: resolved.plan, promptTokens: bound };
      } catch (error) {
        if (!isDomainError(error, 'PROMPT_TOO_LARGE')) throw error;
      }
    }
    system.exactTokens ??= countPromptTokens([{ role: 'system', content: system.prompt }]);
    const promptTokens = system.exactTokens + countPromptTokens(messages, tools);
    const { targets, plan } = this.resolve(agent, promptTokens, requestedMaxTokens, needs);
    return { targets, plan, promptTokens };
  }

  resolve(agent: AgentDocument, promptTokens: number, requestedMaxTokens: number | undefined, needs?: RequestNeeds): ResolvedTargets {
    const tooLarge = () => new DomainError('PROMPT_TOO_LARGE', `The conversation is too long for this agent's model (${promptTokens} tokens). Shorten it or start a new one.`);
    const { catalog, routing } = this.dependencies;
    if (agent.llm.mode === 'byok') {
      const provider = agent.llm.provider as ProviderId;
      const model = catalog.findModel(provider, agent.llm.model ?? '');
      if (!model || !agent.llm.sealedKey) throw new DomainError('PROVIDER_KEY_INVALID', 'This agent has no usable provider key. Add one in its LLM settings.');
      if (needs) {
        const missing = unmetNeed(provider, model, needs);
        if (missing) throw missing;
      }
      const { maxTokens, roomLimited } = outputBudget(model, promptTokens, requestedMaxTokens);
      if (maxTokens === undefined) throw tooLarge();
      const endpoint = agent.llm.sandboxKey
        ? routing.sandboxByok(provider, this.byokCredential(agent)) ?? sandboxUnavailable()
        : routing.byok(provider, this.byokCredential(agent), agent.llm.baseUrl ?? undefined);
      // Object.assign, not `{ ...endpoint, model }`: a literal that starts with a spread gets a hidden class of its own
      // per call in optimized code (V8 11), an old-generation object per call (docs/BENCHMARKS.md, round 3).
      return { plan: undefined, roomLimited, targets: [Object.assign({}, endpoint, { model: model.id, maxTokens })] };
    }
    const plan = catalog.getPlan(agent.llm.plan ?? '');
    const targets: RouteTarget[] = [];
    let fitsSomewhere = false;
    let roomLimited = false;
    let unmet: DomainError | undefined;
    for (const backend of plan.backends) {
      const model = catalog.findModel(backend.provider, backend.model);
      if (!model) continue;
      if (needs) {
        // A managed plan fails over only to the backends that can serve this request.
        const missing = unmetNeed(backend.provider as ProviderId, model, needs);
        if (missing) {
          unmet ??= missing;
          continue;
        }
      }
      const budget = outputBudget(model, promptTokens, requestedMaxTokens);
      roomLimited ||= budget.roomLimited;
      if (budget.maxTokens === undefined) continue;
      fitsSomewhere = true;
      const endpoint = routing.pooled(backend.provider as ProviderId);
      if (endpoint) targets.push(Object.assign({}, endpoint, { model: model.id, maxTokens: budget.maxTokens }));
    }
    if (!fitsSomewhere && unmet) throw planCannot(plan.name, unmet);
    if (!fitsSomewhere) throw tooLarge();
    if (targets.length === 0) throw new DomainError('PROVIDER_UNAVAILABLE', 'This plan has no platform keys configured right now. Please try again later.');
    return { targets, plan, roomLimited };
  }

  /** Opens the sealed key for one call only; it is never cached in plaintext. */
  private byokCredential(agent: AgentDocument): ByokCredential {
    return sealedKeyCredential(this.dependencies.vault, agent, agent.llm.sealedKey!, agent.llm.provider as string);
  }
}

/** A credential that opens one of the agent's sealed keys (its main key, or its light model's #14) for one call. */
export function sealedKeyCredential(vault: KeyOpener, agent: AgentDocument, sealed: SealedKeyRecord, provider: string): ByokCredential {
  const binding = { workspaceId: agent.workspaceId.toString(), agentId: agent._id.toString(), provider };
  return {
    kind: 'byok',
    reference: `byok:${agent._id.toString()}:${sealed.keyId}:${sealed.nonce.slice(0, 8)}`,
    open: () => {
      try {
        return vault.open(sealed, binding);
      } catch {
        throw storedKeyUnusable();
      }
    },
  };
}
