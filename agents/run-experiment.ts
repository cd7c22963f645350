// The runner's experiment hook: a call to an agent with a running experiment is assigned a variant
// (experiment-assignment.ts) and runs with that variant's LLM setting, temperature or template variables; its meter
// events carry `experiment: {id, variant}`, and a failed call counts against its variant.
import type { AgentDocument, AgentLlmRecord } from './agent.model';
import type { AssignmentUnit, ExperimentVariant } from './experiment.model';
import { assignmentPoint, assignmentUnitValue, pickVariant } from './experiment-assignment';

export interface RunningExperiment {
  id: string;
  assignBy: AssignmentUnit;
  variants: ExperimentVariant[];
}

/** What the runner needs from the experiments (agents/experiment.service.ts). */
export interface ExperimentAssigner {
  runningFor(agent: Pick<AgentDocument, '_id'>): Promise<RunningExperiment | undefined>;
  recordFailure(experimentId: string, variant: string): void;
}

interface AssignableInput {
  agent: AgentDocument;
  requestId: string;
  endUser?: string;
  metadata?: Record<string, string>;
  messages: ReadonlyArray<{ role: string; content?: unknown }>;
  temperature?: number;
  experiment?: { id: string; variant: string };
  pinned?: boolean;
}

/** The agent as the variant runs it: its LLM setting (a BYOK variant keeps the agent's own key) and variables. */
export function applyVariant(agent: AgentDocument, variant: ExperimentVariant): AgentDocument {
  let llm: AgentLlmRecord = agent.llm;
  if (variant.llm?.mode === 'managed') {
    llm = { mode: 'managed', plan: variant.llm.plan, provider: null, model: null, baseUrl: null, sealedKey: null, keyMask: null, keyStatus: null, keyCheckedAt: null };
  } else if (variant.llm?.mode === 'byok') {
    llm = { ...agent.llm, mode: 'byok', model: variant.llm.model };
  }
  return { ...agent, llm, variables: variant.variables ? { ...agent.variables, ...variant.variables } : agent.variables };
}

export class RunExperiments {
  constructor(private readonly assigner: ExperimentAssigner | undefined) {}

  async assign<Input extends AssignableInput>(input: Input): Promise<Input> {
    if (!this.assigner || input.experiment || input.pinned) return input;
    const experiment = await this.assigner.runningFor(input.agent);
    if (!experiment || experiment.variants.length === 0) return input;
    const variant = pickVariant(experiment.variants, assignmentPoint(experiment.id, assignmentUnitValue(experiment.assignBy, input)));
    return {
      ...input,
      agent: applyVariant(input.agent, variant),
      temperature: variant.temperature ?? input.temperature,
      experiment: { id: experiment.id, variant: variant.key },
    };
  }

  failed(input: { experiment?: { id: string; variant: string } }): void {
    if (input.experiment) this.assigner?.recordFailure(input.experiment.id, input.experiment.variant);
  }

  /** Runs a step of the call; a failure counts against the call's variant. */
  async observe<Result>(input: { experiment?: { id: string; variant: string } }, step: () => Promise<Result>): Promise<Result> {
    try {
      return await step();
    } catch (error) {
      this.failed(input);
      throw error;
    }
  }
}
