// TemplateService: variables are checked against the template and rendered as plain text (no HTML escaping).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { TemplateService } from '../../agents/template.service';
import { DomainError } from '../../server/errors/domain-error';

const TEMPLATES_DIRECTORY = path.join(__dirname, '../../templates');

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    expect(error).to.be.instanceOf(DomainError);
    return (error as DomainError).code;
  }
  return undefined;
}

describe('TemplateService', () => {
  const templates = new TemplateService(TEMPLATES_DIRECTORY);

  it('loads the five templates', () => {
    expect(templates.list().map((template) => template.id)).to.include.members(['support-email', 'faq-bot', 'content-writer', 'research-agent', 'coding-assistant']);
  });

  it('renders & < > " \' and {{ in variables as they are, without HTML escaping', () => {
    const businessName = `Tom & Jerry <b>Cheese</b> "Co" 'Ltd' {{x}}`;
    const variables = templates.resolveVariables('faq-bot', { businessName, facts: 'a < b && c > d' });
    const prompt = templates.render('faq-bot', variables);
    expect(prompt).to.include(businessName);
    expect(prompt).to.include('a < b && c > d');
    expect(prompt).not.to.match(/&amp;|&lt;|&gt;|&quot;|&#x27;|&#39;|&#x3D;|&#x60;/);
  });

  it('renders every template with only its required variables filled', () => {
    for (const template of templates.list()) {
      const given = Object.fromEntries(template.variables.filter((variable) => variable.required).map((variable) => [variable.name, `${variable.name} & <value>`]));
      const prompt = templates.render(template.id, templates.resolveVariables(template.id, given));
      for (const value of Object.values(given)) expect(prompt, template.id).to.include(value);
      expect(prompt, template.id).not.to.include('&amp;');
    }
  });

  it('fills defaults and trims values', () => {
    expect(templates.resolveVariables('faq-bot', { businessName: '  Acme  ' })).to.deep.equal({ businessName: 'Acme', facts: '', fallbackContact: 'our support team' });
  });

  it('refuses missing required, unknown and non-text variables and unknown templates', () => {
    expect(codeOf(() => templates.resolveVariables('faq-bot', {}))).to.equal('TEMPLATE_VARIABLE_MISSING');
    expect(codeOf(() => templates.resolveVariables('faq-bot', { businessName: ' ' }))).to.equal('TEMPLATE_VARIABLE_MISSING');
    expect(codeOf(() => templates.resolveVariables('faq-bot', { businessName: 'Acme', nope: 'x' }))).to.equal('TEMPLATE_VARIABLE_UNKNOWN');
    expect(codeOf(() => templates.resolveVariables('faq-bot', { businessName: { $gt: '' } }))).to.equal('VALIDATION_FAILED');
    expect(codeOf(() => templates.resolveVariables('no-such-template', {}))).to.equal('TEMPLATE_NOT_FOUND');
    expect(codeOf(() => templates.render('no-such-template', {}))).to.equal('TEMPLATE_NOT_FOUND');
  });

  it('does not evaluate Handlebars inside variable values', () => {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'templates-'));
    try {
      fs.mkdirSync(path.join(directory, 'echo'));
      fs.writeFileSync(
        path.join(directory, 'echo', 'template.json'),
        JSON.stringify({ name: 'Echo', description: 'd', recommendedPlan: 'starter', estimatedMonthlyTokens: { input: 1, output: 1 }, variables: [{ name: 'text', label: 'Text', required: true }] }),
      );
      fs.writeFileSync(path.join(directory, 'echo', 'system.hbs'), 'Say: {{text}}');
      const echo = new TemplateService(directory);
      expect(echo.render('echo', { text: '{{#each this}}{{@key}}{{/each}} & <tag>' })).to.equal('Say: {{#each this}}{{@key}}{{/each}} & <tag>');
    } finally {
      fs.rmSync(directory, { recursive: true, force: true });
    }
  });
});
