// Side-by-side comparison in the playground: one prompt to two or three LLM settings of the same agent at once (plans,
// or other models of the agent's own provider key), each call metered like any other, answered side by side with
// its tokens, price and latency. Comparisons bypass the response cache and any running experiment.
import type { Catalog } from '../server/catalog/catalog.service';
import { isDomainError } from '../server/errors/domain-error';
import type { AgentRunner } from './agent-runner';
import type { AgentService } from './agent.service';
import type { CompareInput } from './experiment.schemas';
import { applyVariant } from './run-experiment';
import { assertVariantUsable, listPriceMicros, providerCostMicros } from './variant-setting';

export class ModelComparison {
  constructor(private readonly dependencies: { runner: AgentRunner; agents: AgentService; catalog: Catalog }) {}

  async compare(workspaceId: string, agentId: string, requestId: string, input: CompareInput, signal: AbortSignal) {
    const { runner, agents, catalog } = this.dependencies;
    const agent = await agents.getRecord(workspaceId, agentId);
    input.settings.forEach((setting, index) => assertVariantUsable(catalog, agent, setting.llm, `Setting ${index + 1}`));
    const results = await Promise.all(
      input.settings.map(async (setting, index) => {
        const label = setting.label ?? (setting.llm.mode === 'managed' ? `${setting.llm.plan} plan` : `${setting.llm.provider} ${setting.llm.model}`);
        const variantAgent = applyVariant(agent, { key: String(index + 1), name: label, weight: 0, llm: setting.llm });
        const callRequestId = `${requestId}_${index + 1}`;
        const startedAt = Date.now();
        try {
          const result = await runner.generate({
            agent: variantAgent,
            messages: input.messages,
            maxTokens: input.maxTokens,
            temperature: input.temperature,
            signal,
            requestId: callRequestId,
            cacheControl: 'no-store',
            pinned: true,
          });
          // A plan's answer: no backend model and no platform cost (#18); an own-key answer keeps its model and provider cost.
          const ownKey = setting.llm.mode === 'byok';
          return {
            label,
            llm: setting.llm,
            ok: true as const,
            requestId: callRequestId,
            content: result.content,
            ...(ownKey ? { provider: result.provider, model: result.model } : {}),
            usage: result.usage,
            latencyMs: Date.now() - startedAt,
            priceMicros: listPriceMicros(catalog, variantAgent, result),
            ...(ownKey ? { costMicros: providerCostMicros(catalog, result) } : {}),
          };
        } catch (error) {
          return {
            label,
            llm: setting.llm,
            ok: false as const,
            requestId: callRequestId,
            latencyMs: Date.now() - startedAt,
            error: isDomainError(error) ? { code: error.code, message: error.message } : { code: 'INTERNAL', message: 'This setting could not answer.' },
          };
        }
      }),
    );
    return { results };
  }
}
