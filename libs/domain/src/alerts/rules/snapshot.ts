import { createHash } from 'node:crypto';
import { compareParsed, parseVersion, versionKindOf, type Version } from '@sup/contracts';
import { compareSecurityVersions } from '../../fleet/versions';

/**
 * What the fleet and catalog rules read: alerting's own projection of the events it consumes
 * (fleet reports, publications, withdrawals, relay results), loaded whole for one evaluation.
 */
export interface RuleComputer {
  id: string;
  role: 'agent' | 'relay';
  platform: string;
  version: string;
  relayGroup: string;
  securityUpdates: Record<string, string>;
  /** ISO-8601: when the computer was last seen (its latest report). */
  seenAt: string;
  /** A relay's cache as it reported it. */
  relay?: { holds: string[]; merkleRoot: string };
}

export interface RuleUpdate {
  updateId: string;
  kind: 'software' | 'security';
  component: string;
  platform?: string;
  version: string;
  sha256: string;
  publishedAt: string;
  /** Set once the control plane withdrew it (its stored bytes no longer match). */
  withdrawnAt?: string;
}

export interface RulesSnapshot {
  computers: readonly RuleComputer[];
  /** Published updates (withdrawn ones flagged). */
  updates: readonly RuleUpdate[];
  /** `<updateId>:<relayId>` of every update a relay has relayed. */
  relayed: ReadonlySet<string>;
  /** How recent scheduled feed syncs ended (`syncs.v1.finished`), any order. */
  syncs?: readonly RuleSyncOutcome[];
}

/** A scheduled feed sync's outcome, as `security-updates-stale` reads it. */
export interface RuleSyncOutcome {
  syncId: string;
  url: string;
  state: 'completed' | 'refused' | 'failed';
  reason?: string;
  /** ISO-8601. */
  finishedAt: string;
}

/** Thresholds of the state rules; every one is configurable (RULES_* in alerting's config). */
export interface RuleSettings {
  /** A rule update not applied after this raises `update-pending` (reference: 30 minutes). */
  pendingRuleMs: number;
  /** The same for an anti-malware pattern (reference: one hour). */
  pendingPatternMs: number;
  /** A relay that has not relayed a published update within this is not in sync. */
  relaySyncMs: number;
  /** A relay silent this long is unavailable. */
  relayUnavailableMs: number;
  /** No new rule update for this long is stale (reference: weekly, so 7 days) ... */
  staleMs: number;
  /** ... plus this grace (a late Tuesday release is not yet an alert). */
  staleGraceMs: number;
  /** Names listed in one alert's details (the count is always complete). */
  listLimit: number;
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
export const DEFAULT_RULE_SETTINGS: RuleSettings = {
  pendingRuleMs: 30 * MINUTE,
  pendingPatternMs: 60 * MINUTE,
  relaySyncMs: 60 * MINUTE,
  relayUnavailableMs: 15 * MINUTE,
  staleMs: 7 * DAY,
  staleGraceMs: DAY,
  listLimit: 20,
};

export const relayedKey = (updateId: string, relayId: string): string => `${updateId}:${relayId}`;

/** Published and not withdrawn: what computers and relays should have. */
export const isOffered = (u: RuleUpdate): boolean => u.withdrawnAt === undefined;

/**
 * Memoises a pure function of a string for one evaluation: a fleet of 100,000 computers runs a
 * handful of distinct versions, so each is parsed or compared once instead of once per computer.
 */
export function memo<T>(fn: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as T;
    const value = fn(key);
    cache.set(key, value);
    return value;
  };
}

/** The parsed software build, or undefined for one that cannot be read (never coerced). */
export function softwareVersion(raw: string): Version | undefined {
  const parsed = parseVersion('software', raw);
  return parsed.ok ? parsed.version : undefined;
}

/** `softwareVersion` memoised for one evaluation. */
export const softwareVersions = (): ((raw: string) => Version | undefined) => memo(softwareVersion);

/**
 * The current security update per component: the newest offered one by its version kind (rule or
 * pattern). Rollback pins live in distribution and are not seen here (see docs/architecture.md).
 */
export function newestSecurityByComponent(updates: readonly RuleUpdate[]): Map<string, RuleUpdate> {
  const current = new Map<string, { update: RuleUpdate; version: Version }>();
  for (const u of updates) {
    if (u.kind !== 'security' || !isOffered(u)) continue;
    const kind = versionKindOf(u.kind, u.component);
    const parsed = kind ? parseVersion(kind, u.version) : undefined;
    if (!parsed?.ok) continue;
    const best = current.get(u.component);
    if (!best || compareParsed(parsed.version, best.version) > 0) {
      current.set(u.component, { update: u, version: parsed.version });
    }
  }
  return new Map([...current].map(([c, { update }]) => [c, update]));
}

/** Whether a computer's reported version of a component is older than `target`. */
export const runsOlder = (reported: string, target: string): boolean =>
  compareSecurityVersions(reported, target) < 0;

/** `runsOlder` against one fixed target, memoised per reported version. */
export const olderThan = (target: string): ((reported: string) => boolean) =>
  memo((reported) => runsOlder(reported, target));

/** At most `limit` names, sorted, so an alert's details stay small and stable. */
export function bounded(names: string[], limit: number): string[] {
  return names.sort().slice(0, limit);
}

/** A short digest of a condition's parts: the observation key of a condition that changed. */
export function conditionKey(...parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export const elapsedMs = (since: string, now: Date): number => now.getTime() - Date.parse(since);
