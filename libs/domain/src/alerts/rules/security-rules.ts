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
  type RuleUpdate,
} from './snapshot';

export const UPDATE_PENDING = 'update-pending';
export const SECURITY_UPDATES_STALE = 'security-updates-stale';
/** The subject of the one `security-updates-stale` alert. */
export const RULE_FEED_SUBJECT = 'rule-updates';

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
 * `security-updates-stale` (warning): the newest offered rule update (any rule component) was
 * published longer ago than `staleMs` + `staleGraceMs`; the vendor ships every Tuesday. Nothing
 * holds before the first rule update: there is no cadence to miss yet. A failing scheduled sync is
 * not visible in the events alerting consumes (ingest keeps sync outcomes in its own KV bucket);
 * a feed that stops delivering shows up here once the newest update ages past the threshold.
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
        feedSyncFailures: 'not observable from events (see docs/architecture.md)',
      },
      observationId: `newest-${newest.updateId}`,
      at: now.toISOString(),
    });
  }
  return {
    rule: SECURITY_UPDATES_STALE,
    holding,
    clearedReason: 'a new rule update was published',
  };
}
