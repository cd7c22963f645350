// The meter queue's items: a meter event or a failed call on its way to the database, with the stages of the batch
// writer it has passed (meter-batch-writer.ts) and where the crash spool wrote it (meter-spool.ts).
import type { MeterEventInput } from './meter.types';
import { modelKey } from './model-key';
import { costMicros, dayOf, monthOf } from './pricing';
import type { EventPricing } from './rollup-updates';

/**
 * Where the crash spool wrote an item (meter-spool.ts), kept on the item itself: a plain number and a reference, no
 * per-item entry in a side table (a WeakMap entry and a position object per call lived as long as the batch, #20).
 */
export interface SpoolMark {
  /** The item's sequence number in its spool file; 0: not spooled (or acknowledged). */
  spoolSeq?: number;
  /** The spool's segment holding the item (opaque here). */
  spoolSegment?: object;
  /** Its progress (rollup group, or "replay") is written to the spool. */
  spoolProgressed?: boolean;
}

export interface EventItem extends SpoolMark {
  kind: 'event';
  event: MeterEventInput;
  /** Worked out once per event, at its first write attempt. */
  derived?: DerivedFields;
  insertAttempted: boolean;
  inserted: boolean;
  /** Frozen at the first rollup attempt, so a retry re-sends exactly the same guarded increment. */
  rollupGroupId?: string;
  rolledUp?: boolean;
  pricing?: EventPricing;
  rollupPriced?: boolean;
  eventPriced?: boolean;
  /** The end-user rollup stages (end-user-rollup.ts). */
  endUserRolledUp?: boolean;
  endUserPriced?: boolean;
}

export interface ErrorItem extends SpoolMark {
  kind: 'error';
  workspaceId: string;
  agentId: string;
  month: string;
  mode: 'byok' | 'managed';
  plan: string | null;
  rollupGroupId?: string;
  applied?: boolean;
}

/** One queued write: a meter event, or a failed call counted in its rollup's `errors`. */
export type QueueItem = EventItem | ErrorItem;

export function createEventItem(event: MeterEventInput): QueueItem {
  // Every field the item will get, set now: one hidden class for the queue's items.
  return { kind: 'event', event, insertAttempted: false, inserted: false, spoolSeq: 0, spoolSegment: undefined, spoolProgressed: false };
}

export function createErrorItem(input: { workspaceId: string; agentId: string; mode: 'byok' | 'managed'; plan: string | null; timestamp: Date }): QueueItem {
  return { kind: 'error', workspaceId: input.workspaceId, agentId: input.agentId, month: monthOf(input.timestamp), mode: input.mode, plan: input.plan };
}

export interface DerivedFields {
  month: string;
  day: string;
  costInputMicros: number;
  costOutputMicros: number;
  modelKey: string;
}

/** An event's month, day, costs and model key, worked out once (at its first write attempt) and kept on the item. */
export function derive(item: EventItem): DerivedFields {
  if (item.derived) return item.derived;
  const { event } = item;
  item.derived = {
    month: monthOf(event.timestamp),
    day: dayOf(event.timestamp),
    costInputMicros: costMicros(event.tokensInput, event.priceSnapshot.inputUsdPerMillion),
    costOutputMicros: costMicros(event.tokensOutput, event.priceSnapshot.outputUsdPerMillion),
    modelKey: modelKey(event.provider, event.model),
  };
  return item.derived;
}
