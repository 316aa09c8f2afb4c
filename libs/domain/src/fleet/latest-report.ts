import { createHash } from 'node:crypto';
import type { FleetReport } from '@sup/contracts';

/**
 * The order in which reports of one computer supersede each other: `seenAt` (as a fixed-width
 * UTC timestamp, so that strings compare like times), then a digest of the report's content.
 * The digest only breaks ties between two different reports seen at the same instant, so that
 * every replica and every delivery order ends with the same one; the same report twice has the
 * same rank and is not a change.
 */
export function reportRank(report: FleetReport): string {
  const seenAt = new Date(report.seenAt).toISOString();
  return `${seenAt}#${reportDigest(report)}`;
}

/** SHA-256 (first 16 hex digits) of the report's canonical JSON: keys in a fixed order. */
export function reportDigest(report: FleetReport): string {
  const canonical = JSON.stringify([
    report.id,
    report.role,
    report.platform,
    report.version,
    report.relayGroup,
    Object.entries(report.securityUpdates).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
    new Date(report.seenAt).toISOString(),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}

/** Whether `candidate` supersedes a report of rank `current` (none yet: it does). */
export const supersedes = (candidate: string, current: string | undefined): boolean =>
  current === undefined || candidate > current;

/**
 * The latest report per computer of a batch, each with its rank, in first-seen order: one write
 * per computer instead of one per report, and the batch's own stale reports never reach the
 * database.
 */
export function latestPerComputer<T extends { report: FleetReport }>(
  items: readonly T[],
): { item: T; rank: string }[] {
  const latest = new Map<string, { item: T; rank: string }>();
  for (const item of items) {
    const rank = reportRank(item.report);
    const current = latest.get(item.report.id);
    if (supersedes(rank, current?.rank)) latest.set(item.report.id, { item, rank });
  }
  return [...latest.values()];
}
