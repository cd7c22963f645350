// The equality constraints of a filter, which `_id` and index lookups use to avoid collection scans.
import type { Document } from 'bson';
import { isIndexableEqualityValue, isPlainObject, type Value } from './bson-values';

/**
 * Equality constraints implied by a filter: field → candidate values (plain `field: value`, `$eq`, `$in`,
 * and the same inside `$and`). Any document matching the filter has one of these values at that field.
 */
export function extractEqualities(filter: Document): Map<string, Value[]> {
  const out = new Map<string, Value[]>();
  collectEqualities(filter, out);
  return out;
}

function collectEqualities(filter: Document, out: Map<string, Value[]>): void {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and' && Array.isArray(v)) {
      for (const sub of v) if (isPlainObject(sub)) collectEqualities(sub, out);
      continue;
    }
    if (key.charCodeAt(0) === 36) continue;
    if (out.has(key)) continue;
    if (isIndexableEqualityValue(v)) {
      out.set(key, [v]);
      continue;
    }
    if (isPlainObject(v)) {
      const keys = Object.keys(v);
      if (keys.length === 0 || keys[0]!.charCodeAt(0) !== 36) continue;
      if ('$eq' in v && isIndexableEqualityValue(v.$eq)) {
        out.set(key, [v.$eq]);
      } else if ('$in' in v && Array.isArray(v.$in) && v.$in.every(isIndexableEqualityValue)) {
        out.set(key, v.$in as Value[]);
      }
    }
  }
}
