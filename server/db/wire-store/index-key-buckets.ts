// The id buckets behind an index's keys: one id, or the ids of the documents sharing a key.

/**
 * One id, or a set of ids when several documents share a key. While an index is bulk-loaded (journal replay,
 * index builds) a shared key holds a plain array (appending is several times cheaper than growing a Set); the
 * array may repeat an id, readers only iterate it, and settle() (or the first change outside bulk loading)
 * turns it into a Set.
 */
export type Bucket = string | Set<string> | string[];

/** Most key combinations a document may have in one index (more: "cannot index parallel arrays"), and a lookup probes (more: a scan). */
export const MAX_KEY_COMBINATIONS = 1000;

export function toSetBucket(ids: string[]): string | Set<string> {
  const set = new Set(ids);
  return set.size === 1 ? ids[0]! : set;
}

/** Adds `id` under `key`; `pending` (bulk loading) collects the keys whose bucket became an array. */
export function bucketAdd(map: Map<string, Bucket>, key: string, id: string, pending?: Array<[Map<string, Bucket>, string]>): void {
  const cur = map.get(key);
  // charCodeAt flattens the concatenated key in place: a long-lived key then costs one flat string,
  // not a tree of cons strings (~3× smaller for compound keys).
  if (cur === undefined) map.set((key.charCodeAt(0), key), id);
  else if (typeof cur === 'string') {
    if (cur === id) return;
    if (pending) {
      map.set(key, [cur, id]);
      pending.push([map, key]);
    } else map.set(key, new Set([cur, id]));
  } else if (Array.isArray(cur)) {
    if (pending) cur.push(id);
    else {
      const set = new Set(cur);
      set.add(id);
      map.set(key, set);
    }
  } else cur.add(id);
}

export function bucketRemove(map: Map<string, Bucket>, key: string, id: string): void {
  let cur = map.get(key);
  if (cur === undefined) return;
  if (Array.isArray(cur)) {
    cur = new Set(cur);
    map.set(key, cur);
  }
  if (typeof cur === 'string') {
    if (cur === id) map.delete(key);
  } else {
    cur.delete(id);
    if (cur.size === 1) map.set(key, cur.values().next().value as string);
    else if (cur.size === 0) map.delete(key);
  }
}

export function bucketOther(bucket: Bucket | undefined, self: string | undefined): string | undefined {
  if (bucket === undefined) return undefined;
  if (typeof bucket === 'string') return bucket !== self ? bucket : undefined;
  for (const id of bucket) if (id !== self) return id;
  return undefined;
}
