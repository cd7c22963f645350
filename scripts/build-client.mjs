// npm run build:client — the Vite build of client/ into client/dist, skipped when nothing it is built from changed
// since the last build: a hash of every file under client/ (but dist/), shared/ and package-lock.json, kept in
// client/dist/.source-hash. `npm run build:client -- --force` builds regardless.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLIENT = path.join(ROOT, 'client');
/** Types the client shares with the server (imported as types only, but hashed so that a change rebuilds). */
const SHARED = path.join(ROOT, 'shared');
const DIST = path.join(CLIENT, 'dist');
const STAMP = path.join(DIST, '.source-hash');

function sourceFiles(directory) {
  const files = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'dist' || entry.name === 'node_modules') continue;
    const full = path.join(directory, entry.name);
    if (entry.isDirectory()) files.push(...sourceFiles(full));
    else if (entry.isFile()) files.push(full);
  }
  return files;
}

function sourceHash() {
  const hash = createHash('sha256');
  for (const file of [...sourceFiles(CLIENT), ...(fs.existsSync(SHARED) ? sourceFiles(SHARED) : []), path.join(ROOT, 'package-lock.json')].sort()) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

const hash = sourceHash();
const force = process.argv.includes('--force');
const previous = fs.existsSync(STAMP) ? fs.readFileSync(STAMP, 'utf8').trim() : '';
if (!force && previous === hash && fs.existsSync(path.join(DIST, 'index.html'))) {
  console.log('client/dist is up to date (nothing under client/ changed since its build)');
  process.exit(0);
}

execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'client/vite.config.ts'], {
  cwd: ROOT,
  stdio: 'inherit',
});
// The embeddable chat (publish): its own self-contained script in client/dist/widget.
execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'client/vite.widget.config.ts'], {
  cwd: ROOT,
  stdio: 'inherit',
});
fs.writeFileSync(STAMP, `${hash}\n`);
