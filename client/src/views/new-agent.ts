// #/agents/new: template gallery → details → plan (or own key) → create.
import { api, ApiError } from '../api';
import { catalog } from '../catalog';
import { llmChoice, type LlmChoice } from '../components/llm-choice';
import { h, icon, mount } from '../dom';
import { clearFieldErrors, errorMessage, field, formMessage, input, showFieldError, withBusy, type Field } from '../forms';
import { conversationsFor } from '../format';
import { navigate } from '../router';
import { can, workspaceId } from '../session';
import type { LlmSetting, Plan, Template } from '../types';
import { pageHeader, renderLoadError } from './common';
// publish: workspace templates beside the built-in ones
import { publishApi, type WorkspaceTemplate } from '../publish-api';
import { workspaceTemplatesSection } from './workspace-templates-section';

export async function renderNewAgent(main: HTMLElement): Promise<void> {
  document.title = 'New agent · Agent Host';
  if (!can('builder')) {
    mount(main, pageHeader('Create an agent'), h('div', { class: 'card empty' }, h('p', null, 'Your role in this workspace is viewer: you can look at agents and usage, but not create agents. Ask an admin for the builder role.')));
    return;
  }
  mount(main, pageHeader('Create an agent', 'Loading templates…'));
  let templates: Template[];
  let workspaceTemplates: WorkspaceTemplate[] = [];
  let plans: Plan[];
  let providers: Awaited<ReturnType<typeof catalog.providers>>;
  try {
    [templates, plans, providers] = await Promise.all([catalog.templates(), catalog.plans(), catalog.providers()]);
    workspaceTemplates = await publishApi.templates(workspaceId()).catch(() => []);
    templates = [...templates, ...workspaceTemplates];
  } catch (error) {
    renderLoadError(main, 'Create an agent', error);
    return;
  }

  let chosen: Template | null = null;
  let nameEdited = false;
  let variableFields: Record<string, Field<HTMLInputElement | HTMLTextAreaElement>> = {};
  const name = field('Agent name', input({ name: 'agentName', autocomplete: 'off', maxLength: 100 }), { required: true, hint: 'Shown on your dashboard and to your team.' });
  name.control.addEventListener('input', () => (nameEdited = true));
  const variablesBox = h('div', { class: 'stack' });
  const variablesError = h('p', { class: 'field-error', hidden: true, role: 'alert' });
  let choice: LlmChoice = llmChoice(plans, providers, { recommended: null });
  const choiceBox = h('div', null, choice.element);
  const message = formMessage();
  const create = h('button', { type: 'submit', class: 'btn btn-primary btn-large' }, 'Create agent');

  const gallery = h(
    'fieldset',
    { class: 'template-gallery' },
    h('legend', { class: 'visually-hidden' }, 'Template'),
    templates.map((template) => {
      const radio = h('input', { type: 'radio', name: 'template', value: template.id, class: 'visually-hidden' });
      radio.addEventListener('change', () => radio.checked && selectTemplate(template));
      const planName = plans.find((plan) => plan.id === template.recommendedPlan)?.name ?? template.recommendedPlan;
      const monthly = template.estimatedMonthlyTokens.input + template.estimatedMonthlyTokens.output;
      return h(
        'label',
        { class: 'template-card', dataset: { template: template.id } },
        radio,
        h('span', { class: 'template-name' }, template.name, 'workspaceTemplate' in template ? h('span', { class: 'badge badge-plan template-badge' }, 'Your workspace') : null),
        h('span', { class: 'template-description' }, template.description),
        h(
          'span',
          { class: 'template-meta' },
          h('span', null, h('span', { class: 'meta-label' }, 'Suggested plan '), h('strong', null, planName)),
          h('span', null, h('span', { class: 'meta-label' }, 'Typical use '), h('strong', null, `~${conversationsFor(monthly)} conversations / month`)),
        ),
      );
    }),
  );

  const detailsSection = h(
    'section',
    { class: 'card section', 'aria-labelledby': 'step-details', hidden: true },
    h('h2', { id: 'step-details', class: 'section-title' }, h('span', { class: 'step' }, '2'), 'Tell it about you'),
    h('div', { class: 'stack' }, name.element, variablesBox, variablesError),
  );
  const planSection = h(
    'section',
    { class: 'card section', 'aria-labelledby': 'step-plan', hidden: true },
    h('h2', { id: 'step-plan', class: 'section-title' }, h('span', { class: 'step' }, '3'), 'How should it run?'),
    h('p', { class: 'muted section-lead' }, 'You can switch between a plan and your own key at any time.'),
    choiceBox,
  );
  const actions = h('div', { class: 'form-actions', hidden: true }, message.element, create);

  function selectTemplate(template: Template): void {
    chosen = template;
    if (!nameEdited) name.control.value = template.name;
    variableFields = {};
    mount(
      variablesBox,
      template.variables.map((variable) => {
        const long = variable.name === 'facts';
        const control = long
          ? h('textarea', { class: 'input', name: variable.name, rows: 3, maxLength: 20000 })
          : input({ name: variable.name, autocomplete: 'off', maxLength: 20000 });
        control.value = variable.default ?? '';
        const built = field(variable.label, control, { required: variable.required, hint: variable.required ? undefined : 'Optional.' });
        variableFields[variable.name] = built;
        return built.element;
      }),
    );
    const previous = choice;
    choice = llmChoice(plans, providers, { recommended: template.recommendedPlan, workspaceId: workspaceId() });
    if (previous.plan.value() && previous.mode() === 'managed' && previous !== choice) choice.plan.setValue(previous.plan.value()!);
    mount(choiceBox, choice.element);
    detailsSection.hidden = false;
    planSection.hidden = false;
    actions.hidden = false;
  }

  const form = h(
    'form',
    { class: 'stack-lg', novalidate: true },
    h(
      'section',
      { class: 'card section', 'aria-labelledby': 'step-template' },
      h('h2', { id: 'step-template', class: 'section-title' }, h('span', { class: 'step' }, '1'), 'Pick a template'),
      gallery,
    ),
    detailsSection,
    planSection,
    actions,
  );

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!chosen) return;
    const fields: Record<string, Field<any> | undefined> = { name, ...variableFields, ...choice.byok.fields };
    clearFieldErrors(fields);
    choice.plan.setError(null);
    variablesError.hidden = true;
    message.show(null);
    if (!name.control.value.trim()) return (name.setError('Give your agent a name.'), name.control.focus());
    for (const variable of chosen.variables) {
      const control = variableFields[variable.name]!;
      if (variable.required && !control.control.value.trim()) return (control.setError(`Please fill in ${variable.label.toLowerCase()}.`), control.control.focus());
    }
    let llm: LlmSetting;
    if (choice.mode() === 'managed') {
      const plan = choice.plan.value();
      if (!plan) return choice.plan.setError('Pick one of the three plans.');
      llm = { mode: 'managed', plan };
    } else {
      if (!choice.byok.validate()) return;
      llm = choice.byok.value();
    }
    const variables = Object.fromEntries(Object.entries(variableFields).map(([key, built]) => [key, built.control.value]));
    try {
      const agent = await withBusy(create, 'Creating…', () => api.createAgent(workspaceId(), { name: name.control.value.trim(), templateId: chosen!.id, variables, llm }));
      choice.byok.clearKey();
      navigate(`/agents/${agent.id}${llm.mode === 'byok' ? '?tab=setting' : ''}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'TEMPLATE_VARIABLE_MISSING') {
        variablesError.textContent = error.message;
        variablesError.hidden = false;
        return;
      }
      if (error instanceof ApiError && error.code === 'UNKNOWN_PLAN') return choice.plan.setError(error.message);
      if (!showFieldError(error, fields)) message.show(errorMessage(error));
    }
  });

  mount(
    main,
    pageHeader('Create an agent', 'Start from a template, add a few details, and choose how it runs.', h('a', { class: 'btn btn-secondary', href: '#/dashboard' }, icon('arrowLeft'), 'Back')),
    form,
    workspaceTemplatesSection(workspaceId(), workspaceTemplates, () => void renderNewAgent(main)),
  );
}
