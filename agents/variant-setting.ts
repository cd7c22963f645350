// An alternative LLM setting for one agent (an experiment's variant, a side-by-side comparison): which ones the agent
// can run, and what the same tokens are priced at for it.
import type { Catalog } from '../server/catalog/catalog.service';
import { invalidInput } from '../server/errors/domain-error';
import { costMicros, overagePriceMicros, priceSnapshotFor } from '../server/metering/pricing';
import type { AgentDocument } from './agent.model';
import type { ExperimentVariant } from './experiment.model';

/** A known plan, or a catalog model of the provider whose key the agent holds (the key is sealed to that provider). */
export function assertVariantUsable(catalog: Catalog, agent: AgentDocument, llm: ExperimentVariant['llm'], label: string): void {
  if (!llm) return;
  if (llm.mode === 'managed') {
    if (!catalog.findPlan(llm.plan)) throw invalidInput('EXPERIMENT_VARIANT_UNAVAILABLE', `${label}: there is no plan "${llm.plan}".`);
    return;
  }
  if (agent.llm.mode !== 'byok' || !agent.llm.sealedKey || agent.llm.provider !== llm.provider) {
    throw invalidInput('EXPERIMENT_VARIANT_UNAVAILABLE', `${label}: this agent has no ${llm.provider} key. Use a plan, or another model of the provider whose key the agent has.`);
  }
  const provider = catalog.findProvider(llm.provider);
  if (!provider?.anyModel && !catalog.findModel(llm.provider, llm.model)) {
    throw invalidInput('EXPERIMENT_VARIANT_UNAVAILABLE', `${label}: ${provider?.name ?? llm.provider} has no model "${llm.model}" in the catalog.`);
  }
}

/**
 * What an answer's tokens are priced at for this agent, call by call: BYOK, what the provider charges the owner;
 * a managed plan, the plan's overage rate (the price of tokens past the allowance; inside it they use up allowance).
 */
export function listPriceMicros(catalog: Catalog, agent: Pick<AgentDocument, 'llm'>, answer: { provider: string; model: string; usage: { inputTokens: number; outputTokens: number } }): number {
  const plan = agent.llm.mode === 'managed' && agent.llm.plan ? catalog.findPlan(agent.llm.plan) : undefined;
  const snapshot = priceSnapshotFor(catalog, answer.provider, answer.model, plan);
  if (plan) return overagePriceMicros(answer.usage.inputTokens + answer.usage.outputTokens, snapshot.overageUsdPerMillion);
  return costMicros(answer.usage.inputTokens, snapshot.inputUsdPerMillion) + costMicros(answer.usage.outputTokens, snapshot.outputUsdPerMillion);
}

/** The provider's cost of an answer's tokens at the model's catalog rates. */
export function providerCostMicros(catalog: Catalog, answer: { provider: string; model: string; usage: { inputTokens: number; outputTokens: number } }): number {
  const snapshot = priceSnapshotFor(catalog, answer.provider, answer.model, undefined);
  return costMicros(answer.usage.inputTokens, snapshot.inputUsdPerMillion) + costMicros(answer.usage.outputTokens, snapshot.outputUsdPerMillion);
}
