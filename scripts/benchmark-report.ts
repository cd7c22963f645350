// Writes one benchmark's section into docs/BENCHMARKS.md, replacing the previous run of that benchmark.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPORT_FILE = path.resolve(__dirname, '..', 'docs', 'BENCHMARKS.md');

export function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}`;
}

export function writeBenchmarkSection(name: string, command: string, markdownBody: string): void {
  const start = `<!-- bench:${name} start -->`;
  const end = `<!-- bench:${name} end -->`;
  const section = [
    start,
    `## ${name}`,
    '',
    `Command: \`${command}\` — run ${new Date().toISOString()} on ${describeMachine()}.`,
    '',
    markdownBody.trim(),
    end,
  ].join('\n');
  let report = fs.existsSync(REPORT_FILE)
    ? fs.readFileSync(REPORT_FILE, 'utf8')
    : '# Benchmarks\n\nMeasured, never asserted by tests. Each section is rewritten by the command it names.\n';
  const startIndex = report.indexOf(start);
  const endIndex = report.indexOf(end);
  if (startIndex >= 0 && endIndex > startIndex) {
    report = report.slice(0, startIndex) + section + report.slice(endIndex + end.length);
  } else {
    report = `${report.trimEnd()}\n\n${section}\n`;
  }
  fs.mkdirSync(path.dirname(REPORT_FILE), { recursive: true });
  fs.writeFileSync(REPORT_FILE, report);
}
