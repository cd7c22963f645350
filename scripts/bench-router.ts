// npm run bench:router — the prompt router over the labelled prompt set (bench/router-prompts/): per routing setting,
// the share routed light, agreement with the labels (both error directions), the cost at catalog prices against
// always using the strong model, and the time one decision takes. Writes its section of docs/BENCHMARKS.md.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadCatalog } from '../server/catalog/catalog.service';
import type { ChatMessage } from '../server/llm/llm.types';
import { decideRoute, ROUTING_THRESHOLDS, scorePrompt, type RoutingSetting } from '../server/llm/prompt-router';
import { RoutingStickiness, conversationKey } from '../server/llm/routing-stickiness';
import { TemplateService } from '../agents/template.service';
import { costMicros } from '../server/metering/pricing';
import { writeBenchmarkSection } from './benchmark-report';
import { benchRouterGateway } from './bench-router-gateway';

const ROOT = path.resolve(__dirname, '..');
const DATA = path.join(ROOT, 'bench', 'router-prompts');
const write = !process.argv.includes('--no-write');
const withGateway = !process.argv.includes('--no-gateway');

interface LabelledPrompt {
  template: string;
  label: 'light' | 'strong';
  messages: ChatMessage[];
}

function loadPrompts(directory: string): LabelledPrompt[] {
  const prompts: LabelledPrompt[] = [];
  for (const file of fs.readdirSync(directory).filter((name) => name.endsWith('.jsonl')).sort()) {
    const template = file.replace(/\.jsonl$/, '');
    for (const line of fs.readFileSync(path.join(directory, file), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { l: 'light' | 'strong'; p?: string; m?: ChatMessage[] };
      prompts.push({ template, label: row.l, messages: row.m ?? [{ role: 'user', content: row.p! }] });
    }
  }
  return prompts;
}

// Answer sizes stand for the task, not the model: an easy request gets a short answer, a hard one a long one.
const OUTPUT_TOKENS = { light: 150, strong: 700 } as const;
const estimateTokens = (text: string) => Math.ceil(text.length / 4);

const catalog = loadCatalog();
const templates = new TemplateService(path.join(ROOT, 'templates'));
const systemTokens = new Map<string, number>();
for (const template of templates.list()) {
  const variables = Object.fromEntries(template.variables.map((variable) => [variable.name, variable.default ?? 'Acme']));
  systemTokens.set(template.id, estimateTokens(templates.render(template.id, variables)));
}

/** Model pairs (strong → light) at catalog prices: a BYOK pair and the managed plans' declared light backends. */
const PAIRS: Array<{ name: string; strong: [string, string]; light: [string, string] }> = [
  { name: 'BYOK gpt-4o → gpt-4o-mini', strong: ['openai', 'gpt-4o'], light: ['openai', 'gpt-4o-mini'] },
  ...catalog.plans
    .filter((plan) => plan.lightBackend)
    .map((plan) => ({
      name: `${plan.name} plan ${plan.backends[0]!.model} → ${plan.lightBackend!.model}`,
      strong: [plan.backends[0]!.provider, plan.backends[0]!.model] as [string, string],
      light: [plan.lightBackend!.provider, plan.lightBackend!.model] as [string, string],
    })),
];

function callCost(provider: string, model: string, inputTokens: number, outputTokens: number): number {
  const entry = catalog.findModel(provider, model)!;
  return costMicros(inputTokens, entry.inputUsdPerMillion) + costMicros(outputTokens, entry.outputUsdPerMillion);
}

const prompts = loadPrompts(DATA);
// Written after the weights were tuned and never used to tune them.
const holdout = loadPrompts(path.join(DATA, 'holdout'));
const settings = Object.keys(ROUTING_THRESHOLDS) as Array<Exclude<RoutingSetting, 'off'>>;
const percent = (part: number, whole: number) => (whole === 0 ? '—' : `${((part / whole) * 100).toFixed(1)} %`);

interface SettingResult {
  setting: string;
  light: number;
  agree: number;
  falseLight: number;
  falseStrong: number;
  costByPair: number[];
}

const strongCostByPair = PAIRS.map(() => 0);
const results: SettingResult[] = settings.map((setting) => {
  const result: SettingResult = { setting, light: 0, agree: 0, falseLight: 0, falseStrong: 0, costByPair: PAIRS.map(() => 0) };
  for (const prompt of prompts) {
    // Each request alone (no conversation memory): the score and the setting decide.
    const decision = decideRoute({ messages: prompt.messages, setting });
    const inputTokens = (systemTokens.get(prompt.template) ?? 0) + prompt.messages.reduce((total, message) => total + estimateTokens(message.content), 0);
    const outputTokens = OUTPUT_TOKENS[prompt.label];
    if (decision.tier === 'light') result.light += 1;
    if (decision.tier === prompt.label) result.agree += 1;
    else if (decision.tier === 'light') result.falseLight += 1;
    else result.falseStrong += 1;
    PAIRS.forEach((pair, index) => {
      const [provider, model] = decision.tier === 'light' ? pair.light : pair.strong;
      result.costByPair[index]! += callCost(provider, model, inputTokens, outputTokens);
      if (setting === settings[0]) strongCostByPair[index]! += callCost(pair.strong[0], pair.strong[1], inputTokens, outputTokens);
    });
  }
  return result;
});

// Time per decision: the production decision (features, score, conversation hash, sticky lookup and update) over
// the whole set, warmed up, many rounds; per-call times from process.hrtime.bigint.
function timeDecisions(): { meanNs: number; p50Ns: number; p99Ns: number; maxLastChars: number } {
  const memory = new RoutingStickiness({ maxEntries: 50_000 });
  const samples: number[] = [];
  const run = (record: boolean) => {
    for (const prompt of prompts) {
      const started = process.hrtime.bigint();
      const key = conversationKey('64b7f0c2a1e4d5f6a7b8c9d0', prompt.messages);
      decideRoute({ messages: prompt.messages, setting: 'balanced', conversation: { key, memory } });
      const elapsed = Number(process.hrtime.bigint() - started);
      if (record) samples.push(elapsed);
    }
  };
  for (let round = 0; round < 200; round += 1) run(false);
  for (let round = 0; round < 100; round += 1) {
    memory.clear();
    run(true);
  }
  samples.sort((a, b) => a - b);
  return {
    meanNs: samples.reduce((total, value) => total + value, 0) / samples.length,
    p50Ns: samples[Math.floor(samples.length * 0.5)]!,
    p99Ns: samples[Math.floor(samples.length * 0.99)]!,
    maxLastChars: Math.max(...prompts.map((prompt) => prompt.messages.at(-1)!.content.length)),
  };
}

// A long prompt (a pasted 200 KB log) is scanned head and tail only: its decision costs about what a short one does.
function timeLongPrompt(): number {
  const long: ChatMessage[] = [{ role: 'user', content: `Why does this fail?\n${'at handler (server.js:42:13) ERROR connection reset\n'.repeat(4000)}` }];
  for (let index = 0; index < 2000; index += 1) scorePrompt(long);
  const started = process.hrtime.bigint();
  for (let index = 0; index < 2000; index += 1) decideRoute({ messages: long, setting: 'balanced' });
  return Number(process.hrtime.bigint() - started) / 2000;
}

function agreement(set: LabelledPrompt[], setting: Exclude<RoutingSetting, 'off'>) {
  let light = 0;
  let falseLight = 0;
  let falseStrong = 0;
  for (const prompt of set) {
    const tier = decideRoute({ messages: prompt.messages, setting }).tier;
    if (tier === 'light') light += 1;
    if (tier !== prompt.label) {
      if (tier === 'light') falseLight += 1;
      else falseStrong += 1;
    }
  }
  return { light, falseLight, falseStrong, agree: set.length - falseLight - falseStrong };
}

const timing = timeDecisions();
const longNs = timeLongPrompt();
const labelledLight = prompts.filter((prompt) => prompt.label === 'light').length;
const labelledStrong = prompts.length - labelledLight;

const lines: string[] = [];
lines.push(
  `${prompts.length} labelled prompts (${labelledLight} "a small model is enough", ${labelledStrong} "needs the strong model") from the five templates;`,
  'the set and its labelling rule are in `bench/router-prompts/` (README). Each request is decided alone (no conversation memory).',
  '"Light but labelled strong" is the quality risk (a hard request answered by the small model); "strong but labelled light" is missed savings.',
  '',
  '| setting | threshold | routed light | agreement | light but labelled strong | strong but labelled light |',
  '|---|---|---|---|---|---|',
);
for (const result of results) {
  lines.push(
    `| ${result.setting} | score < ${ROUTING_THRESHOLDS[result.setting as keyof typeof ROUTING_THRESHOLDS]} | ${percent(result.light, prompts.length)} | ${percent(result.agree, prompts.length)} | ${result.falseLight} (${percent(result.falseLight, labelledStrong)} of strong) | ${result.falseStrong} (${percent(result.falseStrong, labelledLight)} of light) |`,
  );
}
const holdoutLight = holdout.filter((prompt) => prompt.label === 'light').length;
lines.push(
  '',
  `Held-out prompts (${holdout.length}: ${holdoutLight} light, ${holdout.length - holdoutLight} strong; \`bench/router-prompts/holdout/\`, written after the weights were tuned, never used to tune them):`,
  '',
  '| setting | routed light | agreement | light but labelled strong | strong but labelled light |',
  '|---|---|---|---|---|',
);
for (const setting of settings) {
  const result = agreement(holdout, setting);
  lines.push(`| ${setting} | ${percent(result.light, holdout.length)} | ${percent(result.agree, holdout.length)} | ${result.falseLight} | ${result.falseStrong} |`);
}
lines.push(
  '',
  `Cost of the whole set at catalog prices against always using the strong model (input: the template's system prompt + the messages at 4 characters a token; output: ${OUTPUT_TOKENS.light} tokens for a "light" request, ${OUTPUT_TOKENS.strong} for a "strong" one, whichever model answers):`,
  '',
  `| model pair | always strong | ${settings.join(' | ')} |`,
  `|---|---|${settings.map(() => '---').join('|')}|`,
);
PAIRS.forEach((pair, index) => {
  const strong = strongCostByPair[index]!;
  const cells = results.map((result) => `$${(result.costByPair[index]! / 1e6).toFixed(4)} (−${(100 - (result.costByPair[index]! / strong) * 100).toFixed(1)} %)`);
  lines.push(`| ${pair.name} | $${(strong / 1e6).toFixed(4)} | ${cells.join(' | ')} |`);
});
lines.push(
  '',
  `Time per decision (features, score, conversation hash, sticky lookup and update; ${prompts.length} prompts × 100 rounds after 200 warm-up rounds, balanced): ` +
    `mean ${(timing.meanNs / 1000).toFixed(1)} µs, p50 ${(timing.p50Ns / 1000).toFixed(1)} µs, p99 ${(timing.p99Ns / 1000).toFixed(1)} µs (target < 50 µs). ` +
    `A 200 KB pasted log (scanned head and tail only): ${(longNs / 1000).toFixed(1)} µs. No tokenizer, no network, no weights. ` +
    `Load average during the run: ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')} (1/5/15 min) on ${os.cpus().length} cores — a shared machine inflates these times.`,
);

async function main(): Promise<void> {
  if (withGateway) {
    const gateway = await benchRouterGateway({ rounds: 6, roundSeconds: 6, concurrency: 10 });
    const change = ((gateway.medianOn - gateway.medianOff) / gateway.medianOff) * 100;
    lines.push(
      '',
      `Gateway with routing on vs off (target: CPU per call within 5 %): one Agent Host process (from source through tsx, built-in store and the fake provider in their own processes), two BYOK agents on the fake provider — one without routing, one with a light model and \`balanced\` — each loaded with the same FAQ question at c${gateway.concurrency} for ${gateway.roundSeconds} s per round, in alternating order, CPU time of the server process per answered call:`,
      '',
      '| round | routing | calls | CPU per call | req/s |',
      '|---|---|---|---|---|',
      ...gateway.rounds.map((round, index) => `| ${Math.floor(index / 2) + 1} | ${round.routing} | ${round.calls} | ${round.cpuMsPerCall.toFixed(3)} ms | ${round.requestsPerSecond.toFixed(0)} |`),
      '',
      `Median CPU per call: off ${gateway.medianOff.toFixed(3)} ms, on ${gateway.medianOn.toFixed(3)} ms (${change >= 0 ? '+' : ''}${change.toFixed(1)} %); median of the per-round ratios (on ÷ the off case beside it): ${gateway.medianPairChange >= 0 ? '+' : ''}${(gateway.medianPairChange * 100).toFixed(1)} %. Load average at the end: ${os.loadavg().map((value) => value.toFixed(1)).join(' / ')} on ${os.cpus().length} cores (other work on the machine moves single rounds by tens of percent; compare the medians).`,
      '',
      `The decision's own cost bounds what routing can add: its mean time above (${(timing.meanNs / 1000).toFixed(1)} µs, p50 ${(timing.p50Ns / 1000).toFixed(1)} µs) is ` +
        `${((timing.meanNs / 1e6 / gateway.medianOff) * 100).toFixed(2)} % (p50: ${((timing.p50Ns / 1e6 / gateway.medianOff) * 100).toFixed(2)} %) of the CPU per call with routing off; ` +
        'the rest of a routed call is the same path (one more Map lookup for the light target, the header).',
    );
  }
  const body = lines.join('\n');
  console.log(body);
  if (write) writeBenchmarkSection('router', 'npm run bench:router', body);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
