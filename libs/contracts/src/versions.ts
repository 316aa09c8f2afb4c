import * as semver from 'semver';

/**
 * Agent builds appear both as `20.0.1-12345` and `20.0.1.12345`; older lines as `9.6.100`.
 * Semver would read `-12345` as a pre-release (older than 20.0.1), so the build number is split
 * off and compared on its own after the semver core.
 */
export interface SoftwareVersion {
  core: string;
  major: number;
  minor: number;
  build: number;
}

const SOFTWARE_RE = /^(\d{1,6})\.(\d{1,6})\.(\d{1,9})(?:[.-](\d{1,9}))?$/;
const RULE_RE = /^\d{2}-\d{3}$/;
const PATTERN_RE = /^\d{1,6}(?:\.\d{1,6}){1,3}$/;

export function parseSoftwareVersion(version: string): SoftwareVersion | null {
  const m = SOFTWARE_RE.exec(version.trim());
  if (!m) return null;
  const core = semver.valid(`${Number(m[1])}.${Number(m[2])}.${Number(m[3])}`);
  if (!core) return null;
  return { core, major: Number(m[1]), minor: Number(m[2]), build: m[4] ? Number(m[4]) : 0 };
}

/** Canonical form used for storage and display: `20.0.1-12345` and `20.0.1.12345` become `20.0.1.12345`. */
export function normalizeSoftwareVersion(version: string): string | null {
  const v = parseSoftwareVersion(version);
  if (!v) return null;
  return v.build ? `${v.core}.${v.build}` : v.core;
}

export function compareSoftwareVersions(a: string, b: string): number {
  const va = parseSoftwareVersion(a);
  const vb = parseSoftwareVersion(b);
  if (!va || !vb) throw new Error(`not a software version: ${!va ? a : b}`);
  return semver.compare(va.core, vb.core) || Math.sign(va.build - vb.build);
}

export function isValidVersion(kind: string, component: string, version: string): boolean {
  if (kind === 'software') return parseSoftwareVersion(version) !== null;
  if (component === 'anti-malware-pattern') return PATTERN_RE.test(version);
  return RULE_RE.test(version);
}
