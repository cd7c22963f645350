// The local prompt router: scores how hard a conversation's next answer is from its text alone (length, code, math,
// multi-step instructions, analysis, long-form writing, tools requested) and picks the light or the strong model for
// a routing setting. Pure: no network, no model weights, no tokenizer — a few bounded regular-expression scans.
import type { ChatMessage } from './llm.types';

export const ROUTING_SETTINGS = ['off', 'quality', 'balanced', 'savings'] as const;
export type RoutingSetting = (typeof ROUTING_SETTINGS)[number];
export type RoutingTier = 'light' | 'strong';

/**
 * A conversation is answered by the light model when its score is below the setting's threshold. Quality first only
 * sends clearly easy requests light; maximum savings sends everything but clearly hard ones. Tuned on the labelled
 * prompt set (`npm run bench:router`, docs/BENCHMARKS.md).
 */
export const ROUTING_THRESHOLDS: Readonly<Record<Exclude<RoutingSetting, 'off'>, number>> = {
  quality: 0.16,
  balanced: 0.24,
  savings: 0.34,
};

/** What the router reads besides the messages; each is a plain flag so new request shapes add one line here. */
export interface PromptExtras {
  /** The request offers tools (function calling) to the model. */
  toolsRequested?: boolean;
  /** The request carries non-text content parts (images, audio, files). */
  nonTextParts?: boolean;
}

export interface PromptFeatures {
  /** Characters of the last user message and of the whole conversation (system prompt excluded). */
  lastChars: number;
  totalChars: number;
  turns: number;
  code: boolean;
  codeTask: boolean;
  math: boolean;
  listItems: number;
  stepByStep: boolean;
  questions: number;
  analysisTerms: number;
  longForm: boolean;
  tasks: number;
  commas: number;
  numbers: number;
  constraints: number;
  simple: boolean;
  /** Code earlier in the conversation (a technical thread stays technical). */
  codeEarlier: boolean;
  toolsRequested: boolean;
  nonTextParts: boolean;
}

export interface PromptScore {
  /** 0 (trivial) .. 1 (needs the strongest model). */
  score: number;
  /** The feature that contributed most, or `simple` / `short`. */
  reason: string;
  features: PromptFeatures;
}

// Only this much of one message is scanned (its head and its tail): the cost per decision stays bounded for any size.
const SCAN_HEAD = 2000;
const SCAN_TAIL = 600;

// The vocabulary: one pass over the words of the message looks each word (and the two-word and three-word phrases
// ending at it) up in one map. No regular expression runs over the text, so a decision costs a few microseconds.
const enum Cue {
  Analysis = 1,
  Math,
  CodeWord,
  CodeVerb,
  CodeNoun,
  CodeProblem,
  WritingVerb,
  LongFormNoun,
  Task,
  Constraint,
  Simple,
  SimpleOpener,
  Step,
  First,
  Then,
  Words,
}

const CUES = new Map<string, Cue>();
/** First words of the two- and three-word cues, and first pairs of the three-word ones: phrases are looked up only after them. */
const PHRASE_HEADS = new Set<string>();
const TRIPLE_HEADS = new Set<string>();
const cue = (kind: Cue, words: string) => {
  for (const word of words.split('|')) {
    CUES.set(word, kind);
    const parts = word.split(' ');
    if (parts.length >= 2) PHRASE_HEADS.add(parts[0]!);
    if (parts.length === 3) TRIPLE_HEADS.add(`${parts[0]} ${parts[1]}`);
  }
};
cue(Cue.Analysis, 'analyse|analyze|analysis|compare|comparison|contrast|evaluate|assess|tradeoffs|trade-offs|trade-off|pros and cons|strategy|strategic|strategies|architecture|design|designing|critique|in-depth|in depth|thorough|thoroughly|comprehensive|detailed|investigate|implications|implication|root cause|recommend|recommendation|recommendations|forecast|risks|risk|hypotheses|hypothesis|methodology|methodologies|literature|sources|evidence|nuanced|justify|argue|arguments|framework|roadmap|rigorous|critical|critically|causal|causality|competing|explanations|scenarios|studies|stakeholders|due-diligence|due diligence|consensus|counterarguments|lessons|positioning');
cue(Cue.Math, 'prove|proof|derive|derivation|integral|derivative|equation|probability|probabilities|expected value|variance|regression|eigenvalue|eigenvector|matrix|theorem|compound interest|npv|irr|statistically|significant|break-even|calculation|calculate|compute');
cue(Cue.CodeWord, 'function|def|class|const|let|var|import|return|public|static|async|await|select|insert|traceback|exception|stack trace|segfault|typeerror|nullpointerexception|compiler|regex|sql|api|json|yaml|docker|dockerfile|kubernetes|graphql|endpoint|middleware|react|node|python|typescript|javascript|rust|golang|java|django|fastapi|express|postgres|postgresql|redis|mongodb|git');
cue(Cue.CodeVerb, 'write|implement|refactor|debug|fix|optimise|optimize|review|port|migrate|convert|rewrite|test|profile|add|set up|build');
cue(Cue.CodeNoun, 'code|function|method|class|script|query|tests|test|endpoint|api|regex|component|module|hook|schema|migration|pipeline|algorithm|service|library|parser|workflow|dockerfile|cache|bug');
cue(Cue.CodeProblem, 'race condition|memory leak|deadlock|big-o|complexity|concurrency|concurrent|thread-safe|recursion|recursive|n+1|oomkilled|leak|locking|thread');
cue(Cue.WritingVerb, 'write|draft|create|produce|plan|turn|rewrite');
cue(Cue.LongFormNoun, 'blog post|blog posts|article|articles|essay|newsletter|whitepaper|white paper|case study|press release|landing page|long-form|chapter|speech|script|sales page|content calendar|guide|sequence|series|brief|framework|macro|page|campaign|report');
cue(Cue.Task, 'explain how|explain why|explain what|explain the|explain each|work out|figure out|break down|diagnose|estimate|outline|walk me through|what could|what should|what are my options|what are the options|which one|which plan|which policy|which combination|which option|how should|show the calculation|show the working|in what order|in which order|handle it|handle all|handle each|handle everything|handling everything|propose|proposes|design a|design the|design an|set up|plan for|separate|separating|synthesise|synthesize|summarise the key|summarize the key|summarise the main|what happened|step-by-step|in order|options are');
cue(Cue.Constraint, 'must|should|without|ensure|exactly|at least|at most|no more than|make sure|do not|don\'t|avoid|include|keep it|never|consistent');
cue(Cue.Simple, 'opening hours|open on|what time|where is|where are|phone number|address|how much is|how much does|do you ship|do you deliver|do you accept|do you offer|do you have|do you sell|do you do|can i pay|can i return|can i cancel|can i change|can i bring|can i buy|can i book|what is your|is there parking|track my order|reset my password|are you open|what does|what is the|what\'s the|how do i');
cue(Cue.SimpleOpener, 'hi|hello|hey|thanks|thank|ok|okay|yes|no|sure|great|cool|perfect|good morning|good afternoon|good evening');
cue(Cue.Step, 'step by step|step-by-step');
cue(Cue.First, 'first|firstly');
cue(Cue.Then, 'then|next|finally|afterwards|secondly');
cue(Cue.Words, 'words|word');

/** The part of a message the router reads: all of a short one, the head and tail of a long one. */
function scanned(text: string): string {
  return text.length <= SCAN_HEAD + SCAN_TAIL ? text : `${text.slice(0, SCAN_HEAD)}\n${text.slice(-SCAN_TAIL)}`;
}

const isWordChar = (code: number) =>
  (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 39 || code === 45 || code === 43 || code > 191;
const isDigit = (code: number) => code >= 48 && code <= 57;

interface WordScan {
  analysis: number;
  math: boolean;
  codeWords: number;
  codeTask: boolean;
  codeProblem: boolean;
  longForm: boolean;
  tasks: number;
  constraints: number;
  simple: boolean;
  step: boolean;
  listItems: number;
  questions: number;
  commas: number;
  numbers: number;
  symbols: number;
  arithmetic: boolean;
  fence: boolean;
}

/** One pass over the (lower-cased) text: words and phrases against the vocabulary, punctuation and line starts. */
function scanWords(text: string): WordScan {
  const result: WordScan = {
    analysis: 0, math: false, codeWords: 0, codeTask: false, codeProblem: false, longForm: false, tasks: 0, constraints: 0,
    simple: false, step: false, listItems: 0, questions: 0, commas: 0, numbers: 0, symbols: 0, arithmetic: false, fence: false,
  };
  let previous = '';
  let previousIsHead = false;
  /** The last two words when they begin a three-word cue, else ''. */
  let pairIsTripleHead = '';
  let wordIndex = 0;
  let codeVerbAt = -100;
  let writingVerbAt = -100;
  let firstAt = -100;
  let lastNumberAt = -100;
  let lineStart = true;
  let start = -1;
  const countCue = (kind: Cue | undefined) => {
    switch (kind) {
      case Cue.Analysis: result.analysis += 1; break;
      case Cue.Math: result.math = true; break;
      case Cue.CodeWord: result.codeWords += 1; break;
      case Cue.CodeProblem: result.codeProblem = true; break;
      case Cue.Task: result.tasks += 1; break;
      case Cue.Constraint: result.constraints += 1; break;
      case Cue.Simple: result.simple = true; break;
      case Cue.Step: result.step = true; break;
      case Cue.LongFormNoun: if (wordIndex - writingVerbAt <= 10) result.longForm = true; break;
      case Cue.Words: if (wordIndex - lastNumberAt <= 1) result.longForm = true; break;
      default: break;
    }
  };
  const endWord = (word: string) => {
    const kind = CUES.get(word);
    if (wordIndex === 0 && kind === Cue.SimpleOpener) result.simple = true;
    if (kind === Cue.CodeVerb || kind === Cue.WritingVerb) {
      if (CUES.get(word) === Cue.CodeVerb || word === 'write' || word === 'rewrite') codeVerbAt = wordIndex;
      if (word === 'write' || word === 'draft' || word === 'create' || word === 'produce' || word === 'plan' || word === 'turn' || word === 'rewrite') writingVerbAt = wordIndex;
    }
    if (kind === Cue.CodeNoun) {
      if (wordIndex - codeVerbAt <= 8) result.codeTask = true;
      if (word === 'regex' || word === 'api' || word === 'endpoint' || word === 'dockerfile') result.codeWords += 1;
    } else countCue(kind);
    if (kind === Cue.First) firstAt = wordIndex;
    if (kind === Cue.Then && wordIndex - firstAt <= 40) result.step = true;
    if (isDigit(word.charCodeAt(0))) {
      result.numbers += 1;
      lastNumberAt = wordIndex;
    }
    if (previousIsHead) {
      const pair = `${previous} ${word}`;
      const pairKind = CUES.get(pair);
      if (pairKind !== undefined) {
        if (wordIndex === 1 && pairKind === Cue.SimpleOpener) result.simple = true;
        countCue(pairKind);
      }
      if (pairIsTripleHead) countCue(CUES.get(`${pairIsTripleHead} ${word}`));
      pairIsTripleHead = TRIPLE_HEADS.has(pair) ? pair : '';
    } else pairIsTripleHead = '';
    previousIsHead = PHRASE_HEADS.has(word);
    previous = word;
    wordIndex += 1;
  };
  for (let index = 0; index <= text.length; index += 1) {
    const code = index < text.length ? text.charCodeAt(index) : 10;
    if (isWordChar(code)) {
      if (start < 0) {
        // A list item: "1." "2)" "-" "*" "•" at the start of a line.
        if (lineStart && (code === 45 || (isDigit(code) && (text.charCodeAt(index + 1) === 46 || text.charCodeAt(index + 1) === 41 || (isDigit(text.charCodeAt(index + 1)) && (text.charCodeAt(index + 2) === 46 || text.charCodeAt(index + 2) === 41)))))) {
          const after = text.charCodeAt(index + (code === 45 ? 1 : isDigit(text.charCodeAt(index + 1)) ? 3 : 2));
          if (after === 32) result.listItems += 1;
        }
        start = index;
      }
      lineStart = false;
      continue;
    }
    if (start >= 0) {
      // A trailing hyphen or apostrophe is punctuation, not part of the word.
      let end = index;
      while (end > start + 1 && (text.charCodeAt(end - 1) === 45 || text.charCodeAt(end - 1) === 39)) end -= 1;
      endWord(text.slice(start, end));
      start = -1;
    }
    switch (code) {
      case 10: lineStart = true; break;
      case 63: result.questions += 1; break;
      case 44: result.commas += 1; break;
      case 42: case 8226: if (lineStart && text.charCodeAt(index + 1) === 32) result.listItems += 1; break;
      case 96: if (text.charCodeAt(index + 1) === 96 && text.charCodeAt(index + 2) === 96) result.fence = true; result.symbols += 1; break;
      case 123: case 125: case 59: case 40: case 61: case 60: case 62: result.symbols += 1; break;
      default: break;
    }
    if ((code === 43 || code === 42 || code === 47 || code === 94 || code === 215 || code === 247) && isDigit(text.charCodeAt(index - 1) === 32 ? text.charCodeAt(index - 2) : text.charCodeAt(index - 1))) {
      const next = text.charCodeAt(index + 1) === 32 ? text.charCodeAt(index + 2) : text.charCodeAt(index + 1);
      if (isDigit(next)) result.arithmetic = true;
    }
    if (code === 8721 || code === 8730 || code === 8747 || code === 8804 || code === 8805) result.math = true;
    if (code !== 32 && code !== 9 && code !== 13 && code !== 10) lineStart = false;
  }
  return result;
}

/** The features of a conversation (the system prompt is the template's, the same for every call: not read). */
export function extractFeatures(messages: readonly ChatMessage[], extras: PromptExtras = {}): PromptFeatures {
  let lastUser = '';
  let lastUserIndex = -1;
  let totalChars = 0;
  let turns = 0;
  for (let index = 0; index < messages.length; index += 1) {
    const message = messages[index]!;
    if (message.role === 'system') continue;
    totalChars += message.content.length;
    if (message.role === 'user') {
      turns += 1;
      lastUser = message.content;
      lastUserIndex = index;
    }
  }
  let codeEarlier = false;
  for (let index = 0; index < messages.length && !codeEarlier; index += 1) {
    const message = messages[index]!;
    if (index !== lastUserIndex && message.role !== 'system' && message.content.includes('```')) codeEarlier = true;
  }
  const scan = scanWords(scanned(lastUser).toLowerCase());
  return {
    lastChars: lastUser.length,
    totalChars,
    turns,
    // Code: a fence, or code vocabulary together with code punctuation.
    code: scan.fence || (scan.codeWords >= 1 && scan.symbols >= 3) || scan.symbols >= 8,
    codeTask: scan.codeTask || scan.codeProblem,
    math: scan.math || scan.arithmetic,
    listItems: scan.listItems,
    stepByStep: scan.step,
    questions: scan.questions,
    analysisTerms: scan.analysis,
    longForm: scan.longForm,
    tasks: scan.tasks,
    commas: scan.commas,
    numbers: scan.numbers,
    constraints: scan.constraints,
    simple: lastUser.length < 160 && scan.simple,
    codeEarlier,
    toolsRequested: extras.toolsRequested === true,
    nonTextParts: extras.nonTextParts === true,
  };
}

/** Weighted evidence, clipped to [0, 1]; the largest contribution names the reason. */
export function scoreFeatures(features: PromptFeatures): PromptScore {
  let score = 0.08;
  let reason = 'short';
  let top = 0;
  const add = (name: string, weight: number) => {
    if (weight <= 0) return;
    score += weight;
    if (weight > top) {
      top = weight;
      reason = name;
    }
  };
  // Length: nothing below a short question, rising to 0.3 at about 1,000 characters (250 tokens) of request.
  add('length', Math.min(0.3, Math.max(0, features.lastChars - 70) / 3000));
  add('long_conversation', Math.min(0.12, Math.max(0, features.turns - 2) * 0.02 + Math.min(0.06, features.totalChars / 60_000)));
  add('code', features.code ? 0.32 : 0);
  add('code_task', features.codeTask ? 0.3 : 0);
  add('code_thread', features.codeEarlier && !features.code ? 0.2 : 0);
  add('math', features.math ? 0.3 : 0);
  add('multi_step', Math.min(0.26, (features.listItems >= 2 ? features.listItems * 0.05 : 0) + (features.stepByStep ? 0.14 : 0) + (features.questions >= 3 ? 0.08 : 0)));
  add('analysis', Math.min(0.4, features.analysisTerms * 0.12));
  add('long_form', features.longForm ? 0.3 : 0);
  add('reasoning_task', Math.min(0.3, features.tasks * 0.12));
  add('requirements', features.commas >= 3 ? Math.min(0.24, (features.commas - 1) * 0.04) : 0);
  add('numbers', features.numbers >= 3 ? Math.min(0.15, features.numbers * 0.025) : 0);
  add('constraints', features.constraints >= 3 ? Math.min(0.12, features.constraints * 0.025) : 0);
  add('tools', features.toolsRequested ? 0.3 : 0);
  add('non_text', features.nonTextParts ? 0.3 : 0);
  if (features.simple && top < 0.15) {
    score -= 0.1;
    reason = 'simple';
  }
  return { score: Math.round(Math.min(1, Math.max(0, score)) * 1000) / 1000, reason, features };
}

export function scorePrompt(messages: readonly ChatMessage[], extras?: PromptExtras): PromptScore {
  return scoreFeatures(extractFeatures(messages, extras));
}

/** The tier a score gets under a setting ('off' always answers with the strong model). */
export function tierFor(score: number, setting: RoutingSetting): RoutingTier {
  if (setting === 'off') return 'strong';
  return score < ROUTING_THRESHOLDS[setting] ? 'light' : 'strong';
}

/** What one routing decision records (the meter event's `routing`, the X-Agent-Host-Routing header). */
export interface RouteDecision {
  tier: RoutingTier;
  score: number;
  /** A feature name (`code`, `analysis`, `simple`, …), or `forced`, `sticky`, `near_limit`, `light_context`, … */
  reason: string;
  forced?: boolean;
  /** The conversation was answered light before and now needed the strong model. */
  escalated?: boolean;
}

/** The conversation memory a decision consults (routing-stickiness.ts). */
export interface StickyMemory {
  state(key: string): { sticky: boolean; lightSeen: boolean };
  remember(key: string, tier: RoutingTier): void;
}

export interface RouteRequest {
  messages: readonly ChatMessage[];
  extras?: PromptExtras;
  setting: Exclude<RoutingSetting, 'off'>;
  /** The caller forced a model (X-Agent-Host-Route). */
  forced?: RoutingTier;
  /** The conversation's key (conversationKey) and the memory that holds it on the strong model. */
  conversation?: { key: string; memory: StickyMemory };
}

/** Forced beats sticky beats the score; every decision is remembered for its conversation. */
export function decideRoute(request: RouteRequest): RouteDecision {
  const { score, reason } = scorePrompt(request.messages, request.extras);
  const conversation = request.conversation;
  let decision: RouteDecision;
  if (request.forced) {
    decision = { tier: request.forced, score, reason: 'forced', forced: true };
  } else {
    const state = conversation?.memory.state(conversation.key);
    if (state?.sticky) decision = { tier: 'strong', score, reason: 'sticky' };
    else {
      const tier = tierFor(score, request.setting);
      decision = tier === 'strong' && state?.lightSeen ? { tier, score, reason, escalated: true } : { tier, score, reason };
    }
  }
  conversation?.memory.remember(conversation.key, decision.tier);
  return decision;
}
