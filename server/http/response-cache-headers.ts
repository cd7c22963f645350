// The response cache on HTTP (cache): a client's `Cache-Control: no-cache` / `no-store` opts a call out, and every
// answer says what the cache did — `X-Cache: hit | miss | skipped`, `X-Cache-Reason` (exact, semantic, cache_off,
// client_no_cache, tools, temperature_above_limit, …) and, for a semantic hit, `X-Cache-Similarity`.
import type { CacheOutcome } from '../../agents/run-cache';

export function cacheControlOf(header: string | string[] | undefined): string | undefined {
  const value = (Array.isArray(header) ? header.join(',') : header ?? '').toLowerCase();
  if (/(?:^|,)\s*no-store\s*(?:,|$)/.test(value)) return 'no-store';
  if (/(?:^|,)\s*no-cache\s*(?:,|$)/.test(value)) return 'no-cache';
  return undefined;
}

export function cacheHeaders(result: { cache?: CacheOutcome; experiment?: { id: string; variant: string } }): Record<string, string> {
  const headers: Record<string, string> = {};
  if (result.cache) {
    headers['X-Cache'] = result.cache.status;
    if (result.cache.reason) headers['X-Cache-Reason'] = result.cache.reason;
    if (result.cache.similarity !== undefined) headers['X-Cache-Similarity'] = String(result.cache.similarity);
  }
  if (result.experiment) headers['X-Experiment'] = `${result.experiment.id}:${result.experiment.variant}`;
  return headers;
}
