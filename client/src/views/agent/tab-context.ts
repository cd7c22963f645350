// What every tab of the agent page is drawn from: the workspace, the agent (kept current by setAgent) and the catalog.
import type { Agent, Plan, Provider, Template } from '../../types';

export interface Context {
  workspace: string;
  agent: Agent;
  plans: Plan[];
  providers: Provider[];
  template: Template | undefined;
  setAgent(agent: Agent): void;
  cleanups: Array<() => void>;
  /** experience (#18): open another tab (a health fix), and reload the agent (its health after a refused call). */
  selectTab?(tab: string): void;
  refreshAgent?(): Promise<void>;
}
