// Programmatic fault injection for the provider simulator. Only code holding the SimulatorHandle can
// script faults: no HTTP request can reach this.
import { createHash } from 'node:crypto';
import type { ProviderId } from '../llm.types';

/** An error response in the provider's own format. */
export interface SimulatedErrorFault {
  status: number;
  /** Sent as `retry-after` (seconds). */
  retryAfterSeconds?: number;
  /** Sent as `retry-after-ms` (OpenAI-style). */
  retryAfterMs?: number;
  /** Which body to send when a status has several meanings (a 429 or 402 that means "no credit", a 400 for context length). */
  error?: 'quota' | 'context_length';
}

/** Answer normally, but only after `delayMs` (longer than the client's timeout → a timeout). */
export interface SimulatedTimeoutFault {
  kind: 'timeout';
  delayMs: number;
}

/** Send `afterChunks` stream events (or part of a JSON body), then drop the connection. */
export interface SimulatedCutFault {
  kind: 'cut';
  afterChunks: number;
}

/** Stream normally, but wait `eventIntervalMs` between events (a long answer: longer in total than one attempt's timeout). */
export interface SimulatedSlowStreamFault {
  kind: 'slow_stream';
  eventIntervalMs: number;
}

/** Answer without token usage, as some OpenAI-compatible servers do (OpenAI-style wires: top-level and `x_groq` usage). */
export interface SimulatedOmitUsageFault {
  kind: 'omit_usage';
}

export type SimulatorFault = 'ok' | SimulatedErrorFault | SimulatedTimeoutFault | SimulatedCutFault | SimulatedSlowStreamFault | SimulatedOmitUsageFault;

export interface SimulatorFaultRate {
  status: number;
  /** 0..1: the share of requests that get this error. */
  probability: number;
  retryAfterSeconds?: number;
}

/** Restricts a script or rate to requests made with one API key (e.g. to prove a key was never used). */
export interface SimulatorFaultScope {
  apiKey?: string;
}

const ANY_KEY = '*';

/** Scripts are keyed by a SHA-256 of the key so no plaintext key is held as a map key. */
export function hashSimulatorKey(apiKey: string): string {
  return createHash('sha256').update(apiKey).digest('hex');
}

function scopeKey(scope: SimulatorFaultScope | undefined): string {
  return scope?.apiKey === undefined ? ANY_KEY : hashSimulatorKey(scope.apiKey);
}

export class SimulatorFaults {
  private readonly scripts = new Map<ProviderId, Map<string, SimulatorFault[]>>();
  private readonly rates = new Map<ProviderId, Map<string, SimulatorFaultRate>>();

  constructor(private readonly random: () => number = Math.random) {}

  /** Replaces the provider's script (for that scope): one fault per request, in order, then normal answers. */
  script(provider: ProviderId, faults: readonly SimulatorFault[], scope?: SimulatorFaultScope): void {
    const byScope = this.scripts.get(provider) ?? new Map<string, SimulatorFault[]>();
    byScope.set(scopeKey(scope), [...faults]);
    this.scripts.set(provider, byScope);
  }

  /** Every request (in scope) fails with `status` with the given probability, after any script is used up. */
  setRate(provider: ProviderId, rate: SimulatorFaultRate, scope?: SimulatorFaultScope): void {
    if (!(rate.probability >= 0 && rate.probability <= 1)) throw new RangeError('probability must be between 0 and 1');
    const byScope = this.rates.get(provider) ?? new Map<string, SimulatorFaultRate>();
    byScope.set(scopeKey(scope), { ...rate });
    this.rates.set(provider, byScope);
  }

  /** Forgets scripts and rates, for one provider or all. */
  clear(provider?: ProviderId): void {
    if (provider) {
      this.scripts.delete(provider);
      this.rates.delete(provider);
    } else {
      this.scripts.clear();
      this.rates.clear();
    }
  }

  /** Scripted faults not yet consumed (both scopes). */
  pending(provider: ProviderId): number {
    let total = 0;
    for (const faults of this.scripts.get(provider)?.values() ?? []) total += faults.length;
    return total;
  }

  /** Used by the simulator for each request: a key-scoped script first, then the unscoped one, then the rate. */
  nextFault(provider: ProviderId, apiKey: string | undefined): SimulatorFault {
    const keyScope = apiKey ? hashSimulatorKey(apiKey) : undefined;
    const scripts = this.scripts.get(provider);
    for (const scope of [keyScope, ANY_KEY]) {
      const faults = scope ? scripts?.get(scope) : undefined;
      if (faults && faults.length > 0) return faults.shift() as SimulatorFault;
    }
    const rates = this.rates.get(provider);
    for (const scope of [keyScope, ANY_KEY]) {
      const rate = scope ? rates?.get(scope) : undefined;
      if (rate && this.random() < rate.probability) {
        return { status: rate.status, retryAfterSeconds: rate.retryAfterSeconds };
      }
    }
    return 'ok';
  }
}
