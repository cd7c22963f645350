// Usage in a managed plan's own unit: conversations (about 1,000 tokens each, as the plan picker promises) and the
// share of the included usage. Tokens appear only inside a "Details" disclosure, for builders who want them.
import { h } from '../dom';
import { conversationsFor, formatInteger } from '../format';
import type { UsageRow } from '../types';
import { meterBar } from '../views/common';

const TOKENS_PER_CONVERSATION = 1000;

/** "under 1", "3", "1,240": conversations in a number of tokens. */
export function conversationsIn(tokens: number): string {
  if (tokens <= 0) return '0';
  if (tokens < TOKENS_PER_CONVERSATION) return 'under 1';
  return formatInteger(Math.round(tokens / TOKENS_PER_CONVERSATION));
}

export function tokensForConversations(conversations: number): number {
  return Math.round(conversations * TOKENS_PER_CONVERSATION);
}

export function conversationsForTokens(tokens: number): number {
  return Math.round(tokens / TOKENS_PER_CONVERSATION);
}

export function percentOfIncluded(row: Pick<UsageRow, 'tokens' | 'includedTokens'>): number {
  return row.includedTokens ? Math.round((row.tokens / row.includedTokens) * 100) : 0;
}

/** "No conversations yet", "Under 1 conversation", "About 120 conversations". */
export function aboutConversations(tokens: number): string {
  if (tokens <= 0) return 'No conversations yet';
  if (tokens < TOKENS_PER_CONVERSATION) return 'Under 1 conversation';
  return `About ${conversationsIn(tokens)} conversations`;
}

/** "About 120 of 5,000 conversations · 2% of included usage". */
export function plainAllowance(row: Pick<UsageRow, 'tokens' | 'includedTokens'>): string {
  if (!row.includedTokens) return aboutConversations(row.tokens);
  const used = row.tokens <= 0 ? '0' : row.tokens < TOKENS_PER_CONVERSATION ? 'Under 1' : `About ${conversationsIn(row.tokens)}`;
  return `${used} of ${conversationsFor(row.includedTokens)} conversations · ${percentOfIncluded(row)}% of included usage`;
}

export function plainUsageBar(row: Pick<UsageRow, 'tokens' | 'includedTokens'>, label: string): HTMLElement {
  return meterBar(row.tokens, row.includedTokens ?? 0, label, plainAllowance(row));
}

/** The builder's view of a managed agent's usage: tokens in and out, folded away. */
export function usageDetails(row: Pick<UsageRow, 'tokens' | 'tokensInput' | 'tokensOutput' | 'overageTokens' | 'includedTokens'>, ...extra: Array<Node | null>): HTMLDetailsElement {
  return h(
    'details',
    { class: 'usage-details', dataset: { testid: 'usage-details' } },
    h('summary', null, 'Details'),
    h(
      'p',
      { class: 'muted small' },
      `${formatInteger(row.tokens)} tokens this month (${formatInteger(row.tokensInput)} in, ${formatInteger(row.tokensOutput)} out)`,
      row.includedTokens ? ` of ${formatInteger(row.includedTokens)} included` : '',
      row.overageTokens > 0 ? ` · ${formatInteger(row.overageTokens)} past the included usage` : '',
      '. A conversation is counted as about 1,000 tokens.',
    ),
    ...extra,
  );
}
