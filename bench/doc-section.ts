import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fmt } from './stats';

/**
 * Replaces the section between `<!-- <marker>:start -->` and `<!-- <marker>:end -->` of
 * docs/benchmarks.md with `lines` under a line saying when and where they were measured, or
 * appends it (under `heading`) when the markers are not there yet. Returns the section.
 */
export function writeBenchSection(
  marker: string,
  lines: readonly string[],
  heading: string,
  /** The 1-minute load average when the run started; by default the one at the end is given. */
  loadAtStart?: number,
): string {
  const start = `<!-- ${marker}:start -->`;
  const end = `<!-- ${marker}:end -->`;
  const section = [
    start,
    `Measured ${new Date().toISOString()} on ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${fmt(totalmem() / 1024 ** 3, 0)} GiB, Node ${process.version}; 1-minute load average ${loadAtStart === undefined ? `${fmt(loadavg()[0] ?? 0)} at the end` : `${fmt(loadAtStart)} when it started`}.`,
    '',
    ...lines,
    end,
  ].join('\n');
  const doc = resolve(__dirname, '../../docs/benchmarks.md');
  const text = readFileSync(doc, 'utf8');
  const at = text.indexOf(start);
  const until = text.indexOf(end);
  const next =
    at >= 0 && until > at
      ? text.slice(0, at) + section + text.slice(until + end.length)
      : `${text.trimEnd()}\n\n## ${heading}\n\n${section}\n`;
  writeFileSync(doc, next);
  process.stdout.write(`\n${section}\n\nwritten to ${doc}\n`);
  return section;
}
