import { isDeepStrictEqual } from 'node:util';
import type { FleetReport } from '@sup/contracts';
import type { RankedValue, SkipRule } from './latest-wins';

/** A winner-store value that holds a fleet report (the fleet read model, alerting's projection). */
export interface ReportValue extends RankedValue {
  reported: { report: FleetReport };
}

/** The resolution of a read model's seen time when nothing else changed: one minute. */
export const DEFAULT_SEEN_RESOLUTION_MS = 60_000;

/**
 * When a fleet report need not be written through (see `writeLatest`): it says what the last
 * written one said, only seen later (by less than `resolutionMs`). The received time is not
 * compared either. Key order does not matter; a difference that is only one of form (a field
 * present but undefined) costs a write, never a skipped change.
 */
export function reportSkipRule<V extends ReportValue>(resolutionMs: number): SkipRule<V> {
  const material = (value: V) => ({ ...value.reported.report, seenAt: undefined });
  return {
    sameMaterial: (a, b) => isDeepStrictEqual(material(a), material(b)),
    seenAt: (value) => Date.parse(value.reported.report.seenAt),
    resolutionMs,
  };
}
