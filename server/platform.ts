// The composition root: builds every service from the config, wires the hooks, and starts/stops the HTTP server.
import http from 'node:http';
import { Types } from 'mongoose';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Config } from './config/config';
import { isSandboxedProvider } from './config/config';
import { POOLED_PROVIDER_IDS } from './config/provider-ids';
import type { Logger } from './logger';
import { loadCatalog, type Catalog } from './catalog/catalog.service';
import { connectDatabase, type Database } from './db/database';
import { createModels, type Models } from './platform-models';
import { runMigrations } from '../migrations/migration-runner';
import { createVault } from './vault/vault.service';
import { TokenService } from './auth/token.service';
import { AuthService } from './auth/auth.service';
import { SessionService } from './auth/session.service';
import { PasswordResetService } from './auth/password-reset.service';
import { createAuthenticateMiddleware } from './auth/authenticate.middleware';
import { WorkspaceService } from './workspaces/workspace.service';
import { createWorkspaceAccess } from './http/middleware/workspace-access.middleware';
import { TemplateService } from '../agents/template.service';
import { AgentService } from '../agents/agent.service';
import { AgentRunner } from '../agents/agent-runner';
import { isByokSandboxAvailable } from '../agents/byok-sandbox';
import { OUTAGE_WINDOW_MS, ProviderOutages } from '../agents/provider-outages';
import { AgentHealthService } from '../agents/agent-health';
import { KeyPretest } from '../agents/key-pretest';
import { createKeyTestRouter } from './http/routers/key-test.router';
import { LlmRouter, DEFAULT_RETRY_POLICY, type RetryPolicy } from './llm/llm-router';
import type { SimulatorHandle } from './llm/simulator';
import { createKeepAliveFetch } from './llm/keep-alive-fetch';
import { ProviderRoutes } from './llm/provider-routes';
import { MeterService, type MeterOptions } from './metering/meter.service';
import { MeterSpool, type MeterSpoolOptions } from './metering/meter-spool';
import { LimitsService } from './metering/limits.service';
import { MonthToDateTokens } from './metering/month-to-date-tokens';
import { AlertService } from './metering/alert.service';
import { UsageService } from './metering/usage.service';
import { UsageLivePublisher } from './metering/usage-live-publisher';
import { applyMeterEventRetention } from './metering/event-retention';
import { createRealtime, type Realtime } from './realtime/realtime.server';
import { createApp } from './http/app';
import { createAuthRouter, type AuthRateLimits } from './http/routers/auth.router';
import { createCatalogRouter } from './http/routers/catalog.router';
import { createWorkspacesRouter } from './http/routers/workspaces.router';
import { createAgentsRouter } from './http/routers/agents.router';
import { createChatRouter } from './http/routers/chat.router';
import { createOpenAiCompatibleApi } from './http/openai-compatible-api';
import { createUsageRouter } from './http/routers/usage.router';
import { PlanHistoryService } from './metering/billing/plan-history';
import { StatementService, type StatementServiceOptions } from './metering/billing/statement.service';
import { StatementCloseJob } from './metering/billing/statement-close-job';
import type { StatementEvents } from './metering/billing/statement-events';
import { createStatementsRouter } from './http/routers/statements.router';
// Response cache, A/B experiments, side-by-side comparison (cache)
import { ResponseCacheService } from '../agents/response-cache.service';
import { ResponseCacheSettings } from '../agents/response-cache-settings';
import { chooseVectorIndex } from '../agents/vector-index';
import { ExperimentService } from '../agents/experiment.service';
import { ModelComparison } from '../agents/model-comparison';
import { UsageSplitsService } from './metering/usage-splits.service';
import { createExperimentsRouter } from './http/routers/experiments.router';
import '../server/http/express-request.types';
// alerts: thresholds, webhooks, key health
import { AlertThresholds } from './metering/alert-thresholds';
import { recentlyUsedByokAgents } from './metering/recent-usage';
import { WebhookService } from './webhooks/webhook.service';
import { WebhookDeliveryWorker, type DeliveryPolicy } from './webhooks/webhook-delivery.worker';
import { KeyHealthService, type KeyCheckPolicy } from '../agents/key-health.service';
import { createAlertsSettingsRouter } from './http/routers/alerts-settings.router';
import { createKeyHealthRouter } from './http/routers/key-health.router';
// Cost-aware routing (#14)
import { createRoutingRouter } from './http/routers/routing.router';
import { LimitHeadroom } from './metering/limit-headroom';
import { RoutingStickiness } from './llm/routing-stickiness';
// Activity log, invites, usage views, API reference (experience-b)
import type express from 'express';
import { ActivityService } from './metering/activity.service';
import { UsageViewsService } from './metering/usage-views.service';
import { InviteService } from './workspaces/invite.service';
import { createInviteMailer } from './workspaces/invite-mailer';
import { createActivityRouter } from './http/routers/activity.router';
import { createInvitesRouter } from './http/routers/invites.router';
import { createUsageViewsRouter } from './http/routers/usage-views.router';
import { createApiDocsRouter } from './http/routers/api-docs.router';
// publish: share links, the embeddable chat, conversations, end-user usage and caps, workspace templates
import { EndUserLimitsService } from './metering/end-user-limits.service';
import { EndUserUsageService } from './metering/end-user-usage.service';
import { PublishingService } from '../agents/publishing.service';
import { ConversationService } from '../agents/conversation.service';
import { ConversationChat } from '../agents/conversation-chat';
import { WorkspaceTemplateService } from '../agents/workspace-template.service';
import { VisitorLimits, DEFAULT_PUBLIC_CHAT_LIMITS, type PublicChatLimits } from '../agents/visitor-limits';
import { createPublicChatRouter } from './http/routers/public-chat.router';
import { createPublishingRouter } from './http/routers/publishing.router';
// memory (#20): the young generation given back when the server goes quiet
import { startIdleMemoryTrim } from './idle-memory';

/** The repository root (where package.json is), whether running from source or from dist/. */
export const PROJECT_ROOT = (() => {
  let directory = __dirname;
  while (!fs.existsSync(path.join(directory, 'package.json')) && path.dirname(directory) !== directory) directory = path.dirname(directory);
  return directory;
})();

export interface PlatformOptions {
  config: Config;
  logger: Logger;
  /** Database name inside the server (tests use one per suite). */
  databaseName?: string;
  /** Use this simulator for sandboxed plans instead of starting one. */
  simulator?: SimulatorHandle;
  meterOptions?: Partial<MeterOptions>;
  /** The meter's crash spool in DATA_DIR/meter-spool (default: on, `batch` sync); false: memory only. */
  meterSpool?: Partial<Omit<MeterSpoolOptions, 'directory'>> | false;
  retryPolicy?: Partial<RetryPolicy>;
  authRateLimits?: Partial<AuthRateLimits>;
  realtimeCoalesceMs?: number;
  runMigrationsOnStart?: boolean;
  /** How long stop() lets in-flight requests finish before it cuts them (default 10 s). */
  drainTimeoutMs?: number;
  /** alerts: webhook retry policy (tests use short delays). */
  webhookDelivery?: Partial<DeliveryPolicy>;
  /** alerts: the background key checker's policy; false turns it off. */
  keyCheck?: Partial<KeyCheckPolicy> | false;
  /** alerts: how often alerts of past months are resolved (default 60 s). */
  alertSweepIntervalMs?: number;
  /** Monthly statements: grace after a month's end before it closes; false: no close job (tests close by hand). */
  statements?: Partial<StatementServiceOptions> & { closeJob?: false | { intervalMs: number } };
  /** Abuse limits of published chats (publish). */
  publicChatLimits?: Partial<PublicChatLimits>;
  /** memory (#20): full collections when the process goes quiet (server/idle-memory.ts); default: in production. */
  idleMemoryTrim?: boolean;
}

export interface Platform {
  config: Config;
  logger: Logger;
  database: Database;
  models: Models;
  catalog: Catalog;
  meter: MeterService;
  agents: AgentService;
  usage: UsageService;
  alerts: AlertService;
  webhooks: WebhookService;
  webhookDelivery: WebhookDeliveryWorker;
  keyHealth: KeyHealthService;
  httpServer: http.Server;
  simulator: SimulatorHandle | undefined;
  realtime: Realtime;
  url: string;
  /** The Express application (everything but /v1); the API reference test walks its router stack. */
  app: express.Express;
  /** Monthly statements; `statements.events.onStatementClosed(...)` is the hook for "statement closed" (webhooks). */
  statements: StatementService & { events: StatementEvents };
  stop(): Promise<void>;
}

function needsSimulator(config: Config): boolean {
  if (config.llmSandbox === 'off') return false;
  if (isByokSandboxAvailable(config)) return true; // experience (#18): BYOK sandbox keys
  return POOLED_PROVIDER_IDS.some((provider) => isSandboxedProvider(config, provider));
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const { config, logger } = options;
  const catalog = loadCatalog(config.catalogFile);
  const templates = new TemplateService(path.join(PROJECT_ROOT, 'templates'));
  const vault = await createVault(config.vaultKeys);
  const database = await connectDatabase(config, logger, { databaseName: options.databaseName });
  const models = createModels(database.connection);
  // In a worker cluster the primary ran them once before forking (server/worker-cluster.ts).
  if (options.runMigrationsOnStart ?? (!config.isProduction && config.workerSlot === undefined)) await runMigrations(database.connection, logger, models);
  await applyMeterEventRetention(database.connection.db!, models.MeterEvent.collection.collectionName, config.meterEventRetentionMonths, logger);

  let simulator = options.simulator;
  const ownsSimulator = !simulator && needsSimulator(config);
  if (ownsSimulator) {
    // Loaded only when a sandboxed plan needs it (it brings a tokenizer and every wire format).
    const { startProviderSimulator } = require('./llm/simulator') as typeof import('./llm/simulator');
    simulator = await startProviderSimulator({ host: '127.0.0.1', port: 0 });
  }

  // One keep-alive connection pool for every provider SDK, on undici's request() for the SDKs' plain calls (keep-alive-fetch.ts).
  // No cap on connections per provider origin: a stream holds its connection for its whole answer, so a cap queued every
  // call past it behind whole answers (1,000 streams at once: the 257th waited for a stream to end; #20, BENCHMARKS.md).
  const { fetch: keepAliveFetch, close: closeKeepAliveFetch } = createKeepAliveFetch({ keepAliveTimeoutMs: 10_000, connections: null });

  const tokens = new TokenService(config);
  const workspaces = new WorkspaceService(models);
  const sessions = new SessionService(models, tokens);
  const auth = new AuthService(models, sessions, workspaces, new PasswordResetService(models));
  const agents = new AgentService(models, config, catalog, templates, vault, workspaces);
  workspaces.onWorkspaceDeleting((workspaceId) => agents.removeAllInWorkspace(workspaceId));
  // Events an earlier process recorded but never wrote (it was killed) are replayed first, idempotently.
  // Each worker of a cluster has its own spool (its slot's: a restarted worker recovers what its predecessor left).
  const spoolDirectory = path.join(config.dataDir, (config.workerSlot ?? 1) > 1 ? `meter-spool-${config.workerSlot}` : 'meter-spool');
  const recoveredSpool = options.meterSpool === false ? undefined : MeterSpool.recover(spoolDirectory, logger);
  const spool = options.meterSpool === false ? undefined : new MeterSpool({ directory: spoolDirectory, sync: config.meterSpoolSync, ...options.meterSpool }, logger);
  const meter = new MeterService(models, logger, { flushIntervalMs: config.meterFlushIntervalMs, busyFlushIntervalMs: config.meterBusyFlushIntervalMs, spool, ...options.meterOptions });
  if (recoveredSpool) {
    meter.replay(recoveredSpool.items);
    MeterSpool.removeRecovered(recoveredSpool);
  }
  const limits = new LimitsService(models);
  const endUserLimits = new EndUserLimitsService(models);
  const alertThresholds = new AlertThresholds(models);
  const alerts = new AlertService(models, logger, alertThresholds);
  const webhooks = new WebhookService(models, vault, { allowPrivate: config.allowPrivateWebhookUrls });
  const webhookDelivery = new WebhookDeliveryWorker(models, vault, logger, { allowPrivate: config.allowPrivateWebhookUrls, policy: options.webhookDelivery });
  webhooks.onPublished(() => webhookDelivery.kick());
  alerts.onAlertEvent((event) => {
    void webhooks.publish({ type: event.type, workspaceId: event.workspaceId, id: `${event.type}:${event.alert.id}`, data: { alert: event.alert } })
      .catch((error) => logger.warn({ err: error }, 'could not queue webhook deliveries'));
  });
  agents.onAgentChanged((agentId) => {
    alertThresholds.agentChanged(agentId);
    void alerts.resolveForAgent(agentId).catch((error) => logger.warn({ err: error, agentId }, 'could not resolve alerts'));
  });
  workspaces.onWorkspaceDeleting((workspaceId) => webhooks.removeAllInWorkspace(workspaceId));
  // Usage reads reuse a workspace's agent list for 2 s (local changes drop it); with several instances (Redis) they
  // could miss another instance's change, so they read it every time.
  const usage = new UsageService(models, catalog, { agentListCacheMs: config.redisUrl ? 0 : 2_000 });
  agents.onAgentChanged(() => usage.agentsChanged());
  // experience (#18): agent health (provider outages seen by the runner) and the key test before an agent exists.
  // Shared by every instance and worker through provider_outages (written on down/up flips only, read by health reads).
  const outages = new ProviderOutages(OUTAGE_WINDOW_MS, { board: models.ProviderOutage.collection, onError: (error, what) => logger.warn({ err: error, what }, 'provider outage record failed') });
  const agentHealth = new AgentHealthService({ catalog, config, usage, outages });
  // Prices each answer (usage.cost) from the agent's month-to-date tokens; every written rollup keeps it current.
  const monthToDate = new MonthToDateTokens(models);
  meter.onRollupsChanged((changes) => monthToDate.observe(changes));
  // Billing: plan history recorded by the agent service; statements closed at start-up and on a timer (docs/BILLING.md).
  const planHistory = new PlanHistoryService(models);
  agents.usePlanHistory(planHistory);
  const statements = new StatementService(models, catalog, logger, options.statements);
  const statementCloseJob = options.statements?.closeJob === false ? undefined : new StatementCloseJob(statements, logger, options.statements?.closeJob?.intervalMs);
  // Response cache and A/B experiments (cache): semantic lookups on Atlas Vector Search when the deployment has it.
  const routing = new ProviderRoutes(config, { simulator, fetch: keepAliveFetch });
  const keyPretest = new KeyPretest({ settings: agents, catalog, routing }); // experience (#18)
  const vectors = await chooseVectorIndex(models.ResponseCacheEntry, logger, { dimensions: 256, load: ResponseCacheService.loader(models.ResponseCacheEntry) });
  const responseCache = new ResponseCacheService({ model: models.ResponseCacheEntry, catalog, routing, vault, meter, logger, vectors });
  const experiments = new ExperimentService({
    Experiment: models.Experiment,
    Feedback: models.Feedback,
    MeterEvent: models.MeterEvent,
    agents,
    catalog,
    templates,
    drainMeter: (timeoutMs) => meter.drain(timeoutMs),
  });
  // alerts: a closed statement is a webhook event.
  statements.events.onStatementClosed(async (event) => {
    await webhooks.publishStatementClosed(event);
  });
  const runner = new AgentRunner({
    outages,
    catalog,
    templates,
    vault,
    llm: new LlmRouter({ ...DEFAULT_RETRY_POLICY, ...options.retryPolicy }),
    routing,
    meter,
    limits,
    alerts,
    keyHealth: agents,
    logger,
    deadlineMs: config.llmDeadlineMs,
    stickiness: new RoutingStickiness(),
    headroom: new LimitHeadroom(models),
    monthToDate,
    responseCache,
    experiments,
    endUserLimits,
  });
  // publish
  const publishing = new PublishingService(models, workspaces);
  const conversations = new ConversationService(models);
  const conversationChat = new ConversationChat({ runner, conversations, templates, catalog });
  const workspaceTemplates = new WorkspaceTemplateService(models, templates, workspaces);
  agents.useWorkspaceTemplates((workspaceId, templateId) => workspaceTemplates.snapshotFor(workspaceId, templateId));
  // A deleted agent's kept conversations go with it (the change listener also fires on deletion).
  agents.onAgentChanged((agentId) => {
    void models.Agent.exists({ _id: agentId }).then((exists) => (exists ? undefined : conversations.removeForAgents([new Types.ObjectId(agentId)]))).catch(() => undefined);
  });
  const visitorLimits = new VisitorLimits(models, { ...DEFAULT_PUBLIC_CHAT_LIMITS, ...options.publicChatLimits }, (agentId, visitorId) => endUserLimits.tokensToday(agentId, visitorId));
  const keyCheckPolicy = options.keyCheck === false || config.keyCheckIntervalHours === 0 ? undefined : { intervalMs: config.keyCheckIntervalHours * 3_600_000, ...options.keyCheck };
  const keyHealth = new KeyHealthService(
    {
      models,
      recentlyUsedByokAgents: (since) => recentlyUsedByokAgents(models, since),
      checkKey: (agent, source) => runner.testConnection(agent, source),
      logger,
    },
    keyCheckPolicy,
  );
  agents.onKeyStatusChanged(keyHealth.recordChange);

  // Activity log, invites, usage views (experience-b)
  const activity = new ActivityService(models);
  const usageViews = new UsageViewsService(models);
  const inviteMailer = createInviteMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, onError: (error) => logger.warn({ code: (error as { code?: string }).code ?? 'unknown' }, 'invite mail could not be sent') });
  const invites = new InviteService(models, workspaces, inviteMailer, { lifetimeDays: config.inviteLifetimeDays, publicUrl: config.publicUrl });

  const authenticate = createAuthenticateMiddleware(config, sessions);
  const requireWorkspaceRole = createWorkspaceAccess(workspaces);
  const authRateLimits: AuthRateLimits = { loginFailuresPerWindow: 10, registrationsPerWindow: 30, windowMs: 15 * 60_000, ...options.authRateLimits };
  const app = createApp({
    logger,
    jsonBodyLimit: config.jsonBodyLimit,
    trustProxy: config.trustProxy,
    isDatabaseUp: () => database.isUp(),
    clientDirectory: path.join(PROJECT_ROOT, 'client', 'dist'),
    routers: [
      createCatalogRouter(catalog, templates, config),
      createAuthRouter(auth, sessions, authenticate, authRateLimits),
      createWorkspacesRouter(workspaces, authenticate, requireWorkspaceRole),
      createAgentsRouter(
        agents,
        { testConnection: async (workspaceId, agentId) => runner.testConnection(await agents.getRecord(workspaceId, agentId)) },
        authenticate,
        requireWorkspaceRole,
        agentHealth,
      ),
      createKeyTestRouter(keyPretest, authenticate, requireWorkspaceRole),
      createChatRouter(agents, runner, authenticate, requireWorkspaceRole),
      createUsageViewsRouter(usageViews, catalog, authenticate, requireWorkspaceRole),
      createUsageRouter(usage, alerts, authenticate, requireWorkspaceRole),
      createAlertsSettingsRouter(alertThresholds, webhooks, authenticate, requireWorkspaceRole),
      createKeyHealthRouter(keyHealth, authenticate, requireWorkspaceRole),
      createRoutingRouter(agents, usage, new UsageSplitsService(models), authenticate, requireWorkspaceRole),
      // experience-b
      createActivityRouter(activity, authenticate, requireWorkspaceRole),
      createInvitesRouter(invites, authenticate, requireWorkspaceRole),
      createApiDocsRouter(),
      createStatementsRouter(statements, planHistory, async (workspaceId) => (await models.Workspace.findById(workspaceId, { name: 1 }).lean())?.name ?? 'Workspace', authenticate, requireWorkspaceRole),
      createExperimentsRouter(
        {
          cacheSettings: new ResponseCacheSettings(agents, responseCache),
          experiments,
          comparison: new ModelComparison({ runner, agents, catalog }),
          usageSplits: new UsageSplitsService(models),
        },
        authenticate,
        requireWorkspaceRole,
      ),
      // publish
      createPublicChatRouter({ publishing, chat: conversationChat, conversations, visitorLimits, widgetDirectory: path.join(PROJECT_ROOT, 'client', 'dist', 'widget') }),
      createPublishingRouter({ agents, publishing, conversations, chat: conversationChat, endUserUsage: new EndUserUsageService(models), workspaceTemplates }, authenticate, requireWorkspaceRole),
    ],
  });

  // /v1 (the hot path) is served on node:http directly; everything else goes through Express.
  const openAiApi = createOpenAiCompatibleApi(agents, runner, { logger, jsonBodyLimit: config.jsonBodyLimit });
  const httpServer = http.createServer(openAiApi.requestListener(app));
  httpServer.keepAliveTimeout = 65_000;
  const realtime = await createRealtime({
    httpServer,
    verifyUserToken: (token) => sessions.verify(token),
    isSessionActive: (session) => sessions.isActive(session),
    isWorkspaceMember: async (userId, workspaceId) => (await workspaces.findRole(userId, workspaceId)) !== undefined,
    redisUrl: config.redisUrl,
    logger,
    coalesceIntervalMs: options.realtimeCoalesceMs,
  });

  const livePublisher = new UsageLivePublisher(usage, (update) => {
    for (const agentRow of update.agents) realtime.publishUsage({ workspaceId: update.workspaceId, month: update.month, agentRow, totals: update.totals });
  }, logger, { hasListeners: (workspaceId) => realtime.hasListeners(workspaceId) });
  const agentNames = async (agentId: string) => (await models.Agent.findById(agentId, { name: 1 }).lean())?.name ?? 'An agent';
  meter.onRollupsChanged((changes) => {
    livePublisher.onRollupsChanged(changes);
    void alerts.raiseForRollupChanges(changes, agentNames);
  });
  alerts.setPublisher((workspaceId, alert) => realtime.publishAlert(workspaceId, alert));
  workspaces.onMembershipRemoved(({ workspaceId, userId }) => realtime.leaveWorkspace(workspaceId, userId));
  sessions.onSessionsEnded((ended) => realtime.endSessions(ended));

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(config.port, config.host, () => resolve());
  });
  const address = httpServer.address() as AddressInfo;
  const url = `http://127.0.0.1:${address.port}`;
  // Background work off the request path: webhook deliveries, key checks, alerts of months that ended.
  webhookDelivery.start();
  if (keyCheckPolicy) keyHealth.start();
  const alertSweep = setInterval(() => void alerts.resolvePastMonths().catch((error) => logger.warn({ err: error }, 'could not resolve past alerts')), options.alertSweepIntervalMs ?? 60_000);
  alertSweep.unref();
  logger.info({ port: address.port, database: database.mode, sandbox: Boolean(simulator) }, 'Agent Host listening');
  statementCloseJob?.start();
  const idleMemory = (options.idleMemoryTrim ?? config.isProduction) ? startIdleMemoryTrim() : undefined;

  let stopping: Promise<void> | undefined;
  const drainTimeoutMs = options.drainTimeoutMs ?? 10_000;
  const stop = () =>
    (stopping ??= (async () => {
      // Stop accepting, let in-flight requests finish, flush the meter, then close the database.
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      // Keep-alive connections become idle as their last response ends: close them as they do.
      const idleSweeper = setInterval(() => httpServer.closeIdleConnections(), 50);
      httpServer.closeIdleConnections();
      let drainTimer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'deadline'>((resolve) => (drainTimer = setTimeout(() => resolve('deadline'), drainTimeoutMs)));
      // Socket.IO's close also waits for the HTTP server's connections, so it races the deadline too.
      const finished = Promise.all([closed, realtime.close().catch(() => undefined)]);
      if ((await Promise.race([finished.then(() => 'closed' as const), deadline])) === 'deadline') {
        // Cut what is still running the way a client hang-up does, so each call meters what it streamed so far,
        // and let the cut streams end their responses before the connections go.
        const cut = runner.abortInFlight(new Error('the server is shutting down'));
        logger.warn({ calls: cut }, 'drain deadline reached: cutting the calls still in flight');
        await runner.whenIdle(5_000);
        // The cut responses end just after their metering: their connections go idle and are closed by the sweeper.
        let graceTimer: NodeJS.Timeout | undefined;
        await Promise.race([finished, new Promise((resolve) => (graceTimer = setTimeout(resolve, 1_000)))]);
        clearTimeout(graceTimer);
        httpServer.closeAllConnections();
        await finished;
      }
      clearTimeout(drainTimer);
      clearInterval(idleSweeper);
      // A call whose client left is aborted, but its metering finishes a moment later: wait for it before flushing.
      if (!(await runner.whenIdle(5_000))) logger.error({ calls: runner.callsInFlight }, 'calls still in flight at shutdown; their meter events may be missing');
      livePublisher.close();
      idleMemory?.stop();
      clearInterval(alertSweep);
      await keyHealth.stop();
      await webhookDelivery.stop();
      await statementCloseJob?.stop();
      // Response cache (cache): its answers still being written and its hit counts.
      await responseCache.stop();
      await meter.stop();
      inviteMailer.close();
      await closeKeepAliveFetch().catch(() => undefined);
      if (ownsSimulator) await simulator?.close();
      await database.close();
      logger.info('Agent Host stopped');
    })());

  return { config, logger, database, models, catalog, meter, agents, usage, alerts, webhooks, webhookDelivery, keyHealth, httpServer, simulator, realtime, url, app, statements, stop };
}
