// The activity log: one row per metered call attempt, newest first, filtered, in cursor pages that stay fast over
// millions of events. Every filter has its own index with the UTC hour and (timestamp: -1, _id: -1) after its
// equality fields (migrations 004 and 010, see ACTIVITY_INDEXES): a page reads a window of hours newest first —
// one hour, then one more, then twice as many each time the window came back short (at most a week) — as
// equality/`$in` on the hour plus a range on (timestamp, _id) below the cursor. MongoDB answers each from the index
// in order (IXSCAN, or SORT_MERGE of one IXSCAN per hour) and stops at the page; the built-in store looks the window's
// matching events up through the same index and sorts only those. Neither scans the collection.
// Rows are customer-safe: a managed agent's row names its plan, never the provider, model, cost or credential.
import { Types } from 'mongoose';
import { microsToUsd } from '../catalog/catalog.service';
import { invalidInput, notFound } from '../errors/domain-error';
import { OBJECT_ID_PATTERN } from '../db/driver-errors';
import type { MeteredAgentCollection, MeterEventDocument, MeteringModels, MeterStatus } from './metering.models';
import { dayOf, hourOf } from './pricing';
import type { ActivityPage, ActivityRow } from '../../shared/activity-answers';

export const ACTIVITY_STATUSES = ['ok', 'error', 'partial', 'timeout'] as const satisfies readonly MeterStatus[];
export const ACTIVITY_PAGE_DEFAULT = 50;
export const ACTIVITY_PAGE_MAX = 200;
/** The longest date range one query may cover (the retention default is 13 months). */
export const ACTIVITY_MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** The widest window of hours one query reads (MongoDB merges up to 200 sorted index scans of an `$in` without a SORT). */
export const ACTIVITY_MAX_WINDOW_HOURS = 168;

export interface ActivityFilters {
  agentId?: string;
  status?: MeterStatus;
  apiKeyId?: string;
  endUser?: string;
  /** First and last UTC day included, YYYY-MM-DD. */
  from: string;
  to: string;
}

export interface ActivityPageRequest extends ActivityFilters {
  cursor?: string;
  limit: number;
}

/** The optional fields other capabilities add to a meter event (routing, cache, end users), read when present. */
type OptionalEventFields = {
  endUser?: string | null;
  routing?: { tier?: string; reason?: string; forced?: boolean } | null;
  cacheHit?: boolean;
  savedPriceMicros?: number;
};
type StoredEvent = MeterEventDocument & OptionalEventFields;

const DAY_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

function parseDay(value: unknown, field: string): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !DAY_PATTERN.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`)) || dayOf(new Date(`${value}T00:00:00Z`)) !== value) {
    throw invalidInput('INVALID_DATE_RANGE', `${field} must be a UTC day like 2026-11-30.`);
  }
  return value;
}

/** from/to (inclusive UTC days) with defaults: the last 30 days up to today. */
export function parseActivityRange(input: { from?: unknown; to?: unknown }, now = new Date()): { from: string; to: string } {
  const to = parseDay(input.to, 'to') ?? dayOf(now);
  const from = parseDay(input.from, 'from') ?? dayOf(new Date(Date.parse(`${to}T00:00:00Z`) - 29 * DAY_MS));
  if (from > to) throw invalidInput('INVALID_DATE_RANGE', 'from must be on or before to.');
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY_MS + 1;
  if (days > ACTIVITY_MAX_RANGE_DAYS) throw invalidInput('INVALID_DATE_RANGE', `A range covers at most ${ACTIVITY_MAX_RANGE_DAYS} days.`);
  return { from, to };
}

interface Cursor {
  /** timestamp (ms) and _id of the last row returned: the next page starts strictly below it. */
  t: number;
  id: string;
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

function decodeCursor(value: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Cursor;
    if (typeof parsed.t === 'number' && Number.isFinite(parsed.t) && typeof parsed.id === 'string' && OBJECT_ID_PATTERN.test(parsed.id)) return parsed;
  } catch {
    // falls through
  }
  throw invalidInput('INVALID_CURSOR', 'The cursor is not one this API returned. Start again without it.');
}

/** The 24 UTC hours of a day, newest first: "2026-11-30T23" … "2026-11-30T00". */
export function hoursOf(day: string): string[] {
  return Array.from({ length: 24 }, (_, index) => `${day}T${String(23 - index).padStart(2, '0')}`);
}

/** The UTC hours from `first` (an hour like "2026-11-30T14") back to the first hour of day `from`, newest first. */
function* hoursBack(first: string, from: string): Generator<string> {
  const stop = Date.parse(`${from}T00:00:00Z`);
  for (let at = Date.parse(`${first}:00:00Z`); at >= stop; at -= HOUR_MS) yield hourOf(new Date(at));
}

function take(hours: Iterator<string>, count: number): string[] {
  const out: string[] = [];
  while (out.length < count) {
    const next = hours.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

/**
 * The meter event indexes of the activity log (schema in metering.models.ts, created by migrations 004 and 010): the
 * equality fields of one filter, then the hour, then newest first. `activityIndexFor` says which one a page uses.
 */
export const ACTIVITY_INDEXES = {
  activity_workspace_hour: { workspaceId: 1, hour: 1, timestamp: -1, _id: -1 },
  activity_agent_hour: { agentId: 1, hour: 1, timestamp: -1, _id: -1 },
  activity_status_hour: { workspaceId: 1, status: 1, hour: 1, timestamp: -1, _id: -1 },
  activity_api_key_hour: { workspaceId: 1, apiKeyId: 1, hour: 1, timestamp: -1, _id: -1 },
  activity_end_user_hour: { workspaceId: 1, endUser: 1, hour: 1, timestamp: -1, _id: -1 },
} as const;
export type ActivityIndexName = keyof typeof ACTIVITY_INDEXES;

/**
 * The index that serves a filter set: the most selective filter's own (end user, then API key, then agent, then
 * status), else the workspace's. The query then carries exactly that index's equality fields plus the others as
 * residual conditions, so a planner that picks the index whose prefix the equalities cover (MongoDB's, the built-in
 * store's) picks it: by agent the query has no workspaceId (the agent was checked to be the workspace's), so the
 * status index (workspaceId first) does not compete with the agent's.
 */
export function activityIndexFor(filters: Pick<ActivityFilters, 'agentId' | 'status' | 'apiKeyId' | 'endUser'>): ActivityIndexName {
  if (filters.endUser !== undefined) return 'activity_end_user_hour';
  if (filters.apiKeyId !== undefined) return 'activity_api_key_hour';
  if (filters.agentId !== undefined) return 'activity_agent_hour';
  if (filters.status !== undefined) return 'activity_status_hour';
  return 'activity_workspace_hour';
}

/** Sort and index direction of every activity read: newest first, ties by _id. */
const NEWEST_FIRST = { timestamp: -1, _id: -1 } as const;

/**
 * The filter of one activity query over a window of hours (newest first): the equality fields of the index
 * `activityIndexFor` picks, `hour` as one value or `$in`, the other filters as residual conditions, and below the
 * cursor a range on timestamp (an index bound after the hour) with the (timestamp, _id) tie-break.
 */
export function activityQuery(workspaceId: Types.ObjectId, filters: Pick<ActivityFilters, 'agentId' | 'status' | 'apiKeyId' | 'endUser'>, hours: string[], cursor?: { t: number; id: string }): Record<string, unknown> {
  const index = activityIndexFor(filters);
  const filter: Record<string, unknown> = index === 'activity_agent_hour' ? {} : { workspaceId };
  if (filters.agentId !== undefined) filter.agentId = new Types.ObjectId(filters.agentId);
  if (filters.endUser !== undefined) filter.endUser = filters.endUser;
  if (filters.apiKeyId !== undefined) filter.apiKeyId = filters.apiKeyId;
  if (filters.status !== undefined) filter.status = filters.status;
  filter.hour = hours.length === 1 ? hours[0] : { $in: hours };
  if (cursor) {
    const at = new Date(cursor.t);
    filter.timestamp = { $lte: at };
    filter.$or = [{ timestamp: { $lt: at } }, { _id: { $lt: new Types.ObjectId(cursor.id) } }];
  }
  return filter;
}

export interface ActivityApiKeyRecord {
  _id: Types.ObjectId;
  name?: string | null;
  prefix?: string;
}

export type ActivityApiKeyCollection = Pick<import('mongodb').Collection, 'find'>;

export class ActivityService {
  constructor(
    private readonly models: Pick<MeteringModels, 'MeterEvent'> & { Agent: { collection: MeteredAgentCollection }; AgentApiKey: { collection: ActivityApiKeyCollection } },
  ) {}

  /** The filter of one query: the chosen index's equality fields (scope, filter field, hour or hours), then the rest. */
  private filterFor(workspaceId: Types.ObjectId, filters: ActivityFilters, hours: string[], cursor: Cursor | undefined): Record<string, unknown> {
    return activityQuery(workspaceId, filters, hours, cursor);
  }

  private async validate(workspaceId: Types.ObjectId, filters: ActivityFilters): Promise<void> {
    if (filters.apiKeyId !== undefined && !OBJECT_ID_PATTERN.test(filters.apiKeyId)) throw notFound('API key');
    if (filters.agentId === undefined) return;
    if (!OBJECT_ID_PATTERN.test(filters.agentId)) throw notFound('Agent');
    const agent = await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(filters.agentId), workspaceId }, { projection: { _id: 1 } });
    if (!agent) throw notFound('Agent');
  }

  /**
   * The raw events of one page (and the cursor after it): windows of UTC hours newest first, each one index-bounded
   * query sorted newest first and limited to what the page still lacks, until the page is full or the range ends.
   * The window starts at one hour (a busy workspace fills a page from one hour, as before), stays one hour once more
   * (the cursor's hour may hold only a page's tail) and then doubles up to ACTIVITY_MAX_WINDOW_HOURS, so a rare
   * filter value reads a month in about ten queries, each returning only matching events.
   */
  private async pageEvents(workspaceId: string, request: ActivityPageRequest): Promise<{ events: StoredEvent[]; nextCursor: string | null }> {
    const workspace = new Types.ObjectId(workspaceId);
    await this.validate(workspace, request);
    const cursor = request.cursor ? decodeCursor(request.cursor) : undefined;
    const lastHour = `${request.to}T23`;
    const cursorHour = cursor ? hourOf(new Date(cursor.t)) : undefined;
    const first = cursorHour && cursorHour < lastHour ? cursorHour : lastHour;
    const hours = hoursBack(first, request.from);
    const events: StoredEvent[] = [];
    const wanted = request.limit + 1;
    const collection = this.models.MeterEvent.collection;
    let windows = 0;
    let size = 1;
    while (events.length < wanted) {
      const window = take(hours, size);
      if (window.length === 0) break;
      const found = (await collection
        .find(this.filterFor(workspace, request, window, cursor))
        .sort(NEWEST_FIRST)
        .limit(wanted - events.length)
        .toArray()) as unknown as StoredEvent[];
      events.push(...found);
      windows += 1;
      if (windows >= 2) size = Math.min(size * 2, ACTIVITY_MAX_WINDOW_HOURS);
    }
    const page = events.slice(0, request.limit);
    const last = page[page.length - 1];
    const nextCursor = events.length > request.limit && last ? encodeCursor({ t: last.timestamp.getTime(), id: last._id.toHexString() }) : null;
    return { events: page, nextCursor };
  }

  private async namesFor(workspaceId: string, events: StoredEvent[]) {
    const agentIds = [...new Set(events.map((event) => event.agentId.toHexString()))].map((id) => new Types.ObjectId(id));
    const keyIds = [...new Set(events.map((event) => event.apiKeyId).filter((id): id is string => typeof id === 'string' && OBJECT_ID_PATTERN.test(id)))].map((id) => new Types.ObjectId(id));
    const workspace = new Types.ObjectId(workspaceId);
    const [agents, keys] = await Promise.all([
      agentIds.length ? this.models.Agent.collection.find({ _id: { $in: agentIds }, workspaceId: workspace }, { projection: { name: 1 } }).toArray() : Promise.resolve([]),
      keyIds.length ? this.models.AgentApiKey.collection.find({ _id: { $in: keyIds }, workspaceId: workspace }, { projection: { name: 1, prefix: 1 } }).toArray() : Promise.resolve([]),
    ]);
    return {
      agents: new Map(agents.map((agent) => [agent._id.toString(), String(agent.name)])),
      keys: new Map((keys as unknown as ActivityApiKeyRecord[]).map((key) => [key._id.toString(), key])),
    };
  }

  private toRow(event: StoredEvent, names: Awaited<ReturnType<ActivityService['namesFor']>>): ActivityRow {
    const managed = event.mode === 'managed';
    const key = event.apiKeyId ? names.keys.get(event.apiKeyId) : undefined;
    return {
      id: event._id.toHexString(),
      requestId: event.requestId,
      timestamp: event.timestamp.toISOString(),
      agentId: event.agentId.toHexString(),
      agentName: names.agents.get(event.agentId.toHexString()) ?? '(deleted agent)',
      apiKey: event.apiKeyId ? { id: event.apiKeyId, name: key?.name ?? null, prefix: key?.prefix ?? null } : null,
      endUser: typeof event.endUser === 'string' ? event.endUser : null,
      mode: event.mode,
      plan: managed ? event.plan : null,
      provider: managed ? null : event.provider,
      model: managed ? null : event.model,
      requestType: event.requestType,
      status: event.status,
      tokensInput: event.tokensInput,
      tokensOutput: event.tokensOutput,
      tokens: event.tokensInput + event.tokensOutput,
      priceUsd: microsToUsd(event.priceTotalMicros ?? 0),
      providerCostUsd: managed ? null : microsToUsd(event.costTotalMicros ?? 0),
      latencyMs: event.latencyMs,
      attempt: event.attempt,
      sandbox: event.sandbox === true,
      usageSource: event.usageSource,
      routing: event.routing && typeof event.routing.tier === 'string' ? { tier: event.routing.tier, reason: event.routing.reason ?? null, forced: event.routing.forced === true } : null,
      cacheHit: typeof event.cacheHit === 'boolean' ? event.cacheHit : null,
      savedPriceUsd: typeof event.savedPriceMicros === 'number' ? microsToUsd(event.savedPriceMicros) : null,
    };
  }

  async page(workspaceId: string, request: ActivityPageRequest): Promise<ActivityPage> {
    const { events, nextCursor } = await this.pageEvents(workspaceId, request);
    const names = await this.namesFor(workspaceId, events);
    return { items: events.map((event) => this.toRow(event, names)), nextCursor, from: request.from, to: request.to };
  }

  /** One event of this workspace by its id (the detail view); another workspace's event is a 404. */
  async detail(workspaceId: string, eventId: string): Promise<ActivityRow> {
    if (!OBJECT_ID_PATTERN.test(eventId)) throw notFound('Activity');
    const event = (await this.models.MeterEvent.collection.findOne({ _id: new Types.ObjectId(eventId), workspaceId: new Types.ObjectId(workspaceId) })) as StoredEvent | null;
    if (!event) throw notFound('Activity');
    return this.toRow(event, await this.namesFor(workspaceId, [event]));
  }

  /** Every row of the filtered set, newest first, a page at a time (the CSV export streams these). */
  async *rows(workspaceId: string, filters: ActivityFilters): AsyncGenerator<ActivityRow> {
    let cursor: string | undefined;
    do {
      const page = await this.page(workspaceId, { ...filters, cursor, limit: ACTIVITY_PAGE_MAX });
      yield* page.items;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }
}

/** The CSV columns of the activity export: customer-safe (no provider cost of managed agents, no credential). */
export const ACTIVITY_CSV_COLUMNS = [
  'time', 'requestId', 'agent', 'apiKey', 'endUser', 'mode', 'plan', 'model', 'requestType', 'status', 'tokensInput', 'tokensOutput',
  'priceUsd', 'byokProviderCostUsd', 'latencyMs', 'routing', 'cacheHit', 'sandbox',
] as const;

export function activityCsvRow(row: ActivityRow): Array<string | number | boolean> {
  return [
    row.timestamp, row.requestId, row.agentName, row.apiKey ? row.apiKey.name ?? row.apiKey.prefix ?? row.apiKey.id : '', row.endUser ?? '', row.mode, row.plan ?? '',
    row.model ?? '', row.requestType, row.status, row.tokensInput, row.tokensOutput, row.priceUsd, row.providerCostUsd ?? '', row.latencyMs,
    row.routing ? row.routing.tier : '', row.cacheHit === null ? '' : row.cacheHit, row.sandbox,
  ];
}
