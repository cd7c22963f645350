// How long the response cache waits on the database: a slow or unreachable database makes the cache miss (or skip
// storing), never holds a call up for longer.
export const DATABASE_DEADLINE_MS = 1_000;

/** The work's result, or `fallback` when it fails or takes longer than the deadline. */
export function withinDeadline<T>(work: Promise<T>, fallback: T): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<T>((resolve) => (timer = setTimeout(() => resolve(fallback), DATABASE_DEADLINE_MS)));
  return Promise.race([work.catch(() => fallback), deadline]).finally(() => clearTimeout(timer));
}
