// Response cache setting, A/B experiments, feedback, side-by-side comparison and the usage splits (cache). Thin:
// validate, call the service, respond.
import { Router, type RequestHandler } from 'express';
import type { ExperimentService } from '../../../agents/experiment.service';
import type { ModelComparison } from '../../../agents/model-comparison';
import type { ResponseCacheSettings } from '../../../agents/response-cache-settings';
import { cacheSettingSchema, compareSchema, createExperimentSchema, experimentActionSchema, feedbackSchema, promoteSchema } from '../../../agents/experiment.schemas';
import type { UsageSplitsService } from '../../metering/usage-splits.service';
import { parseMonth } from '../../metering/usage.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';
import { abortOnClientClose } from '../openai-compatible-api';

const WORKSPACE = '/api/workspaces/:workspaceId';
const AGENT = '/api/workspaces/:workspaceId/agents/:agentId';

export interface ExperimentsRouterServices {
  cacheSettings: ResponseCacheSettings;
  experiments: ExperimentService;
  comparison: ModelComparison;
  usageSplits: UsageSplitsService;
}

export function createExperimentsRouter(services: ExperimentsRouterServices, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const { cacheSettings, experiments, comparison, usageSplits } = services;
  const actor = (request: Express.Request) => ({ userId: request.user!.userId, role: request.workspaceAccess!.role });
  const ids = (request: import('express').Request) => [request.workspaceAccess!.workspaceId, String(request.params.agentId)] as const;

  router.get(`${AGENT}/cache`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await cacheSettings.get(...ids(request)));
  });
  router.put(`${AGENT}/cache`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(cacheSettingSchema, request.body);
    response.json(await cacheSettings.update(...ids(request), actor(request), input));
  });
  router.delete(`${AGENT}/cache/entries`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    response.json(await cacheSettings.clear(...ids(request)));
  });

  router.post(`${AGENT}/compare`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(compareSchema, request.body);
    response.json(await comparison.compare(...ids(request), String(request.id), input, abortOnClientClose(response)));
  });

  router.get(`${AGENT}/experiments`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await experiments.list(...ids(request)));
  });
  router.post(`${AGENT}/experiments`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const input = parseInput(createExperimentSchema, request.body);
    response.status(201).json(await experiments.create(...ids(request), input));
  });
  router.get(`${AGENT}/experiments/:experimentId`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await experiments.results(...ids(request), String(request.params.experimentId)));
  });
  router.post(`${AGENT}/experiments/:experimentId/actions`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const { action } = parseInput(experimentActionSchema, request.body);
    response.json(await experiments.act(...ids(request), String(request.params.experimentId), action));
  });
  router.post(`${AGENT}/experiments/:experimentId/promote`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const { variant } = parseInput(promoteSchema, request.body);
    response.json(await experiments.promote(...ids(request), String(request.params.experimentId), variant, actor(request)));
  });

  router.post(`${WORKSPACE}/feedback`, authenticate, requireWorkspaceRole('builder'), async (request, response) => {
    const { requestId, rating } = parseInput(feedbackSchema, request.body);
    response.json(await experiments.feedback(request.workspaceAccess!.workspaceId, requestId, rating));
  });

  router.get(`${WORKSPACE}/usage/cache`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await usageSplits.cache(request.workspaceAccess!.workspaceId, parseMonth(request.query.month)));
  });
  router.get(`${WORKSPACE}/usage/experiments`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await usageSplits.experiments(request.workspaceAccess!.workspaceId, parseMonth(request.query.month)));
  });
  return router;
}
