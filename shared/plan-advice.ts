// The plan advice of a managed agent's month (the agent usage answer's `planAdvice`), as the server's plan advisor
// builds it and the web client reads it. Types only: nothing here runs, so both builds drop these imports.

/** Which plan would be cheapest this month at the pace the agent is used, and by how much, in plain words. */
export interface PlanAdvice {
  status: 'not_enough_data' | 'cheapest_already' | 'cheaper_plan' | 'not_managed';
  message: string;
  currentPlan: string | null;
  bestPlan: string | null;
  savingsUsd: number;
  daysOfData: number;
  projectedTokens: number | null;
  /** Each plan's projected cost for the month at this pace. */
  plans: Array<{ plan: string; name: string; projectedCostUsd: number }>;
}
