// Pooled platform keys per provider: round robin, with a cooldown after 429/5xx (honouring retry-after).
import crypto from 'node:crypto';
import type { ProviderId } from './llm.types';

interface PooledKey {
  key: string;
  reference: string;
  coolingUntil: number;
}

export interface LeasedKey {
  apiKey: string;
  /** Safe to store and log: names the key, never reveals it. */
  reference: string;
}

export class KeyPool {
  private readonly keys: PooledKey[];
  private next = 0;

  constructor(
    readonly provider: ProviderId,
    keys: string[],
    private readonly now: () => number = Date.now,
  ) {
    this.keys = keys.map((key, index) => ({
      key,
      reference: `pool:${provider}:${index}:${crypto.createHash('sha256').update(key).digest('hex').slice(0, 8)}`,
      coolingUntil: 0,
    }));
  }

  get size(): number {
    return this.keys.length;
  }

  /** The next key not cooling down, round robin; undefined when every key is cooling. */
  lease(exclude: ReadonlySet<string> = new Set()): LeasedKey | undefined {
    const now = this.now();
    for (let offset = 0; offset < this.keys.length; offset += 1) {
      const candidate = this.keys[(this.next + offset) % this.keys.length]!;
      if (candidate.coolingUntil <= now && !exclude.has(candidate.reference)) {
        this.next = (this.next + offset + 1) % this.keys.length;
        return { apiKey: candidate.key, reference: candidate.reference };
      }
    }
    return undefined;
  }

  /** Milliseconds until the first key is usable again (0 when one is usable now). */
  msUntilAvailable(): number {
    if (this.keys.length === 0) return Number.POSITIVE_INFINITY;
    const now = this.now();
    return Math.max(0, Math.min(...this.keys.map((key) => key.coolingUntil - now)));
  }

  coolDown(reference: string, milliseconds: number): void {
    const entry = this.keys.find((key) => key.reference === reference);
    if (entry) entry.coolingUntil = Math.max(entry.coolingUntil, this.now() + milliseconds);
  }
}
