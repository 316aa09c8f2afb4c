/**
 * Every vendor version, parsed once and compared by kind.
 *
 * - `software`: agent and relay builds. The reference product writes the same build as
 *   `20.0.1-12345` and as `20.0.1.12345`; older lines look like `9.6.100`. Semver would read
 *   `-12345` as a pre-release (older than 20.0.1), so the build is a fourth number instead.
 * - `manager`: a manager version such as a package's `minManagerVersion` (`20.0`, `20.0.877`,
 *   `20.0.0-1234`): the software form, the patch optional.
 * - `rule`: rule updates, named by year and sequence (`26-058`).
 * - `pattern`: anti-malware patterns, dotted numbers (`19.231.00`).
 *
 * The canonical form is what ids and comparisons use: two spellings of one version have one
 * canonical form, and `compareVersions` is 0 exactly when the canonical forms are equal. An
 * invalid version is refused with a code and a reason, never coerced into a valid one.
 *
 * Pure and dependency-free: contracts, services and the alert rules all read versions here.
 */

export const VERSION_KINDS = ['software', 'manager', 'rule', 'pattern'] as const;
export type VersionKind = (typeof VERSION_KINDS)[number];

/** Rejection codes (stage `feed`) for a version that cannot be read. */
export const INVALID_VERSION_CODES = {
  software: 'invalid-software-version',
  manager: 'invalid-manager-version',
  rule: 'invalid-rule-version',
  pattern: 'invalid-pattern-version',
} as const satisfies Record<VersionKind, string>;
export type InvalidVersionCode = (typeof INVALID_VERSION_CODES)[VersionKind];

export interface Version {
  kind: VersionKind;
  /** The raw text, as the vendor wrote it. */
  raw: string;
  /** One spelling per version: ids and equality use it. */
  canonical: string;
  /** The numbers compared in order (software and manager: major, minor, patch, build). */
  parts: readonly number[];
}

export type VersionParse =
  { ok: true; version: Version } | { ok: false; code: InvalidVersionCode; reason: string };

const EXPECTED: Record<VersionKind, string> = {
  software: 'software versions look like "20.0.1-12345", "20.0.1.12345" or "9.6.100"',
  manager: 'manager versions look like "20.0", "20.0.877" or "20.0.0-1234"',
  rule: 'rule versions look like "26-058" (year and sequence)',
  pattern: 'pattern versions are two to four dotted numbers such as "19.231.00"',
};

// Bounded digit counts keep every part a safe integer and refuse absurd input early.
const SOFTWARE_RE = /^(\d{1,6})\.(\d{1,6})\.(\d{1,9})(?:[.-](\d{1,9}))?$/;
const MANAGER_RE = /^(\d{1,6})\.(\d{1,6})(?:\.(\d{1,9})(?:[.-](\d{1,9}))?)?$/;
const RULE_RE = /^(\d{2})-(\d{3})$/;
const PATTERN_RE = /^\d{1,6}(?:\.\d{1,6}){1,3}$/;

export class InvalidVersionError extends Error {
  constructor(
    readonly code: InvalidVersionCode,
    readonly version: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'InvalidVersionError';
  }
}

/** The version kind of an update's `version`, from its kind and component. */
export function versionKindOf(kind: string, component: string): VersionKind | undefined {
  if (kind === 'software') return 'software';
  if (kind !== 'security') return undefined;
  return component === 'anti-malware-pattern' ? 'pattern' : 'rule';
}

/** Major, minor, patch and build; a missing build is 0, so `20.0.1` = `20.0.1.0`. */
function buildVersion(kind: VersionKind, raw: string, m: RegExpExecArray): Version {
  const parts = [m[1], m[2], m[3], m[4]].map((p) => Number(p ?? 0));
  const [major, minor, patch, build] = parts;
  const canonical = `${major}.${minor}.${patch}${build ? `.${build}` : ''}`;
  return { kind, raw, canonical, parts };
}

function read(kind: VersionKind, raw: string): Version | undefined {
  switch (kind) {
    case 'software': {
      const m = SOFTWARE_RE.exec(raw);
      return m ? buildVersion(kind, raw, m) : undefined;
    }
    case 'manager': {
      const m = MANAGER_RE.exec(raw);
      return m ? buildVersion(kind, raw, m) : undefined;
    }
    case 'rule': {
      const m = RULE_RE.exec(raw);
      // Fixed width: the text is already its one spelling.
      return m ? { kind, raw, canonical: raw, parts: [Number(m[1]), Number(m[2])] } : undefined;
    }
    case 'pattern':
      // Pattern fields are fixed-width in the vendor's spelling (`19.231.00`): a spelling that
      // differs only in zero padding is kept apart rather than guessed to be the same pattern.
      return PATTERN_RE.test(raw)
        ? { kind, raw, canonical: raw, parts: raw.split('.').map(Number) }
        : undefined;
  }
}

export function parseVersion(kind: VersionKind, raw: unknown): VersionParse {
  const text = typeof raw === 'string' ? raw : undefined;
  const version = text === undefined ? undefined : read(kind, text);
  if (version) return { ok: true, version };
  const shown = text === undefined ? typeof raw : JSON.stringify(text.slice(0, 64));
  return {
    ok: false,
    code: INVALID_VERSION_CODES[kind],
    reason: `${shown} is not a valid ${kind} version: ${EXPECTED[kind]}`,
  };
}

/** The parsed version, or an InvalidVersionError naming the code and the reason. */
export function versionOf(kind: VersionKind, raw: string): Version {
  const parsed = parseVersion(kind, raw);
  if (!parsed.ok) throw new InvalidVersionError(parsed.code, raw, parsed.reason);
  return parsed.version;
}

export const normalizeVersion = (kind: VersionKind, raw: string): string =>
  versionOf(kind, raw).canonical;

/** -1, 0 or 1. 0 exactly when both have one canonical form; a total order per kind. */
export function compareParsed(a: Version, b: Version): -1 | 0 | 1 {
  if (a.kind !== b.kind) throw new Error(`cannot compare a ${a.kind} and a ${b.kind} version`);
  const n = Math.max(a.parts.length, b.parts.length);
  for (let i = 0; i < n; i++) {
    // A shorter pattern sorts first among equal leading fields (19.231 < 19.231.0).
    const x = a.parts[i] ?? -1;
    const y = b.parts[i] ?? -1;
    if (x !== y) return x < y ? -1 : 1;
  }
  // Equal numbers, other spellings: only zero-padded pattern fields get here; order by text so
  // the order stays total and consistent with the canonical form.
  return a.canonical === b.canonical ? 0 : a.canonical < b.canonical ? -1 : 1;
}

export const compareVersions = (kind: VersionKind, a: string, b: string): -1 | 0 | 1 =>
  compareParsed(versionOf(kind, a), versionOf(kind, b));

/**
 * The major.minor line of a software version (`20.0.1-12345` -> `20.0`): the reference product
 * announces newer builds only on lines that agents already run.
 */
export const softwareLine = (raw: string): string => {
  const [major, minor] = versionOf('software', raw).parts;
  return `${major}.${minor}`;
};

/**
 * The canonical version of an update for its id, or undefined when its kind, component or version
 * cannot be read (an entry refused for that reason keeps its raw labels as identity).
 */
export function canonicalUpdateVersion(
  kind: unknown,
  component: unknown,
  version: unknown,
): string | undefined {
  if (typeof kind !== 'string' || typeof component !== 'string') return undefined;
  const vk = versionKindOf(kind, component);
  if (!vk) return undefined;
  const parsed = parseVersion(vk, version);
  return parsed.ok ? parsed.version.canonical : undefined;
}

// The software shorthands below predate the kinds above; kept for their callers.

export interface SoftwareVersion {
  core: string;
  major: number;
  minor: number;
  build: number;
}

export function parseSoftwareVersion(version: string): SoftwareVersion | null {
  const parsed = parseVersion('software', version);
  if (!parsed.ok) return null;
  const [major, minor, patch, build] = parsed.version.parts;
  return { core: `${major}.${minor}.${patch}`, major, minor, build };
}

/** `20.0.1-12345` and `20.0.1.12345` become `20.0.1.12345`; null when not a software version. */
export function normalizeSoftwareVersion(version: string): string | null {
  const parsed = parseVersion('software', version);
  return parsed.ok ? parsed.version.canonical : null;
}

export function compareSoftwareVersions(a: string, b: string): number {
  const va = parseVersion('software', a);
  const vb = parseVersion('software', b);
  if (!va.ok || !vb.ok) throw new Error(`not a software version: ${!va.ok ? a : b}`);
  return compareParsed(va.version, vb.version);
}

export function isValidVersion(kind: string, component: string, version: string): boolean {
  const vk = versionKindOf(kind, component);
  return vk !== undefined && parseVersion(vk, version).ok;
}

/**
 * How this system is run. A software package states the oldest manager that supports it
 * (`minManagerVersion`); a self-hosted manager older than that must not hand it out, while the
 * reference product's hosted service is always new enough and ignores the field.
 */
export const MANAGER_MODES = ['self-hosted', 'hosted'] as const;
export type ManagerMode = (typeof MANAGER_MODES)[number];

/**
 * The default `MANAGER_VERSION`: the manager line of the reference product this system stands in
 * for (its package.json version numbers this code base, not the vendor's manager versions).
 */
export const DEFAULT_MANAGER_VERSION = '20.0.0';

export interface ManagerIdentity {
  version: string;
  mode: ManagerMode;
}

export type ManagerVerdict =
  { ok: true } | { ok: false; code: 'manager-too-old' | InvalidVersionCode; reason: string };

/** Whether this manager may distribute a package that needs `minManagerVersion` (policy stage). */
export function managerSupports(
  minManagerVersion: string | undefined,
  manager: ManagerIdentity,
): ManagerVerdict {
  if (manager.mode === 'hosted' || minManagerVersion === undefined) return { ok: true };
  const needed = parseVersion('manager', minManagerVersion);
  // Imports refuse an unreadable minManagerVersion; one recorded before that rule is refused
  // here rather than guessed to be old enough.
  if (!needed.ok)
    return { ok: false, code: needed.code, reason: `minManagerVersion ${needed.reason}` };
  const own = versionOf('manager', manager.version);
  if (compareParsed(needed.version, own) <= 0) return { ok: true };
  return {
    ok: false,
    code: 'manager-too-old',
    reason: `the package needs manager ${minManagerVersion} or newer; this manager is ${manager.version} (MANAGER_VERSION, MANAGER_MODE=self-hosted)`,
  };
}
