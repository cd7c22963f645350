// What the agent domain needs from the services below it, declared here and wired in server/platform.ts. The domain
// speaks these interfaces, not the concrete router, meter, limits, alerts or provider routes.
import type { ChatRequest, GenerateResult, ProviderId } from '../server/llm/llm.types';
import type { AttemptReport, CredentialSource, RouteTarget, StreamSession } from '../server/llm/llm-router';
import type { MeterEventInput } from '../server/metering/meter.types';
import type { AlertType, MeteredAgentRecord } from '../server/metering/metering.models';
import type { Reservation, ReservationRequest } from '../server/metering/limits.service';
import type { EndUserReservation } from '../server/metering/end-user-limits.service';
import type { SecretBinding, SealedSecret } from '../server/vault/vault.service';
import type { AgentDocument, KeyStatus } from './agent.model';
import type { KeyStatusSource } from './key-health.model';
import type { PlanChangeInput } from '../server/metering/billing/plan-history';

export type { Reservation, EndUserReservation };

export type ByokCredential = Extract<CredentialSource, { kind: 'byok' }>;
export type RouteEndpoint = Omit<RouteTarget, 'model' | 'maxTokens'>;

export interface RoutedCallInput {
  targets: RouteTarget[];
  request: Omit<ChatRequest, 'model' | 'maxTokens'>;
  signal: AbortSignal;
  deadlineAt: number;
  onAttempt(report: AttemptReport): void;
}

/** Calls a provider with retries and failover (server/llm/llm-router.ts). */
export interface LlmCalls {
  generate(call: RoutedCallInput): Promise<{ result: GenerateResult; target: RouteTarget }>;
  openStream(call: RoutedCallInput): Promise<StreamSession>;
}

/** Where a provider call goes (server/llm/provider-routes.ts). */
export interface ProviderRouting {
  byok(provider: ProviderId, credential: ByokCredential, customBaseUrl: string | undefined): RouteEndpoint;
  pooled(provider: ProviderId): RouteEndpoint | undefined;
  checkKey(target: RouteTarget & { credential: ByokCredential }): Promise<void>;
  /** experience (#18): a sandbox key's calls on the built-in simulator; undefined when no simulator runs. */
  sandboxByok(provider: ProviderId, credential: ByokCredential): RouteEndpoint | undefined;
}

/** The post-call hook: every attempt that produced tokens is one meter event (server/metering/meter.service.ts). */
export interface UsageMeter {
  isFull(): boolean;
  record(event: MeterEventInput): void;
  recordError(input: { workspaceId: string; agentId: string; mode: 'byok' | 'managed'; plan: string | null; timestamp: Date }): void;
}

/** The pre-call hook: reserves the call's worst case against a cap or budget (server/metering/limits.service.ts). */
export interface UsageLimits {
  reserve(agent: MeteredAgentRecord, request: ReservationRequest): Promise<Reservation | undefined>;
  release(reservation: Reservation): Promise<void>;
}

/** The per-end-user monthly token cap (server/metering/end-user-limits.service.ts) (publish). */
export interface EndUserLimits {
  reserve(agent: AgentDocument, endUser: string, tokens: number): Promise<EndUserReservation | undefined>;
  release(reservation: EndUserReservation): Promise<void>;
}

/** Opens a sealed provider key for one call (server/vault/vault.service.ts). */
export interface KeyOpener {
  open(sealed: SealedSecret, binding: SecretBinding): string;
}

/** Raises an owner-facing alert (server/metering/alert.service.ts). */
export interface AgentAlerts {
  raise(input: { workspaceId: string; agentId: string | null; type: AlertType; message: string; incident?: string }): Promise<unknown>;
}

/** Records what the provider said of an agent's key (agents/agent.service.ts). */
export interface KeyHealth {
  recordKeyStatus(agentId: string, status: KeyStatus, source?: KeyStatusSource): Promise<void>;
}

/** Each agent's tokens so far this month, to price an answer when it is sent (server/metering/month-to-date-tokens.ts). */
export interface MonthToDate {
  isKnown(agentId: string, month: string): boolean;
  load(agentId: string, agentObjectId: unknown, month: string): Promise<void>;
  take(agentId: string, month: string, tokens: number): number | undefined;
}

// ---- cost-aware routing (#14) ----

/** How much of an agent's monthly limit is used, 0..1+ (server/metering/limit-headroom.ts). */
export interface LimitReading {
  usedFraction(agent: MeteredAgentRecord): Promise<number>;
}

/**
 * Plan history (server/metering/billing/plan-history.ts): every change of an agent's LLM setting, pause/resume,
 * creation and deletion, with its time and actor. The billing rule (docs/BILLING.md) reads nothing else.
 */
export interface PlanHistoryRecorder {
  record(change: PlanChangeInput): Promise<void>;
}
