// The runner's end-user hook (publish): a call made for an end user (`user` on /v1 and the agent chat API, a visitor
// of a published chat) reserves its worst case against the agent's per-end-user monthly token cap before it runs.
import type { AgentDocument } from './agent.model';
import type { EndUserLimits, EndUserReservation } from './agent-ports';

/** End user ids are stored on meter events and rollups: bounded, printable, no control characters. */
export const MAX_END_USER_LENGTH = 256;

export function normalizeEndUser(endUser: string | undefined): string | undefined {
  if (typeof endUser !== 'string') return undefined;
  const trimmed = endUser.trim();
  if (!trimmed) return undefined;
  // eslint-disable-next-line no-control-regex
  return trimmed.replace(/[\u0000-\u001f\u007f]/g, '').slice(0, MAX_END_USER_LENGTH) || undefined;
}

export async function reserveForEndUser(
  limits: EndUserLimits | undefined,
  agent: AgentDocument,
  endUser: string | undefined,
  tokens: number,
): Promise<EndUserReservation | undefined> {
  if (!limits || !endUser || agent.limits?.endUserMonthlyTokenCap == null) return undefined;
  return limits.reserve(agent, endUser, tokens);
}
