// Usage over any date range (from the monthly rollups' daily counters) and today by hour (from today's meter
// events through the activity hour index): the workspace-level chart and an agent's own, beyond calendar months.
import { Types } from 'mongoose';
import { microsToUsd } from '../catalog/catalog.service';
import { notFound } from '../errors/domain-error';
import { OBJECT_ID_PATTERN } from '../db/driver-errors';
import type { MeteringModels, UsageMonthlyDocument } from './metering.models';
import { dayOf } from './pricing';
import { hoursOf } from './activity.service';

const DAY_MS = 86_400_000;

export interface UsageDay {
  date: string;
  requests: number;
  tokensInput: number;
  tokensOutput: number;
  tokens: number;
}

export interface UsageHour {
  hour: string;
  requests: number;
  tokens: number;
  priceUsd: number;
}

function monthsBetween(from: string, to: string): string[] {
  const months: string[] = [];
  let [year, month] = from.slice(0, 7).split('-').map(Number) as [number, number];
  const last = to.slice(0, 7);
  for (;;) {
    const current = `${year}-${String(month).padStart(2, '0')}`;
    months.push(current);
    if (current >= last) return months;
    month += 1;
    if (month > 12) {
      month = 1;
      year += 1;
    }
  }
}

export class UsageViewsService {
  constructor(private readonly models: Pick<MeteringModels, 'MeterEvent' | 'UsageMonthly'> & { Agent: { collection: Pick<import('mongodb').Collection, 'findOne'> } }) {}

  private async scope(workspaceId: string, agentId: string | undefined): Promise<{ workspaceId: Types.ObjectId; agentId?: Types.ObjectId }> {
    const workspace = new Types.ObjectId(workspaceId);
    if (agentId === undefined) return { workspaceId: workspace };
    if (!OBJECT_ID_PATTERN.test(agentId)) throw notFound('Agent');
    const agent = await this.models.Agent.collection.findOne({ _id: new Types.ObjectId(agentId), workspaceId: workspace }, { projection: { _id: 1 } });
    if (!agent) throw notFound('Agent');
    return { workspaceId: workspace, agentId: agent._id as Types.ObjectId };
  }

  /** One row per day of [from, to] (zeros included), summed over the workspace's agents or one agent. */
  async range(workspaceId: string, range: { from: string; to: string; agentId?: string }) {
    const scope = await this.scope(workspaceId, range.agentId);
    const months = monthsBetween(range.from, range.to);
    const filter = scope.agentId ? { agentId: scope.agentId, month: { $in: months } } : { workspaceId: scope.workspaceId, month: { $in: months } };
    const rollups = (await this.models.UsageMonthly.collection.find(filter, { projection: { month: 1, daily: 1 } }).toArray()) as unknown as Pick<UsageMonthlyDocument, 'month' | 'daily'>[];
    const byDay = new Map<string, UsageDay>();
    for (let time = Date.parse(`${range.from}T00:00:00Z`); time <= Date.parse(`${range.to}T00:00:00Z`); time += DAY_MS) {
      const date = dayOf(new Date(time));
      byDay.set(date, { date, requests: 0, tokensInput: 0, tokensOutput: 0, tokens: 0 });
    }
    for (const rollup of rollups) {
      for (const [dayOfMonth, counters] of Object.entries(rollup.daily ?? {})) {
        const row = byDay.get(`${rollup.month}-${dayOfMonth}`);
        if (!row) continue;
        row.requests += counters.requests ?? 0;
        row.tokensInput += counters.tokensInput ?? 0;
        row.tokensOutput += counters.tokensOutput ?? 0;
        row.tokens = row.tokensInput + row.tokensOutput;
      }
    }
    const days = [...byDay.values()];
    const totals = days.reduce((sum, day) => ({ requests: sum.requests + day.requests, tokens: sum.tokens + day.tokens }), { requests: 0, tokens: 0 });
    return { from: range.from, to: range.to, agentId: range.agentId ?? null, days, totals };
  }

  /** Today (UTC) by hour: calls, tokens and the platform's price, from today's events only (index on day). */
  async todayByHour(workspaceId: string, options: { agentId?: string; now?: Date } = {}) {
    const scope = await this.scope(workspaceId, options.agentId);
    const day = dayOf(options.now ?? new Date());
    // Today's 24 hours through the activity hour index (an index lookup per hour, never the whole collection).
    const hour = { $in: hoursOf(day) };
    const match = scope.agentId ? { agentId: scope.agentId, hour } : { workspaceId: scope.workspaceId, hour };
    const groups = await this.models.MeterEvent.collection
      .aggregate<{ _id: number; requests: number; tokens: number; priceMicros: number }>([
        { $match: match },
        {
          $group: {
            _id: { $hour: '$timestamp' },
            requests: { $sum: { $cond: ['$countedAsRequest', 1, 0] } },
            tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } },
            priceMicros: { $sum: '$priceTotalMicros' },
          },
        },
      ])
      .toArray();
    const byHour = new Map(groups.map((group) => [group._id, group]));
    const hours: UsageHour[] = Array.from({ length: 24 }, (_, hour) => {
      const group = byHour.get(hour);
      return { hour: String(hour).padStart(2, '0'), requests: group?.requests ?? 0, tokens: group?.tokens ?? 0, priceUsd: microsToUsd(group?.priceMicros ?? 0) };
    });
    return { date: day, agentId: options.agentId ?? null, hours };
  }
}
