// Builds client/dist when it is missing or older than the client sources (tests that serve the web app need it);
// with { widget: true } the embeddable chat (client/dist/widget) is checked and built too.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const CLIENT = path.join(ROOT, 'client');
const APP_INDEX = path.join(CLIENT, 'dist', 'index.html');
const WIDGET_SCRIPT = path.join(CLIENT, 'dist', 'widget', 'widget.js');

/** Newest modification time under a directory (the client sources, not its build output). */
function newestSourceTime(directory: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

export function buildClientIfStale(options: { widget?: boolean } = {}): void {
  const outputs = options.widget ? [APP_INDEX, WIDGET_SCRIPT] : [APP_INDEX];
  const sources = newestSourceTime(CLIENT);
  if (outputs.every((file) => fs.existsSync(file) && fs.statSync(file).mtimeMs >= sources)) return;
  const build = options.widget
    ? [path.join(ROOT, 'scripts', 'build-client.mjs'), '--force']
    : [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'];
  execFileSync(process.execPath, build, { cwd: ROOT, stdio: 'inherit', timeout: 120_000 });
}
