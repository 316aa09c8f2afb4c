import {
  compareVersions,
  parseVersion,
  softwareLine,
  type VersionControlPolicy,
} from '@sup/contracts';

/** A published agent (or relay) build of one platform. */
export interface PublishedBuild {
  updateId: string;
  version: string;
  sha256: string;
  size: number;
}

export interface VersionControlSetting {
  policy: VersionControlPolicy;
  updateId?: string;
  lag?: number;
}

export type VersionResolution<B extends PublishedBuild = PublishedBuild> =
  | { ok: true; build: B }
  | { ok: false; code: 'no-published-build' | 'not-enough-lines' | 'pinned-not-published' };

/** Builds newest first; builds whose version cannot be read as a software version are left out. */
export function newestFirst<B extends PublishedBuild>(builds: readonly B[]): B[] {
  return builds
    .filter((b) => parseVersion('software', b.version).ok)
    .sort((a, b) => compareVersions('software', b.version, a.version));
}

/**
 * The build a version-control setting gives agents now, from the published builds of their
 * platform. `lag: n` is the newest build of the `major.minor` line n lines below the newest line
 * (n-1, n-2); when fewer lines exist nothing qualifies, so agents keep what they run rather than
 * being moved to a line the operator did not ask for.
 */
export function resolveVersionControl<B extends PublishedBuild>(
  setting: VersionControlSetting,
  builds: readonly B[],
): VersionResolution<B> {
  const sorted = newestFirst(builds);
  if (setting.policy === 'pinned') {
    const pinned = builds.find((b) => b.updateId === setting.updateId);
    return pinned ? { ok: true, build: pinned } : { ok: false, code: 'pinned-not-published' };
  }
  if (sorted.length === 0) return { ok: false, code: 'no-published-build' };
  if (setting.policy === 'latest') return { ok: true, build: sorted[0] };
  const lines: string[] = [];
  for (const b of sorted) {
    const line = softwareLine(b.version);
    if (!lines.includes(line)) lines.push(line);
  }
  const wanted = lines[setting.lag ?? 0];
  if (wanted === undefined) return { ok: false, code: 'not-enough-lines' };
  return { ok: true, build: sorted.find((b) => softwareLine(b.version) === wanted)! };
}
