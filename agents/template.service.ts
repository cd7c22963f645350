// Agent templates as data (templates/<id>/template.json + system.hbs), rendered with Handlebars in strict mode.
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
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
  // An isolated Handlebars environment: no globally registered helpers or partials leak in.
  private readonly handlebars = Handlebars.create();

  constructor(templatesDirectory: string) {
    for (const id of fs.readdirSync(templatesDirectory).sort()) {
      const directory = path.join(templatesDirectory, id);
      const jsonFile = path.join(directory, 'template.json');
      if (!fs.existsSync(jsonFile)) continue;
      const file = templateFileSchema.parse(JSON.parse(fs.readFileSync(jsonFile, 'utf8')));
      const systemPrompt = fs.readFileSync(path.join(directory, 'system.hbs'), 'utf8');
      this.templates.set(id, { id, ...file, systemPrompt });
      // strict: a variable missing from the context throws instead of leaving a hole;
      // noEscape: prompts are plain text, so no HTML entities such as &amp; appear in them.
      this.compiled.set(id, this.handlebars.compile(systemPrompt, { strict: true, noEscape: true }));
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

  render(templateId: string, variables: TemplateVariables): string {
    const compiled = this.compiled.get(templateId);
    if (!compiled) throw invalidInput('TEMPLATE_NOT_FOUND', `There is no template "${templateId}".`);
    return compiled(variables).trim();
  }
}
