// The usage line under a playground reply: plain for a managed plan (tokens inside "Details"), tokens for an own key.
import { h } from '../../dom';
import { formatInteger } from '../../format';
import type { Context } from './tab-context';

/** `costWords`: what the answer cost the customer, in words, when the server priced it ("included in the plan", "$0.0012 overage"). */
export function replyUsage(context: Context, usage: { inputTokens: number; outputTokens: number }, costWords?: string): Array<Node | string> {
  const total = usage.inputTokens + usage.outputTokens;
  if (context.agent.llm.mode === 'managed') {
    return [
      h('span', { class: 'usage-chip' }, costWords ?? 'Counted in the plan’s usage'),
      ' · ',
      h('details', null, h('summary', null, 'Details'), ` ${formatInteger(total)} tokens · ${formatInteger(usage.inputTokens)} in, ${formatInteger(usage.outputTokens)} out`),
    ];
  }
  return [
    h('span', { class: 'usage-chip', dataset: { tokens: String(total) } }, `${formatInteger(total)} tokens`),
    ` · ${formatInteger(usage.inputTokens)} in, ${formatInteger(usage.outputTokens)} out`,
    costWords ? ` · ${costWords}` : '',
  ];
}
