// Agent templates as data (templates/<id>/template.json + system.hbs), rendered with Handlebars in strict mode.
import fs from 'node:fs';
import path from 'node:path';
import type Handlebars from 'handlebars';
import { z } from 'zod';
import { invalidInput } from '../server/errors/domain-error';

const templateVariableSchema = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
  label: z.string(),
  required: z.boolean(),
  default: z.string().optional(),
});

const templateFileSchema = z.object({
  name: z.string(),
  description: z.string(),
  recommendedPlan: z.enum(['starter', 'pro', 'ultra']),
  estimatedMonthlyTokens: z.object({ input: z.number().int(), output: z.number().int() }),
  variables: z.array(templateVariableSchema),
});

export interface AgentTemplate extends z.infer<typeof templateFileSchema> {
  id: string;
  systemPrompt: string;
}

export type TemplateVariables = Record<string, string>;

const MAX_VARIABLE_LENGTH = 20_000;

export class TemplateService {
  private readonly templates = new Map<string, AgentTemplate>();
  private readonly compiled = new Map<string, Handlebars.TemplateDelegate>();
  // An isolated Handlebars environment: no globally registered helpers or partials leak in. Handlebars is loaded on
  // the first render or check, not at start-up (an idle server does not need its ~1 MB of code).
  private handlebarsEnvironment: typeof Handlebars | undefined;

  private get handlebars(): typeof Handlebars {
    return (this.handlebarsEnvironment ??= (require('handlebars') as typeof Handlebars).create());
  }

  constructor(templatesDirectory: string) {
    for (const id of fs.readdirSync(templatesDirectory).sort()) {
      const directory = path.join(templatesDirectory, id);
      const jsonFile = path.join(directory, 'template.json');
      if (!fs.existsSync(jsonFile)) continue;
      const file = templateFileSchema.parse(JSON.parse(fs.readFileSync(jsonFile, 'utf8')));
      const systemPrompt = fs.readFileSync(path.join(directory, 'system.hbs'), 'utf8');
      this.templates.set(id, { id, ...file, systemPrompt });
    }
  }

  list(): AgentTemplate[] {
    return [...this.templates.values()];
  }

  find(id: string): AgentTemplate | undefined {
    return this.templates.get(id);
  }

  /**
   * Checks the user's variables against the template and returns the complete set (defaults filled in).
   * Missing required or unknown variables are a 400, so a prompt never has a hole in it.
   */
  resolveVariables(templateId: string, given: Record<string, unknown>): TemplateVariables {
    const template = this.templates.get(templateId);
    if (!template) throw invalidInput('TEMPLATE_NOT_FOUND', `There is no template "${templateId}".`);
    return this.resolveVariablesFor(template, given, templateId);
  }

  /** Like resolveVariables, for a template given as data (a workspace template, or its snapshot on an agent). */
  resolveVariablesFor(template: Pick<AgentTemplate, 'name' | 'variables'>, given: Record<string, unknown>, templateId = template.name): TemplateVariables {
    const known = new Set(template.variables.map((variable) => variable.name));
    const unknown = Object.keys(given).filter((name) => !known.has(name));
    if (unknown.length > 0) {
      throw invalidInput('TEMPLATE_VARIABLE_UNKNOWN', `The template "${templateId}" has no variable ${unknown.map((name) => `"${name}"`).join(', ')}.`);
    }
    const resolved: TemplateVariables = {};
    const missing: string[] = [];
    for (const variable of template.variables) {
      const value = given[variable.name];
      if (value !== undefined && typeof value !== 'string') {
        throw invalidInput('VALIDATION_FAILED', `Variable "${variable.name}" must be text.`);
      }
      if (typeof value === 'string' && value.length > MAX_VARIABLE_LENGTH) {
        throw invalidInput('VALIDATION_FAILED', `Variable "${variable.name}" is longer than ${MAX_VARIABLE_LENGTH} characters.`);
      }
      const text = typeof value === 'string' ? value.trim() : '';
      if (text) resolved[variable.name] = text;
      else if (variable.required) missing.push(variable.label);
      else resolved[variable.name] = variable.default ?? '';
    }
    if (missing.length > 0) {
      throw invalidInput('TEMPLATE_VARIABLE_MISSING', `Please fill in: ${missing.join(', ')}.`, { missing });
    }
    return resolved;
  }

  // ---- workspace templates (publish): a prompt given as source, checked when saved, compiled once per source ----

  private readonly compiledSources = new Map<string, Handlebars.TemplateDelegate>();

  private compileSource(source: string): Handlebars.TemplateDelegate {
    let compiled = this.compiledSources.get(source);
    if (!compiled) {
      compiled = this.handlebars.compile(source, { strict: true, noEscape: true });
      if (this.compiledSources.size > 1000) this.compiledSources.clear();
      this.compiledSources.set(source, compiled);
    }
    return compiled;
  }

  /**
   * Checks a workspace template's prompt: it parses, every variable it uses is declared, and it renders with the
   * declared defaults. A 400 names the problem (the parser's message, or the undeclared variable).
   */
  checkSource(source: string, declared: readonly string[]): void {
    let program: hbs.AST.Program;
    try {
      program = this.handlebars.parse(source);
    } catch (error) {
      throw invalidInput('TEMPLATE_INVALID', `The prompt does not compile: ${(error as Error).message.split('\n').slice(0, 4).join(' ').trim()}`);
    }
    const used = usedVariables(program);
    const known = new Set(declared);
    const undeclared = [...used].filter((name) => !known.has(name));
    if (undeclared.length > 0) {
      throw invalidInput('TEMPLATE_VARIABLE_UNDECLARED', `The prompt uses ${undeclared.map((name) => `"${name}"`).join(', ')}, which ${undeclared.length === 1 ? 'is' : 'are'} not declared as a variable.`, { undeclared });
    }
    try {
      this.compileSource(source)(Object.fromEntries(declared.map((name) => [name, 'x'])));
    } catch (error) {
      throw invalidInput('TEMPLATE_INVALID', `The prompt does not compile: ${(error as Error).message.split('\n')[0]}`);
    }
  }

  /** An agent's system prompt: its workspace template's prompt when it was made from one, else its built-in template. */
  renderAgent(agent: { templateId: string; variables?: TemplateVariables | null; promptTemplate?: { systemPrompt: string } | null }): string {
    if (agent.promptTemplate?.systemPrompt) return this.compileSource(agent.promptTemplate.systemPrompt)(agent.variables ?? {}).trim();
    return this.render(agent.templateId, agent.variables ?? {});
  }

  render(templateId: string, variables: TemplateVariables): string {
    let compiled = this.compiled.get(templateId);
    if (!compiled) {
      const template = this.templates.get(templateId);
      if (!template) throw invalidInput('TEMPLATE_NOT_FOUND', `There is no template "${templateId}".`);
      // strict: a variable missing from the context throws instead of leaving a hole;
      // noEscape: prompts are plain text, so no HTML entities such as &amp; appear in them.
      compiled = this.handlebars.compile(template.systemPrompt, { strict: true, noEscape: true });
      this.compiled.set(templateId, compiled);
    }
    return compiled(variables).trim();
  }
}

const BUILT_IN_HELPERS = new Set(['if', 'unless', 'each', 'with', 'lookup', 'log']);

/** The root variable names a template reads (outside #each / #with bodies, whose context is the item). */
function usedVariables(program: hbs.AST.Program): Set<string> {
  const names = new Set<string>();
  const addPath = (node: hbs.AST.Node | undefined) => {
    if (!node) return;
    if (node.type === 'PathExpression') {
      const path = node as hbs.AST.PathExpression;
      if (path.data || path.depth > 0 || path.parts.length === 0 || path.original === 'this' || path.original.startsWith('this.')) return;
      names.add(path.parts[0]!);
    } else if (node.type === 'SubExpression') {
      const sub = node as hbs.AST.SubExpression;
      for (const param of sub.params) addPath(param);
      for (const pair of sub.hash?.pairs ?? []) addPath(pair.value);
    }
  };
  const callee = (statement: hbs.AST.MustacheStatement | hbs.AST.BlockStatement) => {
    const path = statement.path as hbs.AST.PathExpression;
    const isHelper = statement.params.length > 0 || (statement.hash?.pairs.length ?? 0) > 0;
    if (isHelper && path.type === 'PathExpression' && BUILT_IN_HELPERS.has(path.original)) return;
    if (isHelper) names.add(`${path.original} (helper)`);
    else addPath(statement.path);
  };
  const walk = (body: hbs.AST.Statement[]) => {
    for (const statement of body) {
      if (statement.type === 'MustacheStatement') {
        const mustache = statement as hbs.AST.MustacheStatement;
        callee(mustache);
        for (const param of mustache.params) addPath(param);
      } else if (statement.type === 'BlockStatement') {
        const block = statement as hbs.AST.BlockStatement;
        callee(block);
        for (const param of block.params) addPath(param);
        const helper = (block.path as hbs.AST.PathExpression).original;
        if (helper !== 'each' && helper !== 'with' && block.program) walk(block.program.body);
        if (block.inverse) walk(block.inverse.body);
      } else if (statement.type === 'PartialStatement' || statement.type === 'PartialBlockStatement') {
        names.add('> partial');
      }
    }
  };
  walk(program.body);
  return names;
}
