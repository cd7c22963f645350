// Alert thresholds of a workspace, and webhook endpoints with their delivery log. Thin: validate, call the service.
import { Router, type RequestHandler } from 'express';
import { z } from 'zod';
import type { AlertThresholds } from '../../metering/alert-thresholds';
import { alertThresholdsSchema } from '../../metering/alert-thresholds';
import type { WebhookService } from '../../webhooks/webhook.service';
import { createWebhookSchema } from '../../webhooks/webhook.service';
import type { RequireWorkspaceRole } from '../middleware/workspace-access.middleware';
import { parseInput } from '../middleware/validate-request';

const WORKSPACE = '/api/workspaces/:workspaceId';
export const alertSettingsSchema = z.object({ thresholds: alertThresholdsSchema.nullable() }).strict();

export function createAlertsSettingsRouter(thresholds: AlertThresholds, webhooks: WebhookService, authenticate: RequestHandler, requireWorkspaceRole: RequireWorkspaceRole): Router {
  const router = Router();
  const workspaceOf = (request: import('express').Request) => request.workspaceAccess!.workspaceId;

  router.get(`${WORKSPACE}/alert-settings`, authenticate, requireWorkspaceRole('viewer'), async (request, response) => {
    response.json(await thresholds.forWorkspace(workspaceOf(request)));
  });
  router.put(`${WORKSPACE}/alert-settings`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(alertSettingsSchema, request.body);
    response.json(await thresholds.setForWorkspace(workspaceOf(request), input.thresholds));
  });

  router.get(`${WORKSPACE}/webhooks`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await webhooks.list(workspaceOf(request)));
  });
  router.post(`${WORKSPACE}/webhooks`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    const input = parseInput(createWebhookSchema, request.body);
    response.status(201).json(await webhooks.create(workspaceOf(request), request.user!.userId, input));
  });
  router.get(`${WORKSPACE}/webhooks/:webhookId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await webhooks.get(workspaceOf(request), String(request.params.webhookId)));
  });
  router.delete(`${WORKSPACE}/webhooks/:webhookId`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    await webhooks.remove(workspaceOf(request), String(request.params.webhookId));
    response.status(204).end();
  });
  router.get(`${WORKSPACE}/webhooks/:webhookId/deliveries`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.json(await webhooks.deliveries(workspaceOf(request), String(request.params.webhookId)));
  });
  router.post(`${WORKSPACE}/webhooks/:webhookId/test`, authenticate, requireWorkspaceRole('admin'), async (request, response) => {
    response.status(202).json(await webhooks.sendTest(workspaceOf(request), String(request.params.webhookId)));
  });
  return router;
}
