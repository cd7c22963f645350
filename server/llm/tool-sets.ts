// Tool definitions reused across calls (#20): an agent's client sends the same tools with every request, so the set
// a request offers is checked once per distinct set (by its JSON text) and shared, frozen, by every later request
// that offers it; what is derived from a set (its token counts, each wire's tool list) is then computed once per set.
// Only a frozen set is ever cached against: nothing can change it after its derived values were computed.
import type { ToolDefinition } from './llm.types';

const MAX_TOOL_SETS = 1_000;
const checkedSets = new Map<string, ToolDefinition[]>();

/** `value` and everything in it, frozen (a value shared by concurrent calls). */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  for (const child of Object.values(value)) deepFreeze(child);
  return Object.freeze(value);
}

/**
 * The checked, frozen tool set for a request's tools given by their JSON text: `check` runs for a set not seen
 * before (it throws to refuse the request; a refused set is not remembered). Bounded: cleared when full.
 */
export function checkedToolSet(text: string, check: () => ToolDefinition[]): ToolDefinition[] {
  const known = checkedSets.get(text);
  if (known) return known;
  const tools = deepFreeze(check());
  if (checkedSets.size >= MAX_TOOL_SETS) checkedSets.clear();
  checkedSets.set(text, tools);
  return tools;
}

/** `derive` for a tool set, computed once per frozen set (an unfrozen one, e.g. built by a test or the simulator, every time). */
export function perToolSet<T>(derive: (tools: readonly ToolDefinition[]) => T): (tools: readonly ToolDefinition[]) => T {
  const derived = new WeakMap<readonly ToolDefinition[], T>();
  return (tools) => {
    if (!Object.isFrozen(tools)) return derive(tools);
    if (derived.has(tools)) return derived.get(tools)!;
    const value = derive(tools);
    derived.set(tools, value);
    return value;
  };
}
