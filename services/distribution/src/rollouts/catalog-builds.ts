import type { ResolvedBuild } from '@sup/contracts';
import type { PublishedBuild } from '@sup/domain';
import type { CatalogEntry } from '../schemas';

/** A catalog entry of a software build as version control and rollouts compare builds. */
export function buildOf(entry: CatalogEntry): PublishedBuild {
  const { artifact } = entry.update as { artifact: { sha256: string; size: number } };
  return {
    updateId: entry._id,
    version: entry.version,
    sha256: artifact.sha256,
    size: artifact.size,
  };
}

export const resolvedOf = (b: PublishedBuild): ResolvedBuild => ({
  updateId: b.updateId,
  version: b.version,
  sha256: b.sha256,
  size: b.size,
});
