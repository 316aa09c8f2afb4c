import type { FleetSummary } from '@sup/contracts';
import { compareSecurityVersions } from './versions';

/** How many computers report `version` of `component` (one row of a group-by). */
export interface ComponentVersionCount {
  component: string;
  version: string;
  count: number;
}

/** The newest version per component among published security updates. */
export function newestPerComponent(
  published: readonly { component: string; version: string }[],
): Map<string, string> {
  const newest = new Map<string, string>();
  for (const { component, version } of published) {
    const current = newest.get(component);
    if (current === undefined || compareSecurityVersions(version, current) > 0)
      newest.set(component, version);
  }
  return newest;
}

/**
 * Per component, "computers up to date / out of date" against the newest published version: a
 * computer is up to date when it runs that version or a newer one (it may have been sent one
 * this catalog has not seen yet). A component nothing was published for is listed with its
 * versions and no verdict (both counts 0, no `latest`). Components published but reported by no
 * computer are listed too, with no computers.
 */
export function summarizeSecurityUpdates(
  counts: readonly ComponentVersionCount[],
  newest: ReadonlyMap<string, string>,
): FleetSummary['securityUpdates'] {
  const byComponent = new Map<string, ComponentVersionCount[]>();
  for (const c of counts) {
    const rows = byComponent.get(c.component) ?? [];
    rows.push(c);
    byComponent.set(c.component, rows);
  }
  for (const component of newest.keys())
    if (!byComponent.has(component)) byComponent.set(component, []);
  return [...byComponent.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([component, rows]) => {
      const latest = newest.get(component);
      const versions = rows
        .map(({ version, count }) => ({ version, count }))
        .sort((a, b) => compareSecurityVersions(b.version, a.version));
      let upToDate = 0;
      let outOfDate = 0;
      if (latest !== undefined) {
        for (const { version, count } of versions) {
          if (compareSecurityVersions(version, latest) >= 0) upToDate += count;
          else outOfDate += count;
        }
      }
      return {
        component,
        ...(latest !== undefined ? { latest } : {}),
        upToDate,
        outOfDate,
        versions,
      };
    });
}
