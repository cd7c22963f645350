// The LLM router: one retry loop (SDK retries are off), key pools with cooldown, managed failover, all inside one deadline.
// It knows nothing about money: every attempt is reported through `onAttempt`, and the caller meters it.
import { LlmCallError, isLlmCallError } from './llm-call.error';
import type { ChatRequest, GenerateResult, ProviderId, StreamEvent, Usage } from './llm.types';
import type { KeyPool } from './key-pool';
import { getProviderAdapter } from './providers/provider-registry';
import { StagedEvents, startingWith } from './staged-events';
import { readsJsonAnswersWhole } from './keep-alive-fetch';

export type CredentialSource =
  | { kind: 'byok'; reference: string; open(): string }
  | { kind: 'pool'; pool: KeyPool };

export interface RouteTarget {
  provider: ProviderId;
  model: string;
  baseUrl: string;
  credential: CredentialSource;
  sandbox: boolean;
  maxTokens: number;
  fetch?: typeof fetch;
}

export type AttemptStatus = 'ok' | 'partial' | 'error' | 'timeout';

export interface AttemptReport {
  attempt: number;
  provider: ProviderId;
  model: string;
  credentialReference: string;
  sandbox: boolean;
  latencyMs: number;
  status: AttemptStatus;
  /** Set when the attempt produced tokens (a success, or a stream cut after some output). */
  usage?: Usage;
  errorKind?: LlmCallError['kind'];
  /** The model called tools (a cut stream: it had started to). */
  toolCalls?: boolean;
}

export interface RoutedCall {
  targets: RouteTarget[];
  request: Omit<ChatRequest, 'model' | 'maxTokens'>;
  signal: AbortSignal;
  deadlineAt: number;
  onAttempt(report: AttemptReport): void;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A retry-after longer than this is not waited for: the caller gets a 429 with the provider's Retry-After. */
  maxRetryAfterMs: number;
  attemptTimeoutMs: number;
  /** Once a stream has started answering: the longest silence between its events before it is cut (default attemptTimeoutMs). */
  streamIdleTimeoutMs?: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 4000,
  maxRetryAfterMs: 20_000,
  attemptTimeoutMs: 30_000,
};

/** Platform keys that fail auth or quota are taken out of rotation for this long. */
const BROKEN_POOL_KEY_COOLDOWN_MS = 10 * 60_000;
const DEFAULT_RATE_LIMIT_COOLDOWN_MS = 5_000;
const DEFAULT_SERVER_ERROR_COOLDOWN_MS = 2_000;

export interface StreamSession {
  target: RouteTarget;
  events: AsyncIterableIterator<StreamEvent>;
}

interface LeasedCredential {
  apiKey: string;
  reference: string;
}

function sleep(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function attemptReport(
  target: RouteTarget,
  credential: LeasedCredential,
  attempt: number,
  startedAt: number,
  status: AttemptStatus,
  usage?: Usage,
  errorKind?: LlmCallError['kind'],
): AttemptReport {
  return {
    attempt,
    provider: target.provider,
    model: target.model,
    credentialReference: credential.reference,
    sandbox: target.sandbox,
    latencyMs: Date.now() - startedAt,
    status,
    usage,
    errorKind,
  };
}

/**
 * One attempt's signal: aborts when the call's signal does or when the attempt times out (like
 * `AbortSignal.any([call.signal, AbortSignal.timeout(ms)])`), but can be released as soon as the attempt is over.
 * With `AbortSignal.any` + `AbortSignal.timeout`, the abort listener each SDK adds kept every finished attempt
 * (signals, SDK controllers) reachable until its timer fired, a minute later: heap that grew with the request rate.
 * A stream that has started answering switches to an idle timeout (`streaming`; `touch` notes each event's time):
 * a long answer is not cut while it keeps coming, a provider that goes silent still is.
 */
export interface AttemptSignal {
  signal: AbortSignal;
  release(): void;
  streaming(idleTimeoutMs: number): void;
  touch(): void;
}

function attemptSignalFor(callSignal: AbortSignal, timeoutMs: number): AttemptSignal {
  const controller = new AbortController();
  const onCallAbort = () => controller.abort(callSignal.reason);
  const timedOut = () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError'));
  let timer = setTimeout(timedOut, timeoutMs);
  timer.unref();
  let idleTimeoutMs = 0;
  // Streaming: one timer for the whole stream; each event only notes its time (no timer work per delta, #20), and the
  // timer, when it fires, waits out the rest of the idle time since the last event.
  let lastEventAt = 0;
  let released = false;
  const idleCheck = () => {
    const idleFor = performance.now() - lastEventAt;
    if (idleFor >= idleTimeoutMs) return timedOut();
    timer = setTimeout(idleCheck, idleTimeoutMs - idleFor);
    timer.unref();
  };
  if (callSignal.aborted) onCallAbort();
  else callSignal.addEventListener('abort', onCallAbort, { once: true });
  return {
    signal: controller.signal,
    release() {
      released = true;
      clearTimeout(timer);
      callSignal.removeEventListener('abort', onCallAbort);
    },
    streaming(idleMs) {
      if (released) return;
      // The attempt's whole-answer timeout gives way to the idle one between events.
      clearTimeout(timer);
      idleTimeoutMs = idleMs;
      lastEventAt = performance.now();
      timer = setTimeout(idleCheck, idleMs);
      timer.unref();
    },
    touch() {
      lastEventAt = performance.now();
    },
  };
}

const keepArmed = () => undefined;

/**
 * A plain (non-stream) attempt on the platform's keep-alive fetch runs on the call's own signal, with no controller
 * of its own: every adapter hands `timeoutMs` to its SDK (Mistral: its own timer), that SDK aborts and reports a
 * timeout when it passes, and this fetch resolves a JSON answer only once it is whole, so the SDK's timeout bounds
 * the whole attempt (a non-JSON or encoded answer stalling after its headers is left to the connection's body
 * timeout). An AbortController per attempt cost more than it looks: in Node 20 every AbortSignal gets a hidden
 * class of its own in V8's old space and is promoted with what it references, ~1 KiB of old generation per call
 * (docs/BENCHMARKS.md, gateway overhead, round 3). Streams keep attemptSignalFor (their idle timeout is ours).
 */
function callSignalAttempt(callSignal: AbortSignal): AttemptSignal {
  return { signal: callSignal, release: keepArmed, streaming: keepArmed, touch: keepArmed };
}

function toLlmCallError(error: unknown, provider: ProviderId, signal: AbortSignal): LlmCallError {
  if (isLlmCallError(error)) return error;
  if (signal.aborted) return new LlmCallError({ kind: 'aborted', provider, message: 'The request was cancelled.' });
  return new LlmCallError({ kind: 'network', provider, message: 'The provider call failed unexpectedly.', cause: error });
}

export class LlmRouter {
  constructor(private readonly policy: RetryPolicy = DEFAULT_RETRY_POLICY) {}

  async generate(call: RoutedCall): Promise<{ result: GenerateResult; target: RouteTarget }> {
    return this.runWithRetries(call, { keepSignalOnSuccess: false, plain: true }, async (target, credential, attempt, attemptSignal, startedAt) => {
      const adapter = getProviderAdapter(target.provider);
      // Object.assign, not `{ ...call.request, model }`: a literal that starts with a spread gets a hidden class of
      // its own per call in optimized code (V8 11), an old-generation object per call (docs/BENCHMARKS.md, round 3).
      const result = await adapter.generate(
        Object.assign({}, call.request, { model: target.model, maxTokens: target.maxTokens }),
        { apiKey: credential.apiKey, baseUrl: target.baseUrl, signal: attemptSignal, timeoutMs: this.attemptTimeout(call), fetch: target.fetch },
      );
      const report = attemptReport(target, credential, attempt, startedAt, 'ok', result.usage);
      if (result.toolCalls?.length) report.toolCalls = true;
      call.onAttempt(report);
      return { result, target };
    });
  }

  /**
   * Opens a stream and pulls it up to its first output, retrying and failing over until then.
   * Errors before any output are thrown here (the caller can still answer with a JSON error);
   * a cut after output is reported as a partial attempt and rethrown from `events`.
   */
  async openStream(call: RoutedCall): Promise<StreamSession> {
    // The stream is read after this returns: its attempt signal stays armed (caller abort, timeout) until the stream
    // ends; once it has answered, the timeout is an idle one between events (a long answer is not cut).
    const idleTimeoutMs = this.policy.streamIdleTimeoutMs ?? this.policy.attemptTimeoutMs;
    return this.runWithRetries(call, { keepSignalOnSuccess: true }, async (target, credential, attempt, attemptSignal, startedAt, attemptTimer) => {
      const adapter = getProviderAdapter(target.provider);
      const iterator = adapter
        .stream(
          { ...call.request, model: target.model, maxTokens: target.maxTokens },
          { apiKey: credential.apiKey, baseUrl: target.baseUrl, signal: attemptSignal, timeoutMs: this.attemptTimeout(call), fetch: target.fetch },
        )
        [Symbol.asyncIterator]();
      const first = await iterator.next();
      let toolCalls = !first.done && first.value.type === 'tool_call';
      const report = (status: AttemptStatus, usage?: Usage, errorKind?: LlmCallError['kind'], cutInToolCall?: boolean) => {
        const attemptReported = attemptReport(target, credential, attempt, startedAt, status, usage, errorKind);
        if (toolCalls || cutInToolCall) attemptReported.toolCalls = true;
        call.onAttempt(attemptReported);
      };
      if (!first.done && first.value.type === 'end') report('ok', first.value.usage);
      attemptTimer.streaming(idleTimeoutMs);
      // The events as a stage of one iterator (staged-events.ts, #20), not a generator step per delta: the first
      // (already read) goes out as it is; each later one notes its time for the idle timeout and reports the attempt
      // at its end; a failure is reported as a partial attempt (or a timeout) and handed on as an LlmCallError.
      let handedFirst = false;
      const events = StagedEvents.through<StreamEvent, StreamEvent>({ [Symbol.asyncIterator]: () => startingWith(first, iterator) }, {
        event(value) {
          if (!handedFirst) {
            handedFirst = true;
            return value;
          }
          attemptTimer.touch();
          if (value.type === 'tool_call') toolCalls = true;
          else if (value.type === 'end') report('ok', value.usage);
          return value;
        },
        last: (value) => value.type === 'end',
        failed(error) {
          const failure = toLlmCallError(error, target.provider, attemptSignal);
          report(failure.kind === 'timeout' ? 'timeout' : 'partial', failure.partial?.usage, failure.kind, failure.partial?.toolCalls);
          return failure;
        },
        finished: () => attemptTimer.release(),
      });
      return { target, events };
    });
  }

  private attemptTimeout(call: RoutedCall): number {
    return Math.max(1, Math.min(this.policy.attemptTimeoutMs, call.deadlineAt - Date.now()));
  }

  private backoff(retryNumber: number): number {
    const ceiling = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** retryNumber);
    return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // jitter in [ceiling/2, ceiling]
  }

  private lease(target: RouteTarget, exclude: Set<string>): LeasedCredential | undefined {
    if (target.credential.kind === 'byok') return { apiKey: target.credential.open(), reference: target.credential.reference };
    return target.credential.pool.lease(exclude);
  }

  private async runWithRetries<T>(
    call: RoutedCall,
    /** `plain`: a non-stream call, whose attempts on the keep-alive fetch need no signal of their own (callSignalAttempt). */
    options: { keepSignalOnSuccess: boolean; plain?: boolean },
    attemptOnce: (target: RouteTarget, credential: LeasedCredential, attempt: number, signal: AbortSignal, startedAt: number, timer: AttemptSignal) => Promise<T>,
  ): Promise<T> {
    const { targets } = call;
    const managed = targets[0]?.credential.kind === 'pool';
    let targetIndex = 0;
    let attempts = 0;
    let waits = 0;
    let lastError: LlmCallError | undefined;
    const failedKeys = new Set<string>();

    while (attempts < this.policy.maxAttempts) {
      const target = targets[targetIndex]!;
      let credential = this.lease(target, failedKeys);
      if (!credential && target.credential.kind === 'pool') {
        // Every key of this backend is cooling down (or broken): fail over, or wait for the first one if it fits.
        if (targetIndex + 1 < targets.length) {
          targetIndex += 1;
          continue;
        }
        const wait = Math.min(...targets.map((candidate) => (candidate.credential.kind === 'pool' ? candidate.credential.pool.msUntilAvailable() : 0)));
        if (!this.canWait(wait, call)) break;
        await sleep(wait, call.signal);
        waits += 1;
        failedKeys.clear();
        targetIndex = 0;
        continue;
      }
      credential = credential!;
      attempts += 1;
      const startedAt = Date.now();
      const attemptSignal = options.plain && readsJsonAnswersWhole(target.fetch) ? callSignalAttempt(call.signal) : attemptSignalFor(call.signal, this.attemptTimeout(call) + 1000);
      try {
        const result = await attemptOnce(target, credential, attempts, attemptSignal.signal, startedAt, attemptSignal);
        if (!options.keepSignalOnSuccess) attemptSignal.release();
        return result;
      } catch (error) {
        attemptSignal.release();
        let failure = toLlmCallError(error, target.provider, call.signal);
        if (failure.kind === 'aborted' && !call.signal.aborted) {
          // Our own per-attempt deadline fired, not the caller: that is a timeout, and retryable.
          failure = new LlmCallError({ kind: 'timeout', provider: target.provider, message: 'The provider did not answer in time.', cause: failure });
        }
        lastError = failure;
        const status: AttemptStatus = failure.kind === 'timeout' ? 'timeout' : failure.partial ? 'partial' : 'error';
        const failedReport = attemptReport(target, credential, attempts, startedAt, status, failure.partial?.usage, failure.kind);
        if (failure.partial?.toolCalls) failedReport.toolCalls = true;
        call.onAttempt(failedReport);
        if (failure.kind === 'aborted' || call.signal.aborted) throw failure;

        if (target.credential.kind === 'pool') {
          const pool = target.credential.pool;
          if (failure.kind === 'auth' || failure.kind === 'quota') {
            // A broken platform key is our problem, not the customer's: take it out and try the next one.
            pool.coolDown(credential.reference, BROKEN_POOL_KEY_COOLDOWN_MS);
            failedKeys.add(credential.reference);
            if (pool.lease(failedKeys)) continue;
            if (targetIndex + 1 < targets.length) {
              targetIndex += 1;
              continue;
            }
            break;
          }
          if (failure.retryable) {
            const cooldown = failure.retryAfterMs ?? (failure.kind === 'rate_limit' ? DEFAULT_RATE_LIMIT_COOLDOWN_MS : DEFAULT_SERVER_ERROR_COOLDOWN_MS);
            pool.coolDown(credential.reference, cooldown);
            failedKeys.add(credential.reference);
          }
        }
        if (!failure.retryable) throw failure;

        if (managed && targetIndex + 1 < targets.length) {
          targetIndex += 1; // fail over to the next backend at once
          continue;
        }
        if (managed) {
          targetIndex = 0;
          failedKeys.clear();
          const wait = Math.max(
            this.backoff(waits),
            Math.min(...targets.map((candidate) => (candidate.credential.kind === 'pool' ? candidate.credential.pool.msUntilAvailable() : 0))),
          );
          if (!this.canWait(wait, call)) break;
          await sleep(wait, call.signal);
          waits += 1;
          continue;
        }
        // BYOK: the same key again, after retry-after or a jittered backoff. Never a platform key.
        const wait = failure.retryAfterMs ?? this.backoff(waits);
        if (attempts >= this.policy.maxAttempts || !this.canWait(wait, call)) break;
        await sleep(wait, call.signal);
        waits += 1;
      }
    }
    throw (
      lastError ??
      new LlmCallError({ kind: 'rate_limit', provider: targets[0]!.provider, message: 'Every platform key for this plan is cooling down.', retryAfterMs: 5_000 })
    );
  }

  private canWait(milliseconds: number, call: RoutedCall): boolean {
    if (!Number.isFinite(milliseconds)) return false;
    if (milliseconds > this.policy.maxRetryAfterMs) return false;
    return Date.now() + milliseconds + 100 < call.deadlineAt;
  }
}
