// The one typed error every provider failure is rewritten to before it leaves the provider layer.
import type { ProviderId, Usage } from './llm.types';

export type LlmErrorKind =
  | 'auth'
  | 'rate_limit'
  | 'quota'
  | 'overloaded'
  | 'server'
  | 'timeout'
  | 'network'
  | 'bad_request'
  | 'context_length'
  | 'aborted';

const RETRYABLE_KINDS: ReadonlySet<LlmErrorKind> = new Set(['rate_limit', 'overloaded', 'server', 'timeout', 'network']);

export interface PartialOutput {
  content: string;
  usage: Usage;
  /** The cut came after the model had started calling tools. */
  toolCalls?: boolean;
}

export interface LlmCallErrorInit {
  kind: LlmErrorKind;
  provider: ProviderId;
  message: string;
  status?: number;
  retryAfterMs?: number;
  providerRequestId?: string;
  /** A stream cut after some output: what was produced and its estimated usage (`toolCalls`: it was inside tool calls). */
  partial?: PartialOutput;
  cause?: unknown;
}

export class LlmCallError extends Error {
  readonly kind: LlmErrorKind;
  readonly provider: ProviderId;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly providerRequestId: string | undefined;
  readonly partial: PartialOutput | undefined;

  constructor(init: LlmCallErrorInit) {
    super(init.message, { cause: init.cause });
    this.name = 'LlmCallError';
    this.kind = init.kind;
    this.provider = init.provider;
    this.status = init.status;
    this.retryable = RETRYABLE_KINDS.has(init.kind);
    this.retryAfterMs = init.retryAfterMs;
    this.providerRequestId = init.providerRequestId;
    this.partial = init.partial;
  }
}

export function isLlmCallError(error: unknown): error is LlmCallError {
  return error instanceof LlmCallError;
}
