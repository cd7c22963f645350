// The fields a mocha before() hook of a support helper fills, handed to the tests as getters: reading one before
// the hook ran throws (instead of handing a test `undefined`).

/** The state a helper's hooks fill in, field by field. */
export type Filling<T> = { -readonly [K in keyof T]?: T[K] };

/** `known`: the fields that are known before any hook runs, handed as they are. */
export function filledByBefore<T extends object>(label: string, state: Filling<T>, keys: ReadonlyArray<keyof T & string>, known: Partial<T> = {}): Readonly<T> {
  const view = { ...known } as T;
  for (const key of keys) {
    Object.defineProperty(view, key, {
      enumerable: true,
      get: () => {
        const value = state[key];
        if (value === undefined) throw new Error(`${label}: ${key} is read before the before() hook ran`);
        return value;
      },
    });
  }
  return view;
}
