/**
 * Who holds a stored blob (content-addressed by SHA-256). Imports acquire before they store and
 * the janitor releases when an update is rejected; the last release marks the blob `deleting`,
 * and while it is marked nobody may acquire it, so the janitor never deletes bytes that an import
 * is about to rely on. Transitions are pure (compare-and-set retries them).
 */
export interface ArtifactRefs {
  holders: string[];
  deleting?: true;
}

export class BlobBeingDeletedError extends Error {
  constructor(readonly key: string) {
    super(`stored bytes ${key} are being deleted; the import is retried once they are gone`);
    this.name = 'BlobBeingDeletedError';
  }
}

export function acquireRef(
  key: string,
  current: ArtifactRefs | undefined,
  holder: string,
): ArtifactRefs | undefined {
  if (current?.deleting) throw new BlobBeingDeletedError(key);
  if (current?.holders.includes(holder)) return undefined;
  return { holders: [...(current?.holders ?? []), holder] };
}

/**
 * Drops `holder`; with nobody left the blob is marked for deletion. Bytes nobody ever acquired
 * (stored before references were kept) are marked too: an import that wants them now must wait.
 */
export function releaseRef(
  current: ArtifactRefs | undefined,
  holder: string,
): ArtifactRefs | undefined {
  if (!current) return { holders: [], deleting: true };
  if (current.deleting) return undefined;
  const holders = current.holders.filter((h) => h !== holder);
  if (holders.length === current.holders.length) return undefined;
  return holders.length ? { holders } : { holders, deleting: true };
}
