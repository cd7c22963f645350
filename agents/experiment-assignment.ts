// Which variant a call runs: a hash of the experiment and the assignment unit (the end user, the conversation or the
// request) picks a point in [0, 100), and the variants' weights cut that range in order. The same unit always lands
// on the same variant while the split stays the same.
import crypto from 'node:crypto';
import type { AssignmentUnit, ExperimentVariant } from './experiment.model';

export interface AssignmentSource {
  requestId: string;
  endUser?: string;
  metadata?: Record<string, string>;
  messages: ReadonlyArray<{ role: string; content?: unknown }>;
}

/** The unit's value; a call without the chosen unit (no `user`, say) is assigned by its request. */
export function assignmentUnitValue(unit: AssignmentUnit, source: AssignmentSource): string {
  if (unit === 'user' && source.endUser) return `user:${source.endUser}`;
  if (unit === 'conversation') {
    const id = source.metadata?.conversation_id ?? source.metadata?.conversationId;
    if (id) return `conversation:${id}`;
    // Without an id, a conversation is known by its opening message, which every later turn repeats.
    const first = source.messages.find((message) => message.role === 'user');
    if (first) return `conversation-start:${crypto.createHash('sha256').update(JSON.stringify(first.content ?? '')).digest('hex')}`;
  }
  return `request:${source.requestId}`;
}

/** A point in [0, 100) from the experiment id and the unit's value. */
export function assignmentPoint(experimentId: string, unitValue: string): number {
  const digest = crypto.createHash('sha256').update(`${experimentId}\u0000${unitValue}`).digest();
  return (digest.readUInt32BE(0) / 0x1_0000_0000) * 100;
}

export function pickVariant<Variant extends Pick<ExperimentVariant, 'weight'>>(variants: readonly Variant[], point: number): Variant {
  let cumulative = 0;
  for (const variant of variants) {
    cumulative += variant.weight;
    if (point < cumulative) return variant;
  }
  return variants[variants.length - 1]!;
}
