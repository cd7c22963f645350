// Public catalog: plans, providers with their models, and agent templates.
import { Router } from 'express';
import type { Catalog } from '../../catalog/catalog.service';
import type { TemplateService } from '../../../agents/template.service';
import type { Config, PooledProviderId } from '../../config/config';
import { notFound } from '../../errors/domain-error';
import { isByokSandboxAvailable, sandboxKeyFor } from '../../../agents/byok-sandbox';
import { planRoutingDisclosure } from '../../../agents/agent-routing';

export function createCatalogRouter(catalog: Catalog, templates: TemplateService, config: Config): Router {
  const router = Router();
  const plans = catalog.plans.map((plan) => {
    // Cost-aware routing (#14): disclosed in the plan's plain description when its operator turned it on.
    const disclosure = planRoutingDisclosure(plan);
    return {
      id: plan.id,
      name: plan.name,
      priceUsd: plan.priceUsd,
      includedTokens: plan.includedTokens,
      overageUsdPerMillion: plan.overageUsdPerMillion,
      description: disclosure ? `${plan.description}. ${disclosure}` : plan.description,
      popular: plan.popular,
      routing: { setting: plan.routing, lightModel: disclosure ? plan.lightBackend ?? null : null, disclosure },
    };
  });
  const providers = catalog.providers.map((provider) => ({
    id: provider.id,
    name: provider.name,
    models: provider.models.map((model) => ({
      id: model.id,
      inputUsdPerMillion: model.inputUsdPerMillion,
      outputUsdPerMillion: model.outputUsdPerMillion,
      contextWindow: model.contextWindow,
    })),
    pooled: provider.id !== 'custom' && config.poolKeys[provider.id as PooledProviderId].length > 0,
    anyModel: provider.anyModel ?? false,
    keyPrefix: provider.keyPrefixes[0] ?? null,
    // experience (#18): where a base URL is taken, the offline sandbox key, and whether local endpoints are allowed.
    baseUrl: provider.id === 'custom' ? ('required' as const) : config.allowProviderBaseUrlOverride ? ('optional' as const) : ('none' as const),
    sandboxKey: isByokSandboxAvailable(config) ? sandboxKeyFor(provider.keyPrefixes[0]) : null,
    privateAddressesAllowed: config.allowPrivateBaseUrls,
  }));
  const describeTemplate = (template: ReturnType<TemplateService['list']>[number]) => ({
    id: template.id,
    name: template.name,
    description: template.description,
    recommendedPlan: template.recommendedPlan,
    variables: template.variables.map((variable) => ({ name: variable.name, label: variable.label, required: variable.required, default: variable.default ?? null })),
    estimatedMonthlyTokens: template.estimatedMonthlyTokens,
  });

  router.get('/api/plans', (_request, response) => void response.json(plans));
  router.get('/api/providers', (_request, response) => void response.json(providers));
  router.get('/api/templates', (_request, response) => void response.json(templates.list().map(describeTemplate)));
  router.get('/api/templates/:templateId', (request, response) => {
    const template = templates.find(String(request.params.templateId));
    if (!template) throw notFound('Template');
    response.json({ ...describeTemplate(template), systemPrompt: template.systemPrompt });
  });
  return router;
}
