// A/B experiments of one agent: create (validated variants and split), start / pause / stop (one running per agent),
// per-variant results from the meter events and feedback, the statistical verdict, and promotion of the winner
// through the agent service's own methods (so the LLM change is audited and recorded like any other).
import { Types, type Model } from 'mongoose';
import type { Catalog } from '../server/catalog/catalog.service';
import { isDuplicateKeyError, OBJECT_ID_PATTERN } from '../server/db/driver-errors';
import { DomainError, invalidInput, notFound } from '../server/errors/domain-error';
import type { MeterEventDocument } from '../server/metering/metering.models';
import type { AgentDocument } from './agent.model';
import type { Actor, AgentService } from './agent.service';
import type { ExperimentDocument, ExperimentVariant, FeedbackDocument } from './experiment.model';
import type { CreateExperimentInput } from './experiment.schemas';
import { compareVariants, minimumSampleSize, MIN_CALLS_PER_VARIANT, percentile, type VariantSamples } from './experiment-statistics';
import type { TemplateService } from './template.service';
import { assertVariantUsable } from './variant-setting';
import type { ExperimentAssigner, RunningExperiment } from './run-experiment';

const VARIANT_KEYS = ['A', 'B', 'C', 'D', 'E'];
const RUNNING_CACHE_MS = 2_000;
const RUNNING_LOOKUP_TIMEOUT_MS = 1_000;
/** Per variant, the newest events the tests read (older ones still count in the totals). */
const MAX_SAMPLES_PER_VARIANT = 20_000;

export interface ExperimentDependencies {
  Experiment: Model<ExperimentDocument>;
  Feedback: Model<FeedbackDocument>;
  MeterEvent: Model<MeterEventDocument>;
  agents: AgentService;
  catalog: Catalog;
  templates: TemplateService;
  /** Writes queued meter events now (feedback right after an answer may arrive before its event is written). */
  drainMeter(timeoutMs: number): Promise<boolean>;
}

export class ExperimentService implements ExperimentAssigner {
  private readonly runningCache = new Map<string, { at: number; experiment: RunningExperiment | undefined }>();
  private readonly refreshing = new Map<string, Promise<RunningExperiment | undefined>>();

  constructor(private readonly dependencies: ExperimentDependencies) {}

  private toPublic(experiment: ExperimentDocument) {
    return {
      id: experiment._id.toString(),
      agentId: experiment.agentId.toString(),
      name: experiment.name,
      status: experiment.status,
      assignBy: experiment.assignBy,
      variants: experiment.variants.map((variant) => ({
        key: variant.key,
        name: variant.name,
        weight: variant.weight,
        llm: variant.llm ?? null,
        temperature: variant.temperature ?? null,
        variables: variant.variables ?? null,
      })),
      startedAt: experiment.startedAt?.toISOString() ?? null,
      stoppedAt: experiment.stoppedAt?.toISOString() ?? null,
      promotedVariant: experiment.promotedVariant,
      createdAt: experiment.createdAt.toISOString(),
    };
  }

  private assertUsable(agent: AgentDocument, llm: ExperimentVariant['llm'], label: string): void {
    assertVariantUsable(this.dependencies.catalog, agent, llm, label);
  }

  async create(workspaceId: string, agentId: string, input: CreateExperimentInput) {
    const agent = await this.dependencies.agents.getRecord(workspaceId, agentId);
    const total = input.variants.reduce((sum, variant) => sum + variant.weight, 0);
    if (total !== 100) throw invalidInput('EXPERIMENT_SPLIT_INVALID', `The traffic split must add up to 100 % (it adds up to ${total} %).`, { total });
    const variants: ExperimentVariant[] = input.variants.map((variant, index) => {
      const key = VARIANT_KEYS[index]!;
      const label = `Variant ${key}`;
      this.assertUsable(agent, variant.llm, label);
      if (variant.variables) this.dependencies.templates.resolveVariables(agent.templateId, { ...agent.variables, ...variant.variables });
      return {
        key,
        name: variant.name ?? (index === 0 ? 'A (current)' : key),
        weight: variant.weight,
        llm: variant.llm ?? null,
        temperature: variant.temperature ?? null,
        variables: variant.variables ?? null,
      };
    });
    const created = await this.dependencies.Experiment.create({
      workspaceId: agent.workspaceId,
      agentId: agent._id,
      name: input.name,
      status: 'draft',
      running: false,
      assignBy: input.assignBy,
      variants,
      failures: {},
      startedAt: null,
      stoppedAt: null,
      promotedVariant: null,
    });
    return this.toPublic(created.toObject() as ExperimentDocument);
  }

  private async load(workspaceId: string, agentId: string, experimentId: string): Promise<ExperimentDocument> {
    if (!OBJECT_ID_PATTERN.test(experimentId) || !OBJECT_ID_PATTERN.test(agentId)) throw notFound('Experiment');
    const experiment = await this.dependencies.Experiment.findOne({
      _id: new Types.ObjectId(experimentId),
      agentId: new Types.ObjectId(agentId),
      workspaceId: new Types.ObjectId(workspaceId),
    }).lean<ExperimentDocument>();
    if (!experiment) throw notFound('Experiment');
    return experiment;
  }

  async list(workspaceId: string, agentId: string) {
    const agent = await this.dependencies.agents.getRecord(workspaceId, agentId);
    const experiments = await this.dependencies.Experiment.find({ agentId: agent._id, workspaceId: agent.workspaceId }).sort({ createdAt: -1 }).limit(100).lean<ExperimentDocument[]>();
    return experiments.map((experiment) => this.toPublic(experiment));
  }

  async get(workspaceId: string, agentId: string, experimentId: string) {
    return this.toPublic(await this.load(workspaceId, agentId, experimentId));
  }

  async act(workspaceId: string, agentId: string, experimentId: string, action: 'start' | 'pause' | 'stop') {
    const experiment = await this.load(workspaceId, agentId, experimentId);
    const allowed: Record<typeof action, ExperimentDocument['status'][]> = { start: ['draft', 'paused'], pause: ['running'], stop: ['draft', 'running', 'paused'] };
    if (!allowed[action].includes(experiment.status)) {
      throw new DomainError('EXPERIMENT_STATE', `This experiment is ${experiment.status}; it cannot ${action} now.`, { details: { status: experiment.status } });
    }
    const now = new Date();
    const set =
      action === 'start'
        ? { status: 'running', running: true, ...(experiment.startedAt ? {} : { startedAt: now }) }
        : action === 'pause'
          ? { status: 'paused', running: false }
          : { status: 'stopped', running: false, stoppedAt: now };
    let updated: ExperimentDocument | null;
    try {
      updated = await this.dependencies.Experiment.findOneAndUpdate({ _id: experiment._id, status: experiment.status }, { $set: set }, { new: true }).lean<ExperimentDocument>();
    } catch (error) {
      if (isDuplicateKeyError(error)) throw new DomainError('EXPERIMENT_ALREADY_RUNNING', 'Another experiment is already running on this agent. Pause or stop it first.');
      throw error;
    }
    if (!updated) throw new DomainError('EXPERIMENT_STATE', 'This experiment changed meanwhile; reload it and try again.');
    this.runningCache.delete(experiment.agentId.toString());
    return this.toPublic(updated);
  }

  // ---- the runner's side (ExperimentAssigner) ----

  /**
   * The agent's running experiment, read at most every 2 s per agent and never on a call's critical path once known:
   * a stale value is answered at once while one refresh runs behind it, so a slow or unreachable database does not
   * hold calls up (the agent's first call waits for the read, at most RUNNING_LOOKUP_TIMEOUT_MS).
   */
  async runningFor(agent: Pick<AgentDocument, '_id'>): Promise<RunningExperiment | undefined> {
    const agentId = agent._id.toString();
    const cached = this.runningCache.get(agentId);
    if (cached && Date.now() - cached.at < RUNNING_CACHE_MS) return cached.experiment;
    const refresh = this.refreshRunning(agentId, agent._id);
    if (cached) return cached.experiment;
    return Promise.race([refresh, new Promise<undefined>((resolve) => setTimeout(resolve, RUNNING_LOOKUP_TIMEOUT_MS))]);
  }

  private refreshRunning(agentId: string, id: AgentDocument['_id']): Promise<RunningExperiment | undefined> {
    let refreshing = this.refreshing.get(agentId);
    if (!refreshing) {
      refreshing = this.dependencies.Experiment.findOne({ agentId: id, running: true }, { assignBy: 1, variants: 1 })
        .lean<ExperimentDocument>()
        .then((found) => {
          const experiment = found ? { id: found._id.toString(), assignBy: found.assignBy, variants: found.variants } : undefined;
          if (this.runningCache.size > 10_000) this.runningCache.clear();
          this.runningCache.set(agentId, { at: Date.now(), experiment });
          return experiment;
        })
        .catch(() => this.runningCache.get(agentId)?.experiment)
        .finally(() => this.refreshing.delete(agentId));
      this.refreshing.set(agentId, refreshing);
    }
    return refreshing;
  }

  recordFailure(experimentId: string, variant: string): void {
    if (!/^[A-E]$/.test(variant) || !OBJECT_ID_PATTERN.test(experimentId)) return;
    this.dependencies.Experiment.updateOne({ _id: new Types.ObjectId(experimentId) }, { $inc: { [`failures.${variant}`]: 1 } }).catch(() => undefined);
  }

  // ---- results ----

  async results(workspaceId: string, agentId: string, experimentId: string) {
    const experiment = await this.load(workspaceId, agentId, experimentId);
    const id = experiment._id.toString();
    const samples = new Map<string, VariantSamples & { tokens: number; priceMicros: number; costMicros: number; cacheHits: number }>();
    for (const variant of experiment.variants) {
      samples.set(variant.key, {
        key: variant.key,
        name: variant.name,
        calls: 0,
        errors: experiment.failures?.[variant.key] ?? 0,
        ratingsUp: 0,
        ratingsDown: 0,
        latencies: [],
        costs: [],
        tokens: 0,
        priceMicros: 0,
        costMicros: 0,
        cacheHits: 0,
      });
    }
    const totals = await this.dependencies.MeterEvent.aggregate<{ _id: string; calls: number; tokens: number; price: number; cost: number; hits: number }>([
      { $match: { 'experiment.id': id, workspaceId: experiment.workspaceId } },
      {
        $group: {
          _id: '$experiment.variant',
          calls: { $sum: { $cond: ['$countedAsRequest', 1, 0] } },
          tokens: { $sum: { $add: ['$tokensInput', '$tokensOutput'] } },
          price: { $sum: '$priceTotalMicros' },
          cost: { $sum: '$costTotalMicros' },
          hits: { $sum: { $cond: [{ $eq: ['$cacheHit', true] }, 1, 0] } },
        },
      },
    ]);
    for (const row of totals) {
      const entry = samples.get(row._id);
      if (!entry) continue;
      Object.assign(entry, { calls: row.calls, tokens: row.tokens, priceMicros: row.price, costMicros: row.cost, cacheHits: row.hits });
    }
    // What a call costs the customer: a plan's price, or the own key's provider cost; a plan's platform cost is neither
    // compared nor sent (#18). A variant without an LLM setting runs on the agent's.
    const agentMode = (await this.dependencies.agents.getRecord(workspaceId, agentId)).llm.mode;
    const ownKey = (key: string) => (experiment.variants.find((variant) => variant.key === key)?.llm?.mode ?? agentMode) === 'byok';
    for (const entry of samples.values()) {
      const events = await this.dependencies.MeterEvent.find(
        { 'experiment.id': id, 'experiment.variant': entry.key, workspaceId: experiment.workspaceId, countedAsRequest: true },
        { latencyMs: 1, costTotalMicros: 1, priceTotalMicros: 1 },
      )
        .sort({ timestamp: -1 })
        .limit(MAX_SAMPLES_PER_VARIANT)
        .lean<Array<Pick<MeterEventDocument, 'latencyMs' | 'costTotalMicros' | 'priceTotalMicros'>>>();
      entry.latencies = events.map((event) => event.latencyMs);
      entry.costs = events.map((event) => (ownKey(entry.key) ? event.costTotalMicros : event.priceTotalMicros ?? 0));
    }
    const ratings = await this.dependencies.Feedback.aggregate<{ _id: { variant: string; rating: string }; count: number }>([
      { $match: { 'experiment.id': id, workspaceId: experiment.workspaceId } },
      { $group: { _id: { variant: '$experiment.variant', rating: '$rating' }, count: { $sum: 1 } } },
    ]);
    for (const row of ratings) {
      const entry = samples.get(row._id.variant);
      if (!entry) continue;
      if (row._id.rating === 'up') entry.ratingsUp = row.count;
      else entry.ratingsDown = row.count;
    }
    const variants = [...samples.values()];
    const totalRatings = variants.reduce((sum, entry) => sum + entry.ratingsUp + entry.ratingsDown, 0);
    const baselineUpRate = totalRatings > 0 ? variants.reduce((sum, entry) => sum + entry.ratingsUp, 0) / totalRatings : 0.5;
    const [baseline, ...others] = variants;
    const comparisons = others.map((other) => compareVariants(baseline!, other));
    return {
      experiment: this.toPublic(experiment),
      variants: variants.map((entry) => ({
        key: entry.key,
        name: entry.name,
        calls: entry.calls,
        tokens: entry.tokens,
        priceMicros: entry.priceMicros,
        ...(ownKey(entry.key) ? { costMicros: entry.costMicros } : {}),
        cacheHits: entry.cacheHits,
        latencyP50Ms: Math.round(percentile(entry.latencies, 0.5)),
        latencyP95Ms: Math.round(percentile(entry.latencies, 0.95)),
        errors: entry.errors,
        errorRate: entry.calls + entry.errors > 0 ? entry.errors / (entry.calls + entry.errors) : 0,
        ratingsUp: entry.ratingsUp,
        ratingsDown: entry.ratingsDown,
        feedbackRate: entry.calls > 0 ? (entry.ratingsUp + entry.ratingsDown) / entry.calls : 0,
        thumbsUpRate: entry.ratingsUp + entry.ratingsDown > 0 ? entry.ratingsUp / (entry.ratingsUp + entry.ratingsDown) : null,
      })),
      minimumSample: { callsPerVariant: MIN_CALLS_PER_VARIANT, ratingsPerVariant: minimumSampleSize(baselineUpRate) },
      comparisons,
      verdict: comparisons.map((comparison) => comparison.verdict).join(' '),
    };
  }

  /** Makes a variant the agent's setting (LLM setting and template variables, through the agent service), then stops. */
  async promote(workspaceId: string, agentId: string, experimentId: string, variantKey: string, actor: Actor) {
    const experiment = await this.load(workspaceId, agentId, experimentId);
    const variant = experiment.variants.find((candidate) => candidate.key === variantKey);
    if (!variant) throw invalidInput('EXPERIMENT_VARIANT_UNKNOWN', `This experiment has no variant "${variantKey}".`);
    if (experiment.promotedVariant) throw new DomainError('EXPERIMENT_STATE', `Variant ${experiment.promotedVariant} was already promoted.`);
    const agent = await this.dependencies.agents.getRecord(workspaceId, agentId);
    this.assertUsable(agent, variant.llm, `Variant ${variant.key}`);
    const applied: string[] = [];
    if (variant.llm) {
      const llm = variant.llm.mode === 'managed' ? variant.llm : { mode: 'byok' as const, provider: variant.llm.provider as AgentDocument['llm']['provider'] & string, model: variant.llm.model, baseUrl: agent.llm.baseUrl ?? null };
      await this.dependencies.agents.setLlm(workspaceId, agentId, actor, llm as Parameters<AgentService['setLlm']>[3]);
      applied.push('llm');
    }
    if (variant.variables) {
      await this.dependencies.agents.patch(workspaceId, agentId, actor, { variables: { ...agent.variables, ...variant.variables } });
      applied.push('variables');
    }
    const updated = await this.dependencies.Experiment.findOneAndUpdate(
      { _id: experiment._id },
      { $set: { status: 'stopped', running: false, stoppedAt: experiment.stoppedAt ?? new Date(), promotedVariant: variant.key } },
      { new: true },
    ).lean<ExperimentDocument>();
    this.runningCache.delete(agentId);
    const note =
      variant.temperature != null
        ? 'Temperature is chosen by each request, so it is not part of the agent setting: send it with your calls.'
        : undefined;
    return { experiment: this.toPublic(updated!), applied, ...(note ? { note } : {}), agent: await this.dependencies.agents.get(workspaceId, agentId) };
  }

  // ---- feedback ----

  /** Thumbs up / down on one answer, by its request id; another workspace's request is not found. */
  async feedback(workspaceId: string, requestId: string, rating: 'up' | 'down') {
    const find = () =>
      this.dependencies.MeterEvent.findOne({ requestId, workspaceId: new Types.ObjectId(workspaceId) }, { agentId: 1, experiment: 1 }).lean<Pick<MeterEventDocument, 'agentId' | 'experiment'>>();
    let event = await find();
    if (!event && (await this.dependencies.drainMeter(5_000))) event = await find();
    if (!event) throw notFound('Request');
    const now = new Date();
    await this.dependencies.Feedback.updateOne(
      { requestId },
      {
        $set: { rating, updatedAt: now },
        $setOnInsert: { workspaceId: new Types.ObjectId(workspaceId), agentId: event.agentId, experiment: event.experiment ?? null, createdAt: now },
      },
      { upsert: true },
    );
    return { requestId, rating, experiment: event.experiment ?? null };
  }
}
