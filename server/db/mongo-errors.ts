// Driver errors stop here: Mongo's duplicate-key code becomes a boolean check for services.
export function isDuplicateKeyError(error: unknown): boolean {
  const code = (error as { code?: number })?.code;
  return code === 11000 || code === 11001;
}

export const OBJECT_ID_PATTERN = /^[a-f0-9]{24}$/;
