// Plans, providers and templates change only with the server's config: fetched once per page load.
import { api } from './api';
import type { Plan, Provider, Template } from './types';

let plans: Promise<Plan[]> | null = null;
let providers: Promise<Provider[]> | null = null;
let templates: Promise<Template[]> | null = null;

export const catalog = {
  plans: () => (plans ??= api.plans().catch((error) => ((plans = null), Promise.reject(error)))),
  providers: () => (providers ??= api.providers().catch((error) => ((providers = null), Promise.reject(error)))),
  templates: () => (templates ??= api.templates().catch((error) => ((templates = null), Promise.reject(error)))),
};
