// The import graph keeps its layers: http → agents → llm / metering / vault / realtime → db → config / logger / errors.
// Read from the source's own import lines, so a new upward import fails here before review.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '../..');

/** Each room and the rooms it may import (besides itself). The composition root (platform.ts, main.ts, worker-cluster.ts) may import anything. */
const MAY_IMPORT: Record<string, string[]> = {
  // Answer types shared with the web client (shared/): types only, importing nothing.
  shared: [],
  'server/errors': [],
  'server/validation': [],
  'server/config': [],
  'server/logger.ts': [],
  'server/idle-memory.ts': [],
  'server/db': ['server/errors', 'server/config', 'server/logger.ts'],
  'server/users': [],
  'server/vault': ['server/config', 'server/errors'],
  'server/realtime': ['server/logger.ts', 'server/errors'],
  'server/llm': ['server/config', 'server/errors', 'server/logger.ts'],
  'server/catalog': ['server/config', 'server/llm', 'server/errors'],
  'server/metering': ['server/catalog', 'server/db', 'server/errors', 'server/logger.ts', 'server/config', 'shared'],
  'server/webhooks': ['server/llm', 'server/vault', 'server/db', 'server/errors', 'server/logger.ts', 'server/config', 'shared'],
  'server/workspaces': ['server/users', 'server/db', 'server/errors', 'shared'],
  'server/auth': ['server/users', 'server/workspaces', 'server/vault', 'server/config', 'server/db', 'server/errors'],
  agents: ['server/validation', 'server/llm', 'server/metering', 'server/vault', 'server/catalog', 'server/workspaces', 'server/db', 'server/config', 'server/errors', 'server/logger.ts', 'shared'],
  'server/http': ['server/webhooks', 'server/validation', 'agents', 'server/auth', 'server/workspaces', 'server/metering', 'server/catalog', 'server/llm', 'server/db', 'server/config', 'server/errors', 'server/logger.ts'],
};

function roomOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'server' && parts.length > 2) return `server/${parts[1]}`;
  return parts[0] === 'server' ? file : parts[0]!;
}

function sourceFiles(directory: string): string[] {
  return fs.readdirSync(path.join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const relative = `${directory}/${entry.name}`;
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

function importsOf(file: string): string[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(/(?:from|import|require\()\s*'(\.[^']+)'/g)) {
    const target = path.relative(ROOT, path.resolve(path.dirname(path.join(ROOT, file)), match[1]!));
    targets.push(fs.existsSync(path.join(ROOT, `${target}.ts`)) ? `${target}.ts` : target);
  }
  return targets;
}

describe('architecture: layers point one way', () => {
  const files = [...sourceFiles('server'), ...sourceFiles('agents'), ...sourceFiles('shared')].filter((file) => !['server/platform.ts', 'server/main.ts', 'server/platform-models.ts', 'server/worker-cluster.ts'].includes(file));

  it('every source file belongs to a known room', () => {
    const unknown = files.filter((file) => !(roomOf(file) in MAY_IMPORT));
    expect(unknown).to.deep.equal([]);
  });

  it('no room imports a room above it, and nothing outside server/http imports server/http', () => {
    const violations: string[] = [];
    for (const file of files) {
      const from = roomOf(file);
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        if (to === from) continue;
        if (!MAY_IMPORT[from]?.includes(to)) violations.push(`${file} → ${target}`);
      }
    }
    expect(violations).to.deep.equal([]);
  });

  it('the table itself has no cycle', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (room: string, trail: string[]): void => {
      if (done.has(room)) return;
      expect(visiting.has(room), `cycle: ${[...trail, room].join(' → ')}`).to.equal(false);
      visiting.add(room);
      for (const next of MAY_IMPORT[room] ?? []) visit(next, [...trail, room]);
      visiting.delete(room);
      done.add(room);
    };
    for (const room of Object.keys(MAY_IMPORT)) visit(room, []);
  });
});
