import { createHash } from 'node:crypto';
import type { AlertObservation } from '../alert-lifecycle';
import type { RuleEvaluation } from '../alert-rules';
import {
  bounded,
  newestSecurityByComponent,
  elapsedMs,
  isOffered,
  olderThan,
  type RuleSettings,
  type RulesSnapshot,
  type RuleSyncOutcome,
  type RuleUpdate,
} from './snapshot';

export const UPDATE_PENDING = 'update-pending';
export const SECURITY_UPDATES_STALE = 'security-updates-stale';
/** The subject of the `security-updates-stale` alert about the rule updates' age. */
export const RULE_FEED_SUBJECT = 'rule-updates';
/** The subject of the one about a feed's scheduled syncs: `feed-sync-<12 hex of the URL's SHA-256>`. */
export const feedSyncSubject = (url: string): string =>
  `feed-sync-${createHash('sha256').update(url).digest('hex').slice(0, 12)}`;

const isPattern = (u: RuleUpdate): boolean => u.component === 'anti-malware-pattern';

/**
 * `update-pending` (warning): the current security update of a component, published longer ago
 * than its threshold (`pendingRuleMs` for rule updates, `pendingPatternMs` for patterns), that
 * some computers reporting the component still run an older version of. One alert per update,
 * listing the computers (bounded) with the full count. A computer that does not report the
 * component does not run it and is not counted.
 */
export function updatePending(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  const due = [...newestSecurityByComponent(snapshot.updates).values()].filter(
    (u) =>
      elapsedMs(u.publishedAt, now) >=
      (isPattern(u) ? settings.pendingPatternMs : settings.pendingRuleMs),
  );
  const behind = new Map<string, string[]>(due.map((u) => [u.component, []]));
  const older = new Map(due.map((u) => [u.component, olderThan(u.version)]));
  for (const c of snapshot.computers) {
    for (const component in c.securityUpdates) {
      if (older.get(component)?.(c.securityUpdates[component])) behind.get(component)?.push(c.id);
    }
  }
  const at = now.toISOString();
  const holding = due.flatMap((u): AlertObservation[] => {
    const ids = behind.get(u.component) ?? [];
    if (ids.length === 0) return [];
    return [
      {
        rule: UPDATE_PENDING,
        subject: u.updateId,
        severity: 'warning',
        summary: `${ids.length} computer(s) have not applied ${u.component} ${u.version}`,
        updateId: u.updateId,
        details: {
          component: u.component,
          version: u.version,
          publishedAt: u.publishedAt,
          count: ids.length,
          computers: bounded(ids, settings.listLimit),
        },
        // The update names the condition: more or fewer computers behind is the same sighting.
        observationId: u.updateId,
        at,
      },
    ];
  });
  return {
    rule: UPDATE_PENDING,
    holding,
    clearedReason: 'every computer applied the update (or a newer one superseded it)',
  };
}

/**
 * `security-updates-stale` (warning), two conditions with a subject each:
 * - `rule-updates`: the newest offered rule update (any rule component) was published longer ago
 *   than `staleMs` + `staleGraceMs`; the vendor ships every Tuesday. Nothing holds before the
 *   first rule update: there is no cadence to miss yet.
 * - `feed-sync-<hash>` per feed URL: its latest scheduled sync (`syncs.v1.finished`, by finish
 *   time) failed or was refused. Every failure since the last success is the same sighting; the
 *   alert resolves with the next scheduled sync that completes.
 */
export function securityUpdatesStale(
  snapshot: RulesSnapshot,
  now: Date,
  settings: RuleSettings,
): RuleEvaluation {
  let newest: RuleUpdate | undefined;
  for (const u of snapshot.updates) {
    if (u.kind !== 'security' || isPattern(u) || !isOffered(u)) continue;
    if (!newest || u.publishedAt > newest.publishedAt) newest = u;
  }
  const holding: AlertObservation[] = [];
  const age = newest ? elapsedMs(newest.publishedAt, now) : 0;
  if (newest && age > settings.staleMs + settings.staleGraceMs) {
    holding.push({
      rule: SECURITY_UPDATES_STALE,
      subject: RULE_FEED_SUBJECT,
      severity: 'warning',
      summary: `No new rule update for ${Math.floor(age / 86_400_000)} day(s): the newest is ${newest.component} ${newest.version}, published ${newest.publishedAt}`,
      updateId: newest.updateId,
      details: {
        newestUpdateId: newest.updateId,
        component: newest.component,
        version: newest.version,
        publishedAt: newest.publishedAt,
      },
      observationId: `newest-${newest.updateId}`,
      at: now.toISOString(),
    });
  }
  holding.push(...failingSyncs(snapshot.syncs ?? [], now));
  return {
    rule: SECURITY_UPDATES_STALE,
    holding,
    clearedReason: 'a new rule update was published, or the scheduled feed sync completed',
  };
}

/** Per feed URL, the scheduled syncs that failed since its last completed one, if the latest did. */
function failingSyncs(outcomes: readonly RuleSyncOutcome[], now: Date): AlertObservation[] {
  const byUrl = new Map<string, RuleSyncOutcome[]>();
  for (const o of outcomes) {
    const list = byUrl.get(o.url);
    if (list) list.push(o);
    else byUrl.set(o.url, [o]);
  }
  const holding: AlertObservation[] = [];
  for (const [url, list] of byUrl) {
    list.sort(
      (a, b) => a.finishedAt.localeCompare(b.finishedAt) || a.syncId.localeCompare(b.syncId),
    );
    let streak = 0;
    while (streak < list.length && list[list.length - 1 - streak]?.state !== 'completed') streak++;
    const last = list[list.length - 1];
    const first = list[list.length - streak];
    if (streak === 0 || !last || !first) continue;
    holding.push({
      rule: SECURITY_UPDATES_STALE,
      subject: feedSyncSubject(url),
      severity: 'warning',
      summary: `The scheduled feed sync has not completed ${streak} time(s) in a row since ${first.finishedAt}: ${last.state}${last.reason ? `: ${last.reason}` : ''}`,
      details: {
        url,
        failures: streak,
        since: first.finishedAt,
        lastSyncId: last.syncId,
        lastState: last.state,
        ...(last.reason ? { lastReason: last.reason } : {}),
      },
      // The streak names the condition: one more failure of it is the same sighting.
      observationId: `failing-since-${first.syncId}`,
      at: now.toISOString(),
    });
  }
  return holding;
}
