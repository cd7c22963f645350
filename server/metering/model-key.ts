// The rollup's `byModel` key: provider and model encoded as one MongoDB-safe field name, and decoded back.
const modelKeys = new Map<string, string>();

export function modelKey(provider: string, model: string): string {
  const plain = `${provider}|${model}`;
  let key = modelKeys.get(plain);
  if (key === undefined) {
    key = Buffer.from(plain).toString('base64url');
    if (modelKeys.size >= 1_000) modelKeys.clear();
    modelKeys.set(plain, key);
  }
  return key;
}

export function parseModelKey(key: string): { provider: string; model: string } {
  const [provider, ...rest] = Buffer.from(key, 'base64url').toString('utf8').split('|');
  return { provider: provider ?? '', model: rest.join('|') };
}
