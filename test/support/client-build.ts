// Builds client/dist when it is missing or older than the client sources (tests that serve the web app need it).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
const CLIENT = path.join(ROOT, 'client');

function newestSourceTime(directory: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(directory, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceTime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

export function buildClientIfStale(): void {
  const index = path.join(CLIENT, 'dist', 'index.html');
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= newestSourceTime(CLIENT)) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'client/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
    timeout: 90_000,
  });
}
