import { parseVersion, softwareLine } from '@sup/contracts';

/**
 * `major.minor` of an agent or relay build (`20.0.1-12345` -> `20.0`), or `unknown`: the
 * versions library's line, tolerant of whatever a computer reports.
 */
export function versionLine(version: string): string {
  return parseVersion('software', version).ok ? softwareLine(version) : 'unknown';
}

/**
 * Orders security update versions: rule updates `26-058` (year, sequence) and pattern versions
 * `19.231.00` compare by their numeric parts in turn; a version with more parts after equal ones
 * is newer. Versions that are not numbers (a computer may report anything) compare as text after
 * every numeric one, so they are never taken for the newest.
 */
export function compareSecurityVersions(a: string, b: string): number {
  const pa = numericParts(a);
  const pb = numericParts(b);
  if (!pa || !pb) {
    if (pa) return 1;
    if (pb) return -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

function numericParts(version: string): number[] | undefined {
  if (!/^\d{1,9}(?:[.-]\d{1,9}){0,5}$/.test(version)) return undefined;
  return version.split(/[.-]/).map(Number);
}
