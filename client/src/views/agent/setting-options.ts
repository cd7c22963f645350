// The LLM settings an agent can try besides its own (experiments, side-by-side comparison): every plan, and the other
// models of the provider whose key the agent holds.
import type { Context } from './tab-context';

export type AlternativeLlm = { mode: 'managed'; plan: string } | { mode: 'byok'; provider: string; model: string };

export interface SettingOption {
  value: string;
  label: string;
  llm: AlternativeLlm;
}

export function settingOptions(context: Context): SettingOption[] {
  const options: SettingOption[] = context.plans.map((plan) => ({ value: `plan:${plan.id}`, label: `${plan.name} plan`, llm: { mode: 'managed', plan: plan.id } }));
  const llm = context.agent.llm;
  if (llm.mode === 'byok' && llm.provider) {
    const provider = context.providers.find((candidate) => candidate.id === llm.provider);
    for (const model of provider?.models ?? []) {
      options.push({ value: `byok:${model.id}`, label: `${provider!.name} ${model.id} (your key)`, llm: { mode: 'byok', provider: llm.provider, model: model.id } });
    }
  }
  return options;
}

/** The option matching the agent's own setting, so forms start from it. */
export function currentOptionValue(context: Context): string {
  const llm = context.agent.llm;
  return llm.mode === 'managed' ? `plan:${llm.plan}` : `byok:${llm.model}`;
}
