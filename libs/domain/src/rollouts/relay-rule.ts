import { compareVersions, parseVersion } from '@sup/contracts';

export interface ServingRelay {
  relayId: string;
  /** The relay build it last reported. */
  version: string;
}

/**
 * The relays a rollout to `targetVersion` would put agents above: those running an older build.
 * A relay whose version cannot be read counts as older, since nothing shows it is not.
 * Sorted by id, so the answer (and the 409 naming them) is stable.
 */
export function relaysOlderThan(targetVersion: string, relays: readonly ServingRelay[]): string[] {
  return relays
    .filter(
      (r) =>
        !parseVersion('software', r.version).ok ||
        compareVersions('software', r.version, targetVersion) < 0,
    )
    .map((r) => r.relayId)
    .sort();
}

/** Whether a relay's reported build lets it serve agents of `targetVersion` (same or newer). */
export function relayReady(targetVersion: string, relayVersion: string): boolean {
  return (
    parseVersion('software', relayVersion).ok &&
    compareVersions('software', relayVersion, targetVersion) >= 0
  );
}
