// Production launch settings live in one place (package.json scripts.serve); the Procfile must run the same command.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(__dirname, '..', '..');

describe('launch settings', () => {
  const serve = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

  it('npm start builds, then runs the serve command', () => {
    expect(serve.start).to.equal('npm run build && npm run serve');
  });

  it('the Procfile web process is the serve command, memory settings included', () => {
    const web = fs
      .readFileSync(path.join(ROOT, 'Procfile'), 'utf8')
      .split('\n')
      .find((line) => line.startsWith('web:'));
    expect(web?.slice('web:'.length).trim()).to.equal(serve.serve);
    expect(serve.serve).to.match(/^MALLOC_ARENA_MAX=\d+ node (--[\w-]+=\d+ )+dist\/server\/main\.js$/);
  });
});
