// How production starts the server (`npm run serve`, the Procfile's `web`), read from package.json so the benchmarks
// cannot drift from what is deployed: the environment settings, the node flags and the script.
import fs from 'node:fs';
import path from 'node:path';

export interface ServeCommand {
  env: Record<string, string>;
  nodeFlags: string[];
  script: string;
}

export function serveCommand(root: string = path.resolve(__dirname, '..')): ServeCommand {
  const scripts = (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const words = (scripts.serve ?? '').trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Z_][A-Z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split('=');
    env[name!] = value.join('=');
  }
  if (words.shift() !== 'node' || words.length === 0) throw new Error('package.json scripts.serve must be "[NAME=value ...] node [flags] <script>"');
  const script = words.pop()!;
  return { env, nodeFlags: words, script };
}
